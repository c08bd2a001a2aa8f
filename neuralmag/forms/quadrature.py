r"""Pass 3 of the form compiler: integrate pointwise forms over the reference cell.

The reference cell is :math:`[0,1]^d` with local nodes :math:`a \in \{0,1\}^d` and multilinear basis
functions :math:`\varphi_a(\xi) = \prod_k \xi_k^{a_k}(1-\xi_k)^{1-a_k}`. A nodal field is
:math:`u(\xi) = \sum_a u_a \varphi_a(\xi)` and :math:`\partial_{x_k} u = \Delta x_k^{-1} \partial_{\xi_k} u`;
cell fields are constant. The cell volume is :math:`|C| = \Delta x\,\Delta y\,\Delta z` in every dimension
(lower-dimensional meshes are integrated over their thickness, on which nothing depends).

Results are *element expressions* in local symbols: ``<field>@<a>`` for the value of a nodal field at local
node ``a``, cell symbols, and ``dx:k`` for the cell size. Two integration strategies:

* **exact tensor-product integration** when the pointwise coefficients are affine in the nodal fields (exchange,
  DMI, uniaxial anisotropy of first order, Zeeman, ...): the element vector is an element matrix of rational
  numbers and cell sizes applied to the nodal values, with no quadrature points at all;
* **Gauss quadrature** otherwise, with :math:`n_k = \lceil (p_k+1)/2 \rceil` points along axis :math:`k`, where
  :math:`p_k` is the polynomial degree of the integrand along that axis (exact for polynomials), or a given
  ``quadrature_degree`` for non-polynomial integrands;
* the **nodal rule** (``quadrature_degree="nodal"``: the 2^d corners, weight 1/2^d each) for forms without
  derivatives: it is the mass-lumped integral, so local fields (Zeeman, anisotropies) become exactly local,
  :math:`\mathbf{h}_n = \mathbf{f}(\mathbf{m}_n)` where the material is uniform, consistent with an energy
  integrated by the same rule. When the pointwise coefficients separate into a few cell factors times
  node factors, :math:`f_j = \sum_k C_k(\text{cell})\,N_{kj}(\mathbf{u})` (the LLG torque: two; Zeeman: one),
  the nodal rule's assembled vector is :math:`\sum_k \bigl(\sum_{C\ni n} C_k |C|/2^d\bigr) N_{kj}(\mathbf{u}_n)`:
  the node factors are evaluated once per node instead of once per cell corner
  (:attr:`ElementExpressions.separable`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from fractions import Fraction
from math import ceil, factorial

import numpy as np
import sympy as sp

from neuralmag.forms.variation import FlatSymbols, LinearForm, value_symbol

__all__ = ["ElementExpressions", "integrate_linear_form", "integrate_energy", "local_nodes", "dx_symbol",
           "local_symbol", "DEFAULT_NONPOLYNOMIAL_DEGREE"]

#: per-axis polynomial degree assumed for integrands that are not polynomial (sqrt, exp, ...)
DEFAULT_NONPOLYNOMIAL_DEGREE = 4


def _number(x: float) -> sp.Expr:
    """A float coefficient as a SymPy number: exact when it is a short binary fraction (0.25, -1.0)."""
    if float(x * 1024).is_integer():
        return sp.Rational(int(x * 1024), 1024)
    return sp.Float(x, 17)


def dx_symbol(k: int) -> sp.Symbol:
    return sp.Symbol(f"dx:{k}", positive=True)


def cell_volume():
    return dx_symbol(0) * dx_symbol(1) * dx_symbol(2)


def local_nodes(dim: int) -> list[tuple[int, ...]]:
    """Local nodes of the reference cell in a fixed order (``(0,0,0), (0,0,1), ...``)."""
    return list(itertools.product((0, 1), repeat=dim))


def local_symbol(value_sym: sp.Symbol, node: tuple[int, ...]) -> sp.Symbol:
    """The value of the nodal field component ``value_sym`` at local node ``node``."""
    return sp.Symbol(f"{value_sym.name}@{''.join(map(str, node))}", real=True)


@dataclass
class ElementExpressions:
    """Output of the quadrature pass.

    ``temporaries`` are ``(symbol, expression)`` pairs to evaluate in order; ``vector[(a, j)]`` is the
    element vector entry of local node ``a`` and component ``j`` (``j=None`` for scalar outputs);
    ``energy`` is the integral over the cell.
    """

    temporaries: list = field(default_factory=list)
    vector: dict = field(default_factory=dict)
    energy: sp.Expr | None = None
    locals: dict = field(default_factory=dict)  # local symbol -> (value symbol, node)
    cells: dict = field(default_factory=dict)  # cell symbol -> FieldRef
    strategy: str = ""
    #: nodal rule only: ``(cell_factors, node_factors, node_temporaries)`` with
    #: ``f_j = sum_k cell_factors[k] * node_factors[j][k]`` in pointwise symbols and the temporaries
    #: ``(symbol, expression)`` the node factors read (None when the coefficients do not separate into at most
    #: 2^d cell factors)
    separable: tuple | None = None


# ----------------------------------------------------------------------------------------------- degrees
def _axis_degrees(expr, degrees: dict, dim: int):
    """Per-axis polynomial degree of ``expr`` in xi, or None if not polynomial in the nodal symbols."""
    zero = (0,) * dim
    if expr in degrees:
        return degrees[expr]
    if expr.is_Number or not (expr.free_symbols & set(degrees)):
        return zero
    if expr.is_Add:
        parts = [_axis_degrees(a, degrees, dim) for a in expr.args]
        return None if None in parts else tuple(map(max, zip(*parts)))
    if expr.is_Mul:
        parts = [_axis_degrees(a, degrees, dim) for a in expr.args]
        return None if None in parts else tuple(map(sum, zip(*parts)))
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 0:
        base = _axis_degrees(expr.base, degrees, dim)
        return None if base is None else tuple(int(expr.exp) * b for b in base)
    return None


def _points_per_axis(expr, symbols: FlatSymbols, dim: int, test_degree, quadrature_degree):
    if quadrature_degree is not None:
        return (ceil((quadrature_degree + 1) / 2),) * dim
    degrees = {s: (1,) * dim for s in symbols.values}
    for s, (_, axis) in symbols.gradients.items():
        degrees[s] = tuple(0 if k == axis else 1 for k in range(dim))
    p = _axis_degrees(expr, degrees, dim)
    if p is None:
        p = (DEFAULT_NONPOLYNOMIAL_DEGREE,) * dim
    return tuple(max(1, ceil((pk + tk + 1) / 2)) for pk, tk in zip(p, test_degree))


def gauss_legendre_01(n: int):
    """Gauss–Legendre points and weights on [0, 1] (exact for polynomials of degree 2n-1)."""
    x, w = np.polynomial.legendre.leggauss(n)
    return (x + 1) / 2, w / 2


def _basis_1d(bit: int, xi: float, derivative: bool) -> float:
    if derivative:
        return 1.0 if bit else -1.0
    return xi if bit else 1.0 - xi


def _basis(node, xi, deriv_axis=None):
    value = 1.0
    for k, (bit, x) in enumerate(zip(node, xi)):
        value *= _basis_1d(bit, x, k == deriv_axis)
    return value


def _nodal_points(dim):
    for node in local_nodes(dim):
        yield tuple(float(b) for b in node), 1.0 / 2**dim


def _check_nodal(symbols: FlatSymbols, exprs) -> None:
    grads = set(symbols.gradients)
    if any(e.free_symbols & grads for e in exprs):
        raise ValueError("The nodal quadrature rule is for forms without derivatives of nodal fields.")


def _quadrature_points(points_per_axis):
    rules = [gauss_legendre_01(n) for n in points_per_axis]
    for idx in itertools.product(*(range(n) for n in points_per_axis)):
        xi = tuple(rules[k][0][i] for k, i in enumerate(idx))
        w = float(np.prod([rules[k][1][i] for k, i in enumerate(idx)]))
        yield xi, w


def _interpolation(symbols: FlatSymbols, dim: int, xi, out: ElementExpressions) -> dict:
    """Substitution of pointwise symbols by their interpolants at reference point ``xi``."""
    nodes = local_nodes(dim)
    subs = {}
    for sym in symbols.values:
        subs[sym] = sp.Add(*[_number(_basis(a, xi)) * _local(out, sym, a) for a in nodes])
    for sym, (ref, axis) in symbols.gradients.items():
        if axis >= dim:
            subs[sym] = sp.S.Zero
            continue
        vsym = value_symbol(ref)
        subs[sym] = sp.Add(*[_number(_basis(a, xi, axis)) * _local(out, vsym, a) for a in nodes]) / dx_symbol(axis)
    return subs


def _temporary(out: ElementExpressions, q: int, expr) -> sp.Expr:
    """Name ``expr`` as a temporary of quadrature point ``q`` (plain symbols and numbers stay inline)."""
    if expr.is_Symbol or expr.is_Number:
        return expr
    t = sp.Symbol(f"q{q}_{len(out.temporaries)}", real=True)
    out.temporaries.append((t, expr))
    return t


def _point_values(subs: dict, out: ElementExpressions, q: int) -> dict:
    """Values and gradients of the nodal fields at quadrature point ``q`` as temporaries."""
    return {sym: _temporary(out, q, value) for sym, value in subs.items()}


def _local(out: ElementExpressions, value_sym, node):
    sym = local_symbol(value_sym, node)
    out.locals[sym] = (value_sym, node)
    return sym


# ------------------------------------------------------------------------------------------ exact strategy
def _beta(i: int, j: int) -> Fraction:
    """∫_0^1 ξ^i (1-ξ)^j dξ."""
    return Fraction(factorial(i) * factorial(j), factorial(i + j + 1))


def _exact_integral(factors, dim: int) -> sp.Expr:
    """∫ over the physical cell of a product of basis functions / derivatives.

    ``factors`` is a list of ``(node, deriv_axis_or_None)``; the result includes the Jacobian |C|/Δx_k per
    derivative.
    """
    result = Fraction(1)
    scale = cell_volume()
    for k in range(dim):
        i = j = 0
        sign = 1
        for node, deriv in factors:
            if deriv == k:
                sign *= 1 if node[k] else -1
            elif node[k]:
                i += 1
            else:
                j += 1
        result *= sign * _beta(i, j)
    for _, deriv in factors:
        if deriv is not None:
            scale = scale / dx_symbol(deriv)
    return sp.Rational(result.numerator, result.denominator) * scale


def _affine_parts(expr, nodal_symbols):
    """Split ``expr`` into ``constant + Σ c_s s`` over nodal symbols; None if not affine in them."""
    if not (expr.free_symbols & set(nodal_symbols)):
        return expr, {}
    try:
        poly = sp.Poly(expr, *nodal_symbols)
    except sp.PolynomialError:
        return None
    if poly.total_degree() > 1:
        return None
    coeffs = {}
    const = sp.S.Zero
    for monom, c in poly.terms():
        if sum(monom) == 0:
            const = c
        else:
            coeffs[nodal_symbols[monom.index(1)]] = c
    return const, coeffs


def _integrate_exact(form: LinearForm, dim: int, out: ElementExpressions) -> bool:
    nodal = form.symbols.nodal
    parts = {}
    for j in range(3):
        for k in [None] + list(range(dim)):
            expr = form.f[j] if k is None else form.F[j][k]
            split = _affine_parts(expr, nodal)
            if split is None:
                return False
            parts[(j, k)] = split
    nodes = local_nodes(dim)
    grad_of = form.symbols.gradients
    # pointwise coefficients (cell arrays) and geometric weights (scalars in dx) become named temporaries,
    # so that each entry reads  coefficient * (w0*u_000 + w1*u_001 + ...)
    coefficient_names: dict = {}
    weight_names: dict = {}

    def named(table, expr, prefix):
        if expr.is_Number or expr.is_Symbol:
            return expr
        if expr not in table:
            table[expr] = sp.Symbol(f"{prefix}{len(table)}", real=True)
            out.temporaries.append((table[expr], expr))
        return table[expr]

    for a in nodes:
        for j in range(3):
            groups: dict = {}
            for k in [None] + list(range(dim)):
                const, coeffs = parts[(j, k)]
                if const != 0:
                    groups.setdefault(const, []).append(_exact_integral([(a, k)], dim))
                for sym, c in coeffs.items():
                    if sym in grad_of:
                        ref, axis = grad_of[sym]
                        if axis >= dim:
                            continue
                        vsym, deriv = value_symbol(ref), axis
                    else:
                        vsym, deriv = sym, None
                    for b in nodes:
                        weight = _exact_integral([(a, k), (b, deriv)], dim)
                        if weight != 0:
                            groups.setdefault(c, []).append((weight, _local(out, vsym, b)))
            terms = []
            for c, entries in groups.items():
                by_local: dict = {}
                for entry in entries:
                    weight, local = entry if isinstance(entry, tuple) else (entry, sp.S.One)
                    by_local[local] = by_local.get(local, sp.S.Zero) + weight
                row = [named(weight_names, w, "w") * local for local, w in by_local.items() if w != 0]
                if row:
                    terms.append(named(coefficient_names, c, "k") * sp.Add(*row))
            if terms:
                out.vector[(a, j)] = sp.Add(*terms)
    out.strategy = "exact"
    return True


# ------------------------------------------------------------------------------------- quadrature strategy
def _integrate_gauss(form: LinearForm, dim: int, out: ElementExpressions, quadrature_degree) -> None:
    symbols = form.symbols
    pointwise = list(form.f) + [form.F[j][k] for j in range(3) for k in range(dim)]
    if quadrature_degree == "nodal":
        _check_nodal(symbols, pointwise)
        if any(form.F[j][k] != 0 for j in range(3) for k in range(dim)):
            raise ValueError("The nodal quadrature rule cannot integrate derivatives of the test function.")
        rule = _nodal_points(dim)
    else:
        points = _points_per_axis(sp.Add(*[p for p in pointwise if p != 0]), symbols, dim, (1,) * dim,
                                  quadrature_degree)
        rule = _quadrature_points(points)
    nodes = local_nodes(dim)
    acc = {(a, j): [] for a in nodes for j in range(3)}
    keys = [(j, k) for j in range(3) for k in [None] + list(range(dim))
            if (form.f[j] if k is None else form.F[j][k]) != 0]
    # common subexpressions of the pointwise coefficients (e.g. m·a), found once and evaluated per point
    shared, reduced = sp.cse([form.f[j] if k is None else form.F[j][k] for j, k in keys],
                             symbols=(sp.Symbol(f"s{i}", real=True) for i in range(10**9)), optimizations=None)
    for q, (xi, w) in enumerate(rule):
        point_syms = _point_values(_interpolation(symbols, dim, xi, out), out, q)
        for sym, expr in shared:
            point_syms[sym] = _temporary(out, q, expr.xreplace(point_syms))
        coeff = {key: _temporary(out, q, expr.xreplace(point_syms)) for key, expr in zip(keys, reduced)}
        for a in nodes:
            for (j, k), t in coeff.items():
                scale = 1 if k is None else 1 / dx_symbol(k)
                weight = _number(w * _basis(a, xi, k))
                if weight != 0:
                    acc[(a, j)].append(weight * scale * t)
    for key, terms in acc.items():
        if terms:
            out.vector[key] = cell_volume() * sp.Add(*terms)
    out.strategy = "nodal" if quadrature_degree == "nodal" else "gauss"
    if quadrature_degree == "nodal":
        out.separable = _separate(form.f, symbols, max_factors=2**dim)


def _separate(f, symbols: FlatSymbols, max_factors: int):
    r"""Split the pointwise coefficients ``f_j`` into ``sum_k C_k N_kj`` with cell-only factors ``C_k`` (numbers
    pulled out) and node factors ``N_kj``; None if there are more than ``max_factors`` distinct ``C_k``.

    Returns ``(cell_factors, node_factors, node_temporaries)``. Expanding ``f_j`` to find the ``C_k`` would
    also expand nested node expressions (the LLG double cross product becomes 12 cubic monomials per
    component), so the subexpressions of the unexpanded ``f_j`` that read nodal values only are first named
    (``node_temporaries``, in order, each over nodal symbols and earlier temporaries) and kept as atoms; a
    node factor equal to a temporary up to its sign is replaced by it. For the LLG torque this evaluates
    :math:`\mathbf m\times\mathbf h` once and :math:`\mathbf m\times(\mathbf m\times\mathbf h)` from it."""
    nodal = set(symbols.values)
    temporaries, f = _node_subexpressions(f, nodal)
    atoms = list(symbols.values) + [t for t, _ in temporaries]
    cell_factors, scales, node_factors = [], [], [dict() for _ in f]
    for j, fj in enumerate(f):
        for term in sp.Add.make_args(sp.expand(fj)):
            if term == 0:
                continue
            cell, node = term.as_independent(*atoms, as_Add=False)
            number, cell = cell.as_coeff_Mul()
            if cell not in cell_factors:
                cell_factors.append(cell)
                scales.append(abs(number))  # the first number of a factor goes with it (e.g. µ0)
                if len(cell_factors) > max_factors:
                    return None
            k = cell_factors.index(cell)
            ratio = number / scales[k]
            if abs(float(ratio) - round(float(ratio))) < 1e-12:  # ±1, ±2 (µ0 moved into the cell factor)
                ratio = sp.Integer(round(float(ratio)))
            node_factors[j][k] = node_factors[j].get(k, 0) + ratio * node
    cell_factors = [scale * c for scale, c in zip(scales, cell_factors)]
    node_factors = [{k: _reuse_temporary(sp.factor_terms(v), temporaries) for k, v in nf.items()}
                    for nf in node_factors]
    used = set().union(*(v.free_symbols for nf in node_factors for v in nf.values()))
    needed = set(used)  # the temporaries the node factors still read, with their inputs
    for t, expr in reversed(temporaries):
        if t in needed:
            needed |= expr.free_symbols
    kept = [(t, e) for t, e in temporaries if t in needed]
    renumber = {t: sp.Symbol(f"t{i}", real=True) for i, (t, _) in enumerate(kept)}  # t0, t1, ... without gaps
    temporaries = [(renumber[t], e.xreplace(renumber)) for t, e in kept]
    node_factors = [{k: v.xreplace(renumber) for k, v in nf.items()} for nf in node_factors]
    return cell_factors, node_factors, temporaries


def _node_subexpressions(f, nodal: set):
    """Common subexpressions of ``f`` (a list) that read only nodal symbols, as ``(temporaries, reduced f)``;
    subexpressions that also read cell fields are substituted back."""
    names = (sp.Symbol(f"t{i}", real=True) for i in range(10**9))
    shared, reduced = sp.cse(list(f), symbols=names, optimizations=None)
    temporaries, inline, node_only = [], {}, set(nodal)
    for sym, expr in shared:
        expr = expr.xreplace(inline)
        if expr.free_symbols <= node_only:
            temporaries.append((sym, expr))
            node_only.add(sym)
        else:
            inline[sym] = expr
    return temporaries, [r.xreplace(inline) for r in reduced]


def _reuse_temporary(factor, temporaries):
    """``factor``, or ``±t`` when it equals a temporary ``t`` up to the sign (compared fully expanded)."""
    if not temporaries or factor.is_Atom:
        return factor
    values = {}
    for t, expr in temporaries:
        values[t] = sp.expand(expr.xreplace(values))
    target = sp.expand(factor.xreplace(values))
    for t, _ in temporaries:
        if sp.expand(target - values[t]) == 0:
            return t
        if sp.expand(target + values[t]) == 0:
            return -t
    return factor


def integrate_linear_form(form: LinearForm, dim: int, quadrature_degree: int | None = None) -> ElementExpressions:
    """Element vectors :math:`L(\\varphi_a \\mathbf{e}_j)` of a linear form on the reference cell."""
    out = ElementExpressions(cells=dict(form.symbols.cells))
    if quadrature_degree is None and _integrate_exact(form, dim, out):
        return out
    out = ElementExpressions(cells=dict(form.symbols.cells))
    _integrate_gauss(form, dim, out, quadrature_degree)
    return out


def integrate_energy(integrand: sp.Expr, symbols: FlatSymbols, dim: int,
                     quadrature_degree: int | None = None) -> ElementExpressions:
    """Cell integral :math:`\\int_C e\\,\\mathrm{d}V` of a flattened energy density by Gauss quadrature."""
    out = ElementExpressions(cells=dict(symbols.cells))
    if quadrature_degree == "nodal":
        _check_nodal(symbols, [integrand])
        rule = _nodal_points(dim)
    else:
        rule = _quadrature_points(_points_per_axis(integrand, symbols, dim, (0,) * dim, quadrature_degree))
    terms = []
    for q, (xi, w) in enumerate(rule):
        point_syms = _point_values(_interpolation(symbols, dim, xi, out), out, q)
        terms.append(_number(w) * integrand.xreplace(point_syms))
    out.energy = cell_volume() * sp.Add(*terms)
    out.strategy = "nodal" if quadrature_degree == "nodal" else "gauss"
    return out
