r"""The form language: what users write in ``e_expr(m, dim)``.

Fields are SymPy objects in the Cartesian system :data:`N`:

* a **nodal** field (space ``"n"`` along every mesh axis) is a function of the coordinates, interpolated
  multilinearly inside each cell, so ``f.diff(N.x)`` is meaningful;
* a **cell** field (space ``"c"``) is constant inside each cell, so its derivatives vanish;
* vector-valued fields (``shape=(3,)``) are :class:`sympy.vector.Vector` objects supporting ``.dot``,
  ``.cross`` and ``.diff``.

The measure :func:`dV` marks the volume integral :math:`\int_\Omega \cdot\,\rho\,\mathrm{d}V` over the magnetic
region (:math:`\rho` is the region density ``state.rho``), :func:`dA` the surface integral used by
interface terms. An energy is written as ``integrand * nm.dV(dim)``.

Internally every field component is a SymPy symbol (cell fields) or an undefined function of the coordinates
(nodal fields) whose *name* carries its meaning, ``"<attribute>:<spaces>[:<component>]"``; see
:func:`encode` / :func:`decode`. This keeps forms hashable and picklable with no side registry.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.vector import CoordSys3D, Vector

__all__ = ["N", "Variable", "dV", "dA", "FieldRef", "encode", "decode", "coordinates", "magnetization", "test_function", "projected"]

#: The Cartesian coordinate system of all forms (``N.x``, ``N.y``, ``N.z``; unit vectors ``N.i``, ``N.j``, ``N.k``).
N = CoordSys3D("N")

_DV = sp.Symbol("dV")
_DA = sp.Symbol("dA")


@dataclass(frozen=True)
class FieldRef:
    """Decoded meaning of a form symbol: state attribute ``name`` on ``spaces``, vector ``component`` or None."""

    name: str
    spaces: str
    component: int | None

    @property
    def nodal(self) -> bool:
        return "n" in self.spaces


def encode(name: str, spaces: str, component: int | None = None) -> str:
    """Symbol name for component ``component`` of attribute ``name`` living on ``spaces``."""
    return f"{name}:{spaces}" if component is None else f"{name}:{spaces}:{component}"


def decode(symbol_name: str) -> FieldRef | None:
    """Inverse of :func:`encode`; ``None`` for names that are not field references (e.g. ``dV``)."""
    parts = symbol_name.split(":")
    if len(parts) not in (2, 3):
        return None
    component = int(parts[2]) if len(parts) == 3 else None
    return FieldRef(parts[0], parts[1], component)


def _check_spaces(spaces: str) -> None:
    if not spaces or len(spaces) > 3 or any(s not in "nc" for s in spaces):
        raise ValueError(f"Function spaces must be 1 to 3 characters of 'n' (nodal) or 'c' (cell), got {spaces!r}.")
    if len(set(spaces)) != 1:
        # mixed spaces (e.g. "nnc") are storable as functions but have no element interpolation in forms
        raise ValueError(
            f"Form variables must be nodal or cell-wise along every axis ('nnn', 'ccc', ...), got {spaces!r}."
        )


def coordinates(dim: int) -> tuple:
    """The coordinates a nodal field on a ``dim``-dimensional mesh depends on."""
    return (N.x, N.y, N.z)[:dim]


def _component(name: str, spaces: str, component: int | None):
    sym_name = encode(name, spaces, component)
    if spaces[0] == "n":
        return sp.Function(sym_name)(*coordinates(len(spaces)))
    return sp.Symbol(sym_name, real=True)


def Variable(name: str, spaces: str, shape: tuple = ()):
    """A field given by state attribute ``name`` (``"material__A"`` is ``state.material.A``).

    Args:
        name: attribute name; ``__`` separates namespaces.
        spaces: ``"n"`` or ``"c"`` per mesh axis, e.g. ``"ccc"`` for a cell-wise parameter of a 3D mesh.
        shape: ``()`` for a scalar, ``(3,)`` for a vector field (returned as a :class:`sympy.vector.Vector`).
    """
    _check_spaces(spaces)
    shape = tuple(shape)
    if shape == ():
        return _component(name, spaces, None)
    if shape == (3,):
        return sum((_component(name, spaces, j) * e for j, e in enumerate((N.i, N.j, N.k))), Vector.zero)
    raise ValueError(f"Variable shapes () and (3,) are supported, got {shape}.")


def magnetization(dim: int) -> Vector:
    """The unit magnetisation ``m`` (nodal vector field) handed to ``e_expr(m, dim)``."""
    return Variable("m", "n" * dim, (3,))


def projected(v: Vector) -> Vector:
    r""":math:`\mathbf{v}/|\mathbf{v}|`: the interpolant of a nodal unit field projected back onto the unit sphere.

    Inside a cell the multilinear interpolant of unit nodal vectors is shorter than 1 (by
    :math:`1-\cos(\Delta\theta/2)` halfway between two nodes that differ by the angle :math:`\Delta\theta`), so
    energies of the interpolant underestimate :math:`|\nabla\mathbf{m}|^2` and overestimate
    :math:`-(\mathbf{m}\cdot\mathbf{e})^2` where m turns by a large angle per cell. Written in terms of
    ``projected(m)`` the energy is that of a unit field; the integrand is then not a polynomial and needs a
    ``quadrature_degree``."""
    return v / sp.sqrt(v.dot(v))


def test_function(dim: int) -> Vector:
    """The vector test function ``v`` handed to ``l_expr(m, v, dim)`` for fields given as linear forms."""
    return Variable("v", "n" * dim, (3,))


def dV(dim: int, region: str = "rho"):
    r"""Volume measure :math:`\rho\,\mathrm{d}V` of a ``dim``-dimensional mesh, weighted by the cell-wise
    region density ``region`` (default ``state.rho``: 1 in magnetic cells, 0 outside)."""
    return Variable(region, "c" * dim) * _DV


def dA(dim: int = 3, region: str | None = None):
    r"""Surface measure :math:`\mathrm{d}A` over the xy extent of a 3D mesh, for interface terms.

    A surface form lives on node layers: its fields are two-dimensional (spaces ``"nn"`` and ``"cc"``), and a
    term maps its nodal vector variables to node layers of ``m`` with the attribute ``surface_unknowns``
    (e.g. ``{"m1": 0, "m2": 4}``; see :class:`~neuralmag.field_terms.InterlayerExchangeField`). The optional
    ``region`` is a cell-wise 2D density weighting the integral.
    """
    if dim != 3:
        raise ValueError("Surface measures are defined on node layers of 3D meshes (dim=3).")
    return _DA if region is None else Variable(region, "cc") * _DA


def measures(expr) -> dict:
    """Split ``expr`` into ``{"dV": integrand, "dA": integrand}`` (missing measures omitted).

    Raises:
        ValueError: if part of ``expr`` carries no measure, or a measure appears non-linearly.
    """
    result = {}
    for key, symbol in (("dV", _DV), ("dA", _DA)):
        coeff = sp.diff(expr, symbol)  # the form is linear in its measures, so this is the integrand
        if coeff != 0:
            if coeff.has(_DV, _DA):
                raise ValueError(f"The form is not linear in its measure {key}.")
            result[key] = coeff
    rest = expr.subs({_DV: 0, _DA: 0})
    if rest != 0:
        raise ValueError(
            "A form must be a sum of terms `integrand * nm.dV(dim)` (or `* nm.dA(dim)`); "
            f"found {rest} without a measure."
        )
    if not result:
        raise ValueError("The form has no measure: multiply the integrand by nm.dV(dim).")
    return result
