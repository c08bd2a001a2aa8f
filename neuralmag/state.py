r"""The simulation state: mesh, tensors, materials and *dynamic attributes*.

Any attribute of a :class:`State` may be a value (a number, a backend tensor, a :class:`~neuralmag.Function`)
or a callable whose parameter names are other attributes::

    state.a = 1.0
    state.b = lambda a: 2.0 * a
    state.c = 5.0
    state.d = lambda b, c: b + c
    state.d            # 7.0

Reading a dynamic attribute evaluates its dependency graph. :meth:`State.resolve` turns that graph into one
pure function of chosen inputs, generated as straight-line Python source (no loops, no branches) so that it
jits (JAX) and differentiates (both backends)::

    d_of = state.resolve("d", ["a", "c"])
    print(d_of.source)
    # def d(a, c):
    #     b = _f_b(a)
    #     d = _f_d(b, c)
    #     return d

The generated function is built once per *dependency structure* and reused: assigning a new value to a value
attribute reuses it; replacing a value by a callable (or a callable by another) rebuilds it on next use.

Names with a double underscore live in namespaces: ``state.material.Ms`` is the attribute ``material__Ms``,
and callables refer to it by that name (``lambda material__Ms, t: ...``).
"""

from __future__ import annotations

import difflib
import inspect
import linecache
import numbers
import warnings
from itertools import count

import numpy as np

from neuralmag.backends import get_backend
from neuralmag.config import config
from neuralmag.functions import CellFunction, Function, VectorFunction
from neuralmag.mesh import Mesh

__all__ = ["State", "ResolvedFunction"]

_NAMESPACES = ("material",)
_RESERVED = ("mesh", "backend", "dtype", "device")
#: material coefficients that may also be given per node (a nodal Function or a tensor of the node shape):
#: they only enter nodal-rule kernels (the LLG torque, thermal noise, spin torques), where a nodal value is exact
NODAL_MATERIALS = ("material__alpha", "material__gamma")
_source_ids = count()


def _is_dynamic(value) -> bool:
    return callable(value) and not isinstance(value, (Function, type))


def _parameters(name: str, func) -> list[str]:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError) as err:
        raise TypeError(f"Cannot inspect the parameters of dynamic attribute {name!r}.") from err
    names = []
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise TypeError(
                f"Dynamic attribute {name!r} takes *args/**kwargs; its parameters must be named state attributes."
            )
        names.append(p.name)
    return names


class Namespace:
    """Attribute proxy for ``state.<namespace>.<name>`` (stored as ``<namespace>__<name>``)."""

    def __init__(self, state: "State", prefix: str):
        object.__setattr__(self, "_state", state)
        object.__setattr__(self, "_prefix", prefix)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self._state._get(f"{self._prefix}__{name}")

    def __setattr__(self, name, value):
        self._state._set(f"{self._prefix}__{name}", value)

    def __dir__(self):
        p = f"{self._prefix}__"
        return [k[len(p):] for k in self._state._attrs if k.startswith(p)]


class ResolvedFunction:
    """A generated pure function of ``inputs`` computing attribute ``name`` (see :meth:`State.resolve`).

    Attributes:
        name: the attribute computed.
        inputs: names of the positional arguments.
        constants: names of the other leaves of the dependency graph, bound to their values at resolve time.
        source: the generated Python source of the function of ``inputs + constants``.
    """

    def __init__(self, name, inputs, constants, source, func, bound):
        self.name, self.inputs, self.constants, self.source = name, list(inputs), list(constants), source
        self._func = func
        self._bound = tuple(bound)

    def __call__(self, *args):
        if len(args) != len(self.inputs):
            raise TypeError(f"{self.name}() takes {len(self.inputs)} inputs {self.inputs}, got {len(args)}.")
        return self._func(*args, *self._bound)

    def __repr__(self) -> str:
        return f"<ResolvedFunction {self.name}({', '.join(self.inputs)})>"


