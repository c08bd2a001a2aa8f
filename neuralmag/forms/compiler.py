r"""The form compiler: a pipeline of small passes from a SymPy form to backend source.

.. code-block:: text

    e_expr(m, dim) ──measures──► integrand ──variation──► linear form L(v) = −δE
         │                                                     │
         └──flatten──► quadrature (cell energy)                └──quadrature──► element vectors
                              │                                                      │
                              └──────────────► slice IR (Load/Assign/Accumulate) ◄───┘
                                                        │
                                                 backend printer ──► Python source ──► cache

:func:`compile_term` runs the passes and returns the kernels as IR; :func:`kernel_source` prints them for one
backend; :func:`load_kernels` goes through the on-disk cache and returns callables.

Generated functions take raw tensors named after state attributes, e.g. ``h(dx, m, material__A,
material__Ms, rho)``, so they can be registered directly as dynamic attributes of a :class:`~neuralmag.State`.
"""

from __future__ import annotations

import hashlib
import re
import linecache
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import sympy as sp

from neuralmag.forms import ir, quadrature, symbolic, variation
from neuralmag.forms.cache import KernelCache

__all__ = ["CompileOptions", "CompiledTerm", "compile_term", "kernel_source", "load_kernels"]


@dataclass(frozen=True)
class CompileOptions:
    """Everything besides the form that determines the generated code."""

    dim: int
    pbc: tuple = (False, False, False)
    quadrature_degree: int | str | None = None  # None: exact; int: Gauss degree; "nodal": lumped rule

    def __post_init__(self):
        q = self.quadrature_degree
        if not (q is None or q == "nodal" or (isinstance(q, int) and q >= 0)):
            raise ValueError(f"quadrature_degree must be None, a non-negative int or 'nodal', got {q!r}.")
        if self.dim not in (1, 2, 3):
            raise ValueError(f"Mesh dimension must be 1, 2 or 3, got {self.dim}.")
        object.__setattr__(self, "pbc", tuple(bool(p) for p in self.pbc)[: self.dim])


@dataclass
class CompiledTerm:
    """Kernels of one term as IR: ``kernels["h"]``, and for energies ``kernels["E"]`` and ``kernels["e"]``."""

    kernels: dict
    form: str  # printable form, for headers and docs
    strategy: str


def _forms_of(term, dim: int):
    """The energy form or the linear field form of ``term`` (an object with ``e_expr`` or ``l_expr``)."""
    m = symbolic.magnetization(dim)
    if getattr(term, "e_expr", None) is not None:
        return "energy", term.e_expr(m, dim)
    if getattr(term, "l_expr", None) is not None:
        return "linear", term.l_expr(m, symbolic.test_function(dim), dim)
    raise TypeError(f"{term!r} defines neither e_expr(m, dim) nor l_expr(m, v, dim).")


_compiled: dict = {}


def compile_term(term, options: CompileOptions) -> CompiledTerm:
    """Run the compiler passes for ``term`` and return its kernels as IR (memoised per form and options)."""
    kind, form = _forms_of(term, options.dim)
    key = (kind, sp.srepr(form), options, type(term).__qualname__)  # the name appears in docstrings
    if key not in _compiled:
        _compiled[key] = _compile(term, kind, form, options)
    return _compiled[key]


def _compile(term, kind, form, options: CompileOptions) -> CompiledTerm:
    parts = symbolic.measures(form)
    if set(parts) == {"dA"}:
        return _compile_surface(term, kind, parts["dA"], form, options)
    if set(parts) != {"dV"}:
        raise ValueError("A form integrates either over the volume (nm.dV) or over a surface (nm.dA), not both.")
    integrand = parts["dV"]
    dim, pbc, qdeg = options.dim, options.pbc + (False,) * (3 - options.dim), options.quadrature_degree
    name = type(term).__name__
    if kind == "energy":
        lform = variation.energy_variation(integrand)
    else:
        lform = variation.linear_form(integrand)
    element = quadrature.integrate_linear_form(lform, dim, qdeg)
    kernels = {"h": ir.lower_field(element, lform.symbols, dim, pbc,
                                   doc=f"Effective field of {name} (A/m) at the nodes.")}
    if kind == "energy":
        flat, symbols = variation.flatten(integrand)
        energy = quadrature.integrate_energy(flat, symbols, dim, qdeg)
        kernels["E"] = ir.lower_energy(energy, symbols, dim, pbc, doc=f"Energy of {name} (J).")
        kernels["e"] = ir.lower_energy(energy, symbols, dim, pbc, density=True, name="e",
                                       doc=f"Cell-averaged energy density of {name} (J/m^3).")
    return CompiledTerm(kernels, str(form), element.strategy)


def _area(element):
    """Turn cell-volume integrals of a 2D element into area integrals (the thickness factor dx_z becomes 1)."""
    one = {quadrature.dx_symbol(2): sp.S.One}
    element.temporaries = [(t, e.xreplace(one)) for t, e in element.temporaries]
    element.vector = {k: e.xreplace(one) for k, e in element.vector.items()}
    if element.energy is not None:
        element.energy = element.energy.xreplace(one)
    return element


