r"""Pass 1 and 2 of the form compiler: flatten a form to pointwise symbols, then take its first variation.

A form integrand depends on nodal fields :math:`u` (interpolated in each cell) and their gradients, and on
cell-wise parameters. *Flattening* replaces every nodal field component :math:`u_r(\mathbf{x})` by a plain
value symbol :math:`U_r` and every derivative :math:`\partial_k u_r` by a gradient symbol :math:`G_{r,k}`, so
the integrand becomes an ordinary algebraic expression :math:`e(U, G, p)`.

The *variation* of :math:`E = \int e\,\rho\,\mathrm{d}V` with respect to the magnetisation in direction
:math:`\mathbf{v}` is

.. math::
    \delta E[\mathbf{m}; \mathbf{v}] = \int \sum_j \frac{\partial e}{\partial M_j} v_j
        + \sum_{j,k} \frac{\partial e}{\partial G_{j,k}} \partial_k v_j \,\mathrm{d}V,

and the weak form of the effective field is :math:`\int \mu_0 M_s \mathbf{h}\cdot\mathbf{v}\,\mathrm{d}V =
L(\mathbf{v}) = -\delta E[\mathbf{m}; \mathbf{v}]`. A :class:`LinearForm` stores the pointwise coefficients
of :math:`v_j` and :math:`\partial_k v_j` in :math:`L`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp
from sympy.core.function import AppliedUndef

from neuralmag.forms.symbolic import N, FieldRef, decode

__all__ = ["FlatSymbols", "LinearForm", "flatten", "energy_variation", "linear_form"]

_AXES = (N.x, N.y, N.z)


@dataclass
class FlatSymbols:
    """Pointwise symbols of a flattened integrand and what they stand for."""

    values: dict = field(default_factory=dict)  # Symbol -> FieldRef of a nodal field component
    gradients: dict = field(default_factory=dict)  # Symbol -> (FieldRef, axis)
    cells: dict = field(default_factory=dict)  # Symbol -> FieldRef of a cell-wise field component

    def merge(self, other: "FlatSymbols") -> "FlatSymbols":
        return FlatSymbols({**self.values, **other.values}, {**self.gradients, **other.gradients},
                           {**self.cells, **other.cells})

    @property
    def nodal(self) -> list:
        """All symbols whose value varies inside a cell (nodal values and gradients)."""
        return list(self.values) + list(self.gradients)


def value_symbol(ref: FieldRef) -> sp.Symbol:
    return sp.Symbol(f"{ref.name}:{ref.spaces}" + ("" if ref.component is None else f":{ref.component}"), real=True)


def gradient_symbol(ref: FieldRef, axis: int) -> sp.Symbol:
    return sp.Symbol(f"d{'xyz'[axis]}({value_symbol(ref).name})", real=True)


def flatten(expr) -> tuple[sp.Expr, FlatSymbols]:
    """Replace nodal fields and their first derivatives by plain symbols (see module docstring)."""
    symbols = FlatSymbols()
    replacements = {}
    # sorted: set order follows the hash seed, and the symbol order fixes the printed kernel source
    for deriv in sorted(expr.atoms(sp.Derivative), key=sp.default_sort_key):
        func = deriv.expr
        ref = decode(func.func.__name__) if isinstance(func, AppliedUndef) else None
        if ref is None or len(deriv.variable_count) != 1 or deriv.variable_count[0][1] != 1:
            raise ValueError(
                f"Forms may contain first derivatives of nodal fields only (multilinear elements); got {deriv}."
            )
        axis = _AXES.index(deriv.variable_count[0][0])
        sym = gradient_symbol(ref, axis)
        symbols.gradients[sym] = (ref, axis)
        replacements[deriv] = sym
    expr = expr.xreplace(replacements)
    for func in sorted(expr.atoms(AppliedUndef), key=sp.default_sort_key):
        ref = decode(func.func.__name__)
        if ref is None:
            raise ValueError(f"Unknown function {func} in form; use nm.Variable for fields.")
        sym = value_symbol(ref)
        symbols.values[sym] = ref
        replacements[func] = sym
    expr = expr.xreplace(replacements)
    for sym in sorted(expr.free_symbols, key=sp.default_sort_key):
        if sym in symbols.values or sym in symbols.gradients:
            continue
        if sym in _AXES:
            raise ValueError("Forms may not use the coordinates N.x, N.y, N.z explicitly; use a nodal Variable.")
        ref = decode(sym.name)
        if ref is None:
            raise ValueError(f"Symbol {sym} in form is not a field; create parameters with nm.Variable.")
        symbols.cells[sym] = ref
    return expr, symbols


@dataclass
class LinearForm:
    r"""Pointwise coefficients of :math:`L(\mathbf{v}) = \int \sum_j f_j v_j + \sum_{jk} F_{jk} \partial_k v_j`."""

    f: list  # 3 expressions
    F: list  # 3 x 3 expressions, F[j][k]
    symbols: FlatSymbols

    def is_zero(self) -> bool:
        return all(x == 0 for x in self.f) and all(x == 0 for row in self.F for x in row)


def _components(symbols: FlatSymbols, name: str):
    """Value and gradient symbols of the three components of nodal vector field ``name``."""
    values, grads = [None] * 3, [[None] * 3 for _ in range(3)]
    spaces = None
    for ref in list(symbols.values.values()) + [r for r, _ in symbols.gradients.values()]:
        if ref.name == name:
            spaces = ref.spaces
    if spaces is None:
        return values, grads
    for j in range(3):
        ref = FieldRef(name, spaces, j)
        values[j] = value_symbol(ref)
        for k in range(3):
            grads[j][k] = gradient_symbol(ref, k)
    return values, grads


def energy_variation(integrand, unknown: str = "m") -> LinearForm:
    """:math:`L = -\\delta E` for the energy density ``integrand`` (already stripped of its measure)."""
    flat, symbols = flatten(integrand)
    values, grads = _components(symbols, unknown)
    f = [(-sp.diff(flat, values[j]) if values[j] is not None else sp.S.Zero) for j in range(3)]
    F = [[(-sp.diff(flat, grads[j][k]) if values[j] is not None else sp.S.Zero) for k in range(3)] for j in range(3)]
    return LinearForm(f, F, symbols)


def linear_form(integrand, test: str = "v") -> LinearForm:
    """Coefficients of a user-given linear form ``integrand`` in the test function ``test``."""
    flat, symbols = flatten(integrand)
    values, grads = _components(symbols, test)
    if values[0] is None:
        raise ValueError("The linear form does not contain the test function v.")
    test_symbols = set(values) | {g for row in grads for g in row}
    f = [sp.diff(flat, values[j]) for j in range(3)]
    F = [[sp.diff(flat, grads[j][k]) for k in range(3)] for j in range(3)]
    if any(c.free_symbols & test_symbols for c in f + [x for row in F for x in row]):
        raise ValueError("l_expr must be linear in the test function v.")
    if sp.simplify(flat.xreplace({s: 0 for s in test_symbols})) != 0:
        raise ValueError("l_expr has a part without the test function v.")
    # the test function itself is no input of the kernel
    for table in (symbols.values, symbols.gradients):
        for sym in [s for s in table if s in test_symbols]:
            del table[sym]
    return LinearForm(f, F, symbols)