class _Generated:
    """Cached generated code for one (name, inputs) pair at one structure version."""

    def __init__(self, version, args, constants, source, raw, jitted):
        self.version, self.args, self.constants, self.source = version, args, constants, source
        self.raw, self.jitted, self.use_jit = raw, jitted, jitted is not raw

    def call(self, backend, args):
        if self.use_jit:
            try:
                return self.jitted(*args)
            except backend.trace_errors as err:
                warnings.warn(
                    f"Could not jit the resolved function (a dynamic attribute is not traceable: {err}); "
                    "running it eagerly.", stacklevel=3)
                self.use_jit = False
        return self.raw(*args)


class State:
    r"""Holds the mesh, the magnetisation ``m``, time ``t``, materials and any dynamic attributes.

    Args:
        mesh: the :class:`~neuralmag.Mesh`.
        backend, dtype, device: default to ``nm.config`` at construction time and are fixed afterwards.

    Default attributes: ``t = 0`` (s), ``dx`` (cell size tensor, m) and ``rho`` (region density, a
    :class:`~neuralmag.CellFunction` of ones: 1 in magnetic cells, 0 outside; every ``nm.dV`` is weighted by it).
    """

    def __init__(self, mesh: Mesh, backend: str | None = None, dtype: str | None = None, device=None):
        if not isinstance(mesh, Mesh):
            raise TypeError(f"State needs an nm.Mesh, got {type(mesh).__name__}.")
        be = get_backend(backend or config.backend)
        dtype_name = dtype or config.dtype
        if dtype_name not in ("float32", "float64"):
            raise ValueError(f"Unknown dtype {dtype_name!r}; valid values are: 'float32', 'float64'.")
        be.setup(dtype_name)
        object.__setattr__(self, "mesh", mesh)
        object.__setattr__(self, "backend", be)
        object.__setattr__(self, "dtype_name", dtype_name)
        object.__setattr__(self, "dtype", be.dtype(dtype_name))
        object.__setattr__(self, "device", be.device(device if device is not None else config.device))
        object.__setattr__(self, "jit", config.jit)
        object.__setattr__(self, "_attrs", {})
        object.__setattr__(self, "_version", 0)
        object.__setattr__(self, "_generated", {})
        self.t = 0.0
        self.dx = mesh.dx
        self.rho = CellFunction(self).fill(1.0)

    # ------------------------------------------------------------------ tensors
    def tensor(self, value):
        """``value`` as a backend tensor of this state's dtype and device (boolean arrays stay boolean)."""
        if isinstance(value, Function):
            value = value.tensor  # converted below: it may come from a state of another backend or dtype
        if self.backend.is_tensor(value):
            if "bool" in str(value.dtype):
                return value
            return self.backend.tensor(value, self.dtype, self.device)
        array = np.array(value)  # a copy: the tensor never aliases the caller's array (torch.as_tensor would)
        dtype = None if array.dtype == bool else self.dtype
        return self.backend.tensor(array, dtype, self.device)

    def to_numpy(self, value) -> np.ndarray:
        if isinstance(value, Function):
            return value.numpy()
        if self.backend.is_tensor(value):
            return self.backend.to_numpy(value)
        return np.asarray(value)

    def coordinates(self, spaces: str | None = None, numpy: bool = False):
        """Coordinates ``(x, y, z)`` (m) of the nodes (``"n"``) or cell centres (``"c"``) as full arrays.

        ``spaces`` is one character per axis or a single one for all axes (default nodal). Axes missing in
        1D/2D meshes give the mid-thickness coordinate.
        """
        mesh = self.mesh
        spaces = spaces or "n"
        if len(spaces) == 1:
            spaces = spaces * mesh.dim
        shape = mesh.shape(spaces)
        axes = []
        for k in range(3):
            if k < mesh.dim:
                offset = 0.0 if spaces[k] == "n" else 0.5
                axes.append(mesh.origin[k] + (np.arange(shape[k]) + offset) * mesh.dx[k])
            else:
                axes.append(np.array([mesh.origin[k] + 0.5 * mesh.dx[k]]))
        grids = np.meshgrid(*axes, indexing="ij")
        grids = [g.reshape(shape) for g in grids]
        return tuple(grids) if numpy else tuple(self.tensor(g) for g in grids)

    # ------------------------------------------------------------------ attribute protocol
    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in _NAMESPACES:
            return Namespace(self, name)
        return self._get(name)

    def __setattr__(self, name, value):
        if name in _RESERVED or name in ("dtype_name", "jit"):
            raise AttributeError(f"State.{name} is fixed at construction.")
        if name in _NAMESPACES:
            raise AttributeError(f"Set attributes of state.{name} individually, e.g. state.{name}.Ms = 8e5.")
        self._set(name, value)

    def __delattr__(self, name):
        if name not in self._attrs:
            raise self._unknown(name)
        del self._attrs[name]
        object.__setattr__(self, "_version", self._version + 1)

    def __contains__(self, name: str) -> bool:
        return name in self._attrs

    def __dir__(self):
        return list(super().__dir__()) + [k for k in self._attrs if "__" not in k] + list(_NAMESPACES)

    def attributes(self) -> list[str]:
        """Names of all attributes (namespaced ones as ``material__Ms``)."""
        return sorted(self._attrs)

    def is_dynamic(self, name: str) -> bool:
        return _is_dynamic(self._attrs[name]) if name in self._attrs else False

    def _unknown(self, name: str) -> AttributeError:
        close = difflib.get_close_matches(name, list(self._attrs), n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        return AttributeError(f"State has no attribute {name!r}.{hint}")

    def _set(self, name: str, value):
        if not name.isidentifier():
            raise AttributeError(f"{name!r} is not a valid attribute name.")
        old = self._attrs.get(name)
        if _is_dynamic(value):
            _parameters(name, value)  # check the signature now
            stored = value
        else:
            stored = self._convert(name, value)
        if _is_dynamic(value) or _is_dynamic(old) or name not in self._attrs or not _is_leaf_value(stored):
            object.__setattr__(self, "_version", self._version + 1)
        self._attrs[name] = stored

    def _convert(self, name: str, value):
        """Validate and convert values of the attributes that have a meaning (m, t, dx, rho, material__*)."""
        if isinstance(value, Function) and value.state is not self:  # rebind to this state's backend/dtype
            value = Function(self, value.spaces, value.shape, tensor=value.tensor)
        if name == "m":
            return self._convert_m(value)
        if name in ("t",):
            return self.tensor(value)
        if name == "dx":
            if self.backend.dx_as_numbers and self.backend.is_tensor(value) and self.backend.records_gradient(value):
                raise ValueError(f"The {self.backend.name} kernels read the cell size dx as numbers, so no gradient "
                                 "with respect to it can be taken; pass dx without requires_grad (or use the JAX "
                                 "backend).")
            return self.tensor(value)
        if name in NODAL_MATERIALS and self._is_nodal(value):
            return value if isinstance(value, Function) else Function(self, "n" * self.mesh.dim, tensor=value)
        if name == "rho" or name.startswith("material__"):
            f = self._cell_function(name, value)
            if name == "material__Ms":
                ms = f.numpy()
                if np.isnan(ms).any() or (ms < 0).any():
                    raise ValueError("material.Ms must be non-negative and not NaN.")
            return f
        if isinstance(value, Function) or self.backend.is_tensor(value) or isinstance(value, numbers.Number):
            return value
        if isinstance(value, np.ndarray) or (
                isinstance(value, (tuple, list)) and all(isinstance(v, numbers.Number) for v in value)):
            return self.tensor(value)
        return value

    def _is_nodal(self, value) -> bool:
        """A nodal scalar: a Function on the nodes, or a tensor of the node shape that is not also the cell shape
        (on a mesh periodic along every axis the two coincide; pass a nodal Function there)."""
        mesh = self.mesh
        if isinstance(value, Function):
            return value.spaces == "n" * mesh.dim and value.shape == ()
        if isinstance(value, numbers.Number) or not hasattr(value, "shape"):
            return False
        shape = tuple(value.shape)
        return shape == mesh.shape("n" * mesh.dim) and shape != mesh.n

    def spaces_of(self, name: str) -> str:
        """The spaces (``"ccc"``, ``"nnn"``, ...) of attribute ``name``; dynamic attributes are read from their
        declared output (``nm_output``) or evaluated once."""
        if name not in self._attrs:
            raise self._unknown(name)
        value = self._attrs[name]
        if _is_dynamic(value):
            output = getattr(value, "nm_output", None)
            if output is not None:
                return output[0] * self.mesh.dim if len(output[0]) == 1 else output[0]
            value = self._get(name)
        if isinstance(value, Function):
            return value.spaces
        if self._is_nodal(value):
            return "n" * self.mesh.dim
        return "c" * self.mesh.dim

    def _cell_function(self, name: str, value) -> Function:
        mesh = self.mesh
        if isinstance(value, Function):
            if value.spaces != "c" * mesh.dim:
                also = " or a nodal scalar function" if name in NODAL_MATERIALS else ""
                raise ValueError(f"{name} must be a cell function (spaces {'c' * mesh.dim!r}){also}, "
                                 f"got {value.spaces!r}.")
            return value
        t = self.tensor(value)
        shape = tuple(t.shape)
        if shape[: mesh.dim] == mesh.n and len(shape) >= mesh.dim:
            return Function(self, "c" * mesh.dim, shape[mesh.dim:], tensor=t)
        if len(shape) <= 1:  # a scalar or a constant vector (e.g. an anisotropy axis)
            return Function(self, "c" * mesh.dim, shape).fill(self.to_numpy(t))
        raise ValueError(f"{name} needs a scalar, a constant vector or a cell tensor of shape {mesh.n}+(...), "
                         f"got shape {shape}.")

    def _convert_m(self, value) -> Function:
        if isinstance(value, Function):
            if value.shape != (3,) or value.spaces != "n" * self.mesh.dim:
                raise ValueError(f"m must be a nodal vector function, got {value!r}.")
            f = VectorFunction(self, tensor=value.tensor)
        else:
            f = VectorFunction(self, tensor=value)
        host = None if self.backend.records_gradient(f.tensor) else self.to_numpy(f.tensor)
        if host is None:  # keep the normalisation on the autograd tape
            norm = self.backend.sqrt(self.backend.sum(f.tensor**2, [-1 + len(f.tensor_shape)]))
            norm_np = self.to_numpy(norm)
        else:  # on the host: one transfer instead of several small device operations (XLA compilations)
            norm_np = np.sqrt((host * host).sum(-1))
        magnetic = self._magnetic_nodes()
        if magnetic is not None and (norm_np[magnetic] == 0).any():
            raise ValueError("m has zero length at nodes where Ms > 0; it must be a direction there.")
        if not np.isfinite(norm_np).all():
            raise ValueError("m contains NaN or Inf.")
        if host is None:
            f.tensor = f.tensor / (norm + self.tensor((norm_np == 0).astype(float)))[..., None]
        else:
            f.tensor = self.tensor(host / (norm_np + (norm_np == 0))[..., None])
        return f

    def assign_m(self, tensor) -> None:
        """Set ``m`` from a tensor that is already a valid magnetisation (unit length where magnetic), as solvers
        and checkpoints produce: skips the validation of ``state.m = ...``, which copies to the host."""
        if _is_dynamic(self._attrs.get("m")):
            object.__setattr__(self, "_version", self._version + 1)
        self._attrs["m"] = VectorFunction(self, tensor=tensor)

    def _magnetic_nodes(self):
        """Boolean nodal mask of nodes touching a cell with Ms·rho > 0 (None if Ms is unknown or dynamic)."""
        ms, rho = self._attrs.get("material__Ms"), self._attrs.get("rho")
        if not isinstance(ms, Function) or not isinstance(rho, Function):
            return None
        cells = (ms.numpy() * rho.numpy()) > 0
        mesh = self.mesh
        nodes = np.zeros(mesh.shape("n" * mesh.dim), dtype=bool)
        for corner in np.ndindex(*(2,) * mesh.dim):
            idx = []
            for axis, offset in enumerate(corner):
                if mesh.pbc[axis]:
                    idx.append(slice(None))
                else:
                    idx.append(slice(offset, offset + mesh.n[axis]))
            shifted = cells
            for axis, offset in enumerate(corner):
                if mesh.pbc[axis] and offset:
                    shifted = np.roll(shifted, 1, axis=axis)
            nodes[tuple(idx)] |= shifted
        return nodes

    def _get(self, name: str):
        if name not in self._attrs:
            raise self._unknown(name)
        value = self._attrs[name]
        if not _is_dynamic(value):
            return value
        result = self._evaluate(name)
        output = getattr(value, "nm_output", None)
        if output is not None and self.backend.is_tensor(result):
            spaces, shape = output
            return Function(self, spaces * self.mesh.dim if len(spaces) == 1 else spaces, shape, tensor=result)
        return result

    def _leaf(self, name: str):
        value = self._attrs[name]
        return value.tensor if isinstance(value, Function) else value

    # ------------------------------------------------------------------ resolution
    def _dependency_order(self, name: str, inputs: tuple) -> tuple[list, list]:
        """Dynamic attributes to evaluate (topological order) and leaf names, starting from ``name``."""
        order, leaves, state, stack = [], [], {}, []

        def visit(n, requested_by):
            if n in inputs:
                return
            if n not in self._attrs:
                if requested_by is None:
                    raise self._unknown(n)
                close = difflib.get_close_matches(n, list(self._attrs), n=3)
                hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
                raise AttributeError(
                    f"Dynamic attribute {requested_by!r} has a parameter {n!r}, which is not an attribute of the "
                    f"state.{hint}"
                )
            if state.get(n) == "done":
                return
            if state.get(n) == "active":
                cycle = stack[stack.index(n):] + [n]
                raise RecursionError(f"Cyclic dependency between dynamic attributes: {' -> '.join(cycle)}.")
            value = self._attrs[n]
            if not _is_dynamic(value):
                state[n] = "done"
                leaves.append(n)
                return
            state[n] = "active"
            stack.append(n)
            for p in _parameters(n, value):
                visit(p, n)
            stack.pop()
            state[n] = "done"
            order.append(n)

        visit(name, None)
        return order, leaves

    def _foldable(self, order: list, inputs: tuple) -> tuple[set, list]:
        """Split the dynamic attributes of ``order`` into those that depend on ``inputs`` (returned as a set) and
        the *folded* ones the former read that do not (returned in order): a backend with ``fold_constants``
        computes those when the function is resolved, not inside it."""
        varying = set(inputs)
        for n in order:
            if any(p in varying for p in _parameters(n, self._attrs[n])):
                varying.add(n)
        read = {p for n in order if n in varying for p in _parameters(n, self._attrs[n])}
        return varying, [n for n in order if n not in varying and n in read]

    def _generate(self, name: str, inputs: tuple, fold: bool = True) -> _Generated:
        fold = fold and self.backend.fold_constants and bool(inputs)
        key = (name, inputs, "folded") if fold else (name, inputs)
        cached = self._generated.get(key)
        if cached is not None and cached.version == self._version:
            return cached
        for i in inputs:
            if i not in self._attrs:
                raise self._unknown(i)
        order, leaves = self._dependency_order(name, inputs)
        folded = []
        if fold:
            varying, folded = self._foldable(order, inputs)
            if name in varying:
                order = [n for n in order if n in varying]
                read = {p for n in order for p in _parameters(n, self._attrs[n])}
                leaves = [n for n in leaves if n in read]
            else:  # nothing depends on the inputs: nothing to fold either
                folded = []
        args = list(inputs) + leaves + folded
        namespace = {}
        lines = [f"def {name}({', '.join(args)}):"]
        for n in order:
            func = self._attrs[n]
            namespace[f"_f_{n}"] = func
            lines.append(f"    {n} = _f_{n}({', '.join(_parameters(n, func))})")
        lines.append(f"    return {name}")
        source = "\n".join(lines) + "\n"
        filename = f"<neuralmag-resolved-{next(_source_ids)}:{name}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), namespace)
        raw = namespace[name]
        jitted = self.backend.jit(raw) if self.jit and order else raw
        generated = _Generated(self._version, args, leaves + folded, source, raw, jitted)
        self._generated[key] = generated
        return generated

    def _records_gradient(self, names) -> bool:
        """Whether a leaf that one of the dynamic attributes ``names`` depends on records a gradient."""
        leaves = set()
        for n in names:
            leaves.update(self._dependency_order(n, ())[1])
        return any(self.backend.records_gradient(self._leaf(n)) for n in leaves)

    def resolve(self, name: str, inputs=()) -> ResolvedFunction:
        """A pure function of the attributes ``inputs`` computing attribute ``name``.

        Every other dependency is computed inside the function; the remaining leaves (values such as
        ``material__Ms`` or ``dx``) are bound to their *current* values. The function is generated as Python
        source (``.source``), jitted for JAX, and differentiable with ``jax.grad`` / ``torch.autograd``.

        On PyTorch (``backend.fold_constants``), dynamic attributes that do not depend on ``inputs`` (the
        coefficients of the generated field kernels: element weights, lumped masses, node sums of the
        materials) are computed here, once, and bound like the leaves, since eager execution would repeat them
        on every call. Where one of their leaves records a gradient they stay inside the function, so that
        repeated calls do not share one autograd graph.
        """
        inputs = tuple([inputs] if isinstance(inputs, str) else inputs)
        generated = self._generate(name, inputs)
        folded = [c for c in generated.constants if self.is_dynamic(c)]
        if folded and self._records_gradient(folded):
            generated = self._generate(name, inputs, fold=False)
        bound = self.values(generated.constants)
        func = generated.jitted if generated.use_jit else generated.raw
        return ResolvedFunction(name, inputs, generated.constants, generated.source, func, bound)

    def resolve_unbound(self, name: str, inputs=()):
        """Like :meth:`resolve`, but nothing is bound: returns ``(f, constants)`` where ``f(*inputs, *values)``
        takes the current values of the attributes named in ``constants`` (see :meth:`values`) as trailing
        arguments. Solvers use this to jit a whole integration once and still see changed values. Folded
        dynamic attributes (see :meth:`resolve`) are among ``constants``: :meth:`values` computes them."""
        inputs = tuple([inputs] if isinstance(inputs, str) else inputs)
        generated = self._generate(name, inputs)
        return generated.raw, list(generated.constants)

    def values(self, names) -> list:
        """Current values of the attributes ``names``: Functions as their tensors, dynamic attributes (folded
        constants of :meth:`resolve_unbound`) evaluated, as raw tensors or tuples."""
        return [self._evaluate(n) if self.is_dynamic(n) else self._leaf(n) for n in names]

    def _evaluate(self, name: str):
        generated = self._generate(name, ())
        return generated.call(self.backend, [self._leaf(c) for c in generated.constants])

    @property
    def structure_version(self) -> int:
        """Counter that changes whenever the dependency structure of the attributes changes."""
        return self._version

    # ------------------------------------------------------------------ misc
    def __repr__(self) -> str:
        return (f"State({self.mesh}, backend={self.backend.name!r}, dtype={self.dtype_name!r}, "
                f"attributes={self.attributes()})")

    # ------------------------------------------------------------------ files (see neuralmag.io)
    def write_vti(self, path, fields=("m",)):
        """Write ``fields`` to a VTK ``.vti`` file (:func:`neuralmag.io.write_vti`)."""
        from neuralmag.io.vtk import write_vti

        return write_vti(path, self, fields)

    def read_vti(self, path, fields=("m",)) -> dict:
        """Assign ``fields`` from a ``.vti`` file of the same mesh (:func:`neuralmag.io.vtk.read_vti_into`)."""
        from neuralmag.io.vtk import read_vti_into

        return read_vti_into(self, path, fields)

    def save(self, path, exclude=()):
        """Write a ``.npz`` checkpoint of all value attributes (:func:`neuralmag.io.save`)."""
        from neuralmag.io.checkpoint import save

        return save(self, path, exclude)

    @classmethod
    def load(cls, path, backend: str | None = None, dtype: str | None = None, device=None, warn: bool = True):
        """A new state from a checkpoint (:func:`neuralmag.io.load`); re-create dynamic attributes after."""
        from neuralmag.io.checkpoint import load

        return load(path, backend, dtype, device, warn)


def _is_leaf_value(value) -> bool:
    """Values passed to generated functions as arguments (changing them needs no regeneration)."""
    return isinstance(value, (Function, numbers.Number, np.ndarray)) or hasattr(value, "shape")
