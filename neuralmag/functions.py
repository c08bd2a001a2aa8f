r"""Discrete functions on a mesh: nodal and cell-wise, scalar or vector valued.

Layout: spatial axes first, components last. On a 3D mesh of ``n = (nx, ny, nz)`` cells a nodal vector field
has shape ``(nx+1, ny+1, nz+1, 3)`` and a cell scalar ``(nx, ny, nz)``; 2D and 1D meshes drop the missing axes.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["Function", "VectorFunction", "CellFunction"]


class Function:
    """A function on ``spaces`` (``"n"``/``"c"`` per mesh axis) with value shape ``shape``.

    Args:
        state: the :class:`~neuralmag.State` whose mesh, backend, dtype and device are used.
        spaces: e.g. ``"nnn"`` (nodal) or ``"ccc"`` (cell); default nodal.
        shape: value shape, ``()`` for scalars, ``(3,)`` for vectors.
        tensor: initial values (a backend tensor or anything array-like of the right shape); zeros if omitted.
    """

    def __init__(self, state, spaces: str | None = None, shape=(), tensor=None):
        self.state = state
        self.spaces = spaces or "n" * state.mesh.dim
        self.shape = tuple(shape)
        self.tensor_shape = state.mesh.shape(self.spaces) + self.shape
        if tensor is None:
            self.tensor = state.backend.zeros(self.tensor_shape, state.dtype, state.device)
        else:
            self.tensor = tensor

    # ------------------------------------------------------------------ values
    @property
    def tensor(self):
        """The values as a backend tensor (``jax.Array`` or ``torch.Tensor``)."""
        return self._tensor

    @tensor.setter
    def tensor(self, value):
        t = self.state.tensor(value)
        if tuple(t.shape) != self.tensor_shape:
            raise ValueError(
                f"A function on spaces {self.spaces!r} with value shape {self.shape} needs a tensor of shape "
                f"{self.tensor_shape}, got {tuple(t.shape)}."
            )
        self._tensor = t

    def fill(self, value, mask=None) -> "Function":
        """Set every value (or those in the boolean cell/node ``mask``) to ``value``; returns ``self``."""
        value = np.asarray(value, dtype=float)
        if value.shape not in ((), self.shape):
            raise ValueError(f"fill() needs a scalar or a value of shape {self.shape}, got {value.shape}.")
        full = np.broadcast_to(value, self.tensor_shape)
        if mask is None:
            self.tensor = full.copy()
            return self
        mask = np.asarray(self.state.to_numpy(mask) if not isinstance(mask, np.ndarray) else mask, dtype=bool)
        spatial = self.tensor_shape[: len(self.tensor_shape) - len(self.shape)]
        if mask.shape != spatial:
            raise ValueError(f"fill() mask must have the spatial shape {spatial}, got {mask.shape}.")
        values = self.numpy().copy()
        values[mask] = value
        self.tensor = values
        return self

    def numpy(self) -> np.ndarray:
        """A NumPy copy of the values."""
        return self.state.to_numpy(self.tensor)

    def avg(self):
        r"""Integral average :math:`\frac{1}{|\Omega|}\int_\Omega f\,\mathrm{d}V` over the mesh (per component).

        Nodal functions are integrated exactly for their multilinear interpolation: each cell contributes the
        mean of its corner values. Returns a backend tensor (differentiable).
        """
        t = self.tensor
        mesh = self.state.mesh
        for axis, space in enumerate(self.spaces):
            if space == "n" and not mesh.pbc[axis]:
                lo = tuple([slice(None)] * axis + [slice(None, -1)])
                hi = tuple([slice(None)] * axis + [slice(1, None)])
                t = 0.5 * (t[lo] + t[hi])
        return self.state.backend.sum(t, range(mesh.dim)) / mesh.num_cells

    # ------------------------------------------------------------------ conveniences
    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a.astype(dtype) if dtype is not None else a

    def __repr__(self) -> str:
        return f"{type(self).__name__}(spaces={self.spaces!r}, shape={self.shape}, tensor_shape={self.tensor_shape})"

    @classmethod
    def from_expression(cls, state, expression, spaces=None, shape=()):
        """Evaluate ``expression(x, y, z)`` on the coordinates of ``spaces`` (see :meth:`State.coordinates`)."""
        kwargs = {"spaces": spaces} if spaces is not None else {}
        if tuple(shape) != ():
            kwargs["shape"] = shape
        f = cls(state, **kwargs)
        x = state.coordinates(f.spaces)
        value = expression(*x)
        if isinstance(value, (tuple, list)):
            value = state.backend.stack([v + 0 * x[0] if isinstance(v, numbers.Number) else v for v in value], -1)
        f.tensor = value
        return f


class VectorFunction(Function):
    """A vector field, nodal by default: ``nm.VectorFunction(state).fill((1, 0, 0))``."""

    def __init__(self, state, spaces: str | None = None, tensor=None, shape=(3,)):
        super().__init__(state, spaces, shape, tensor)


class CellFunction(Function):
    """A cell-wise scalar (or ``shape``-valued) function, e.g. a material parameter or a region density."""

    def __init__(self, state, shape=(), tensor=None):
        super().__init__(state, "c" * state.mesh.dim, shape, tensor)