def _compile_surface(term, kind, integrand, form, options: CompileOptions) -> CompiledTerm:
    r"""Surface forms: 2D elements on the xy plane, one weak-form vector :math:`-\partial E/\partial
    \mathbf{u}` per layer unknown ``u`` (kernel ``L_<u>``, J per unit m, not divided by a mass) and the energy."""
    unknowns = list(getattr(term, "surface_unknowns", None) or [])
    if kind != "energy" or options.dim != 3 or not unknowns:
        raise ValueError("Surface forms (nm.dA) must be energies of a 3D mesh whose term names its layer "
                         "unknowns in `surface_unknowns` (e.g. {'m1': 0, 'm2': 4}).")
    pbc, qdeg, name = options.pbc[:2] + (False,), options.quadrature_degree, type(term).__name__
    kernels, strategy = {}, ""
    for u in unknowns:
        lform = variation.energy_variation(integrand, unknown=u)
        element = _area(quadrature.integrate_linear_form(lform, 2, qdeg))
        kernels[f"L_{u}"] = ir.lower_field(element, lform.symbols, 2, pbc, name=f"L_{u}", unknown=u, lumped=False,
                                           doc=f"-dE/d{u} of {name} at the nodes of its layer (J per unit m).")
        strategy = element.strategy
    flat, symbols = variation.flatten(integrand)
    energy = _area(quadrature.integrate_energy(flat, symbols, 2, qdeg))
    kernels["E"] = ir.lower_energy(energy, symbols, 2, pbc, doc=f"Energy of {name} (J).")
    return CompiledTerm(kernels, str(form), strategy)


# ------------------------------------------------------------------------------------------ source and cache
@lru_cache(maxsize=None)
def _compiler_fingerprint() -> str:
    """Hash of the compiler's own source, so that cached kernels are regenerated when the compiler changes."""
    root = Path(__file__).resolve().parent
    files = sorted(root.glob("*.py")) + sorted((root.parent / "backends").rglob("*.py"))
    h = hashlib.sha256()
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()


def _printer(backend: str):
    from neuralmag.backends import get_backend

    return get_backend(backend).printer


def _form_key(term, options: CompileOptions, backend: str) -> str:
    kind, form = _forms_of(term, options.dim)
    text = "|".join([kind, sp.srepr(form), repr(options), backend, _compiler_fingerprint()])
    return hashlib.sha256(text.encode()).hexdigest()[:40]


_FROM_TERM = "from-term"


def _term_quadrature(term, quadrature_degree):
    return getattr(term, "quadrature_degree", None) if quadrature_degree == _FROM_TERM else quadrature_degree


def kernel_source(term, dim: int = 3, backend: str = "jax", pbc=(False, False, False),
                  quadrature_degree=_FROM_TERM) -> str:
    """Python source of the kernels of ``term`` (a field-term class or instance) for ``backend``.

    Example::

        print(nm.kernel_source(nm.ExchangeField, dim=3, backend="torch"))
    """
    if isinstance(term, type):
        term = term()
    options = CompileOptions(dim, tuple(pbc), _term_quadrature(term, quadrature_degree))
    compiled = compile_term(term, options)
    printer = _printer(backend)
    header = (f"# Generated by the NeuralMag form compiler for {type(term).__name__} "
              f"(dim={options.dim}, pbc={options.pbc}, backend={backend}, strategy={compiled.strategy}).\n"
              f"# Form: {compiled.form}\n")
    return header + printer.print_kernels(compiled.kernels)


_loaded: dict = {}


def load_kernels(term, dim: int, backend: str, pbc=(False, False, False), quadrature_degree=_FROM_TERM,
                 cache_dir: Path | None = None) -> dict:
    """Callables ``{"h": ..., "E": ..., "e": ...}`` of ``term`` (surface terms: ``{"L_<u>": ..., "E": ...}``),
    from memory, the disk cache, or compiled."""
    from neuralmag.backends import get_backend
    from neuralmag.config import config

    quadrature_degree = _term_quadrature(term, quadrature_degree)
    options = CompileOptions(dim, tuple(pbc), quadrature_degree)
    key = _form_key(term, options, backend)
    if key in _loaded:
        return _loaded[key]
    cache = KernelCache(cache_dir or config.cache_dir)
    source = cache.read(key)
    if source is None:
        source = kernel_source(term, dim, backend, pbc, quadrature_degree)
        path = cache.write(key, source)
    else:
        path = cache.path(key)
    filename = str(path) if path is not None else f"<neuralmag-kernel-{key}>"
    # tracebacks show the generated lines even if the file is removed later
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = dict(get_backend(backend).namespace())
    exec(compile(source, filename, "exec"), namespace)
    kernels = {name: namespace[name] for name in re.findall(r"^def (\w+)\(", source, re.MULTILINE)}
    for f in kernels.values():
        f.source = source
    _loaded[key] = kernels
    return kernels
