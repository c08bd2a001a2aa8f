r"""Pass 4 of the form compiler: lower element expressions to the backend-neutral *slice IR*.

A kernel is a straight-line list of statements over whole-mesh arrays:

* :class:`Load` – view of an input: the values of a nodal field at local node ``a`` of every cell are the
  slice ``u[:-1]`` (``a_k = 0``) or ``u[1:]`` (``a_k = 1``) along each axis (a roll on periodic axes), and
  vector components are the last index;
* :class:`Assign` – ``target = expression`` (SymPy expression over earlier targets);
* :class:`Zeros` – a zero array shaped like an input (or one of its components);
* :class:`Accumulate` – assembly: add a per-cell array into the nodes at local offset ``a``;
* :class:`Return` – the result.

There are no loops and no branches; the printers in :mod:`neuralmag.backends` turn each statement into one
line of JAX or PyTorch code. Special SymPy functions :data:`SUM` (total sum), :data:`IS_ZERO` (``x == 0`` as a
number) and :data:`LAST_AXIS` (``x[..., None]``) cover the few non-arithmetic operations.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import sympy as sp

from neuralmag.forms.quadrature import ElementExpressions, cell_volume, dx_symbol, local_nodes
from neuralmag.forms.symbolic import decode
from neuralmag.forms.variation import FlatSymbols

__all__ = ["Load", "Assign", "Zeros", "Unpack", "Accumulate", "Return", "Kernel", "Composed", "lower_field",
           "lower_energy", "batch_components", "divide_before_stack", "name_denominator", "split_coefficients", "reads",
           "SUM", "IS_ZERO", "LAST_AXIS", "STACK", "MU0"]



class SUM(sp.Function):
    """Sum over all entries of an array."""

    nargs = 1


class IS_ZERO(sp.Function):
    """1 where the argument vanishes, 0 elsewhere (used for safe division)."""

    nargs = 1


class STACK(sp.Function):
    """Stack the arguments along a new last axis (the three components of a nodal vector)."""


class LAST_AXIS(sp.Function):
    """Append a length-1 axis so that a nodal scalar broadcasts against a nodal vector."""

    nargs = 1

#: vacuum permeability in T m/A (the SI value used by micromagnetic codes)
MU0 = 4e-7 * 3.141592653589793


@dataclass(frozen=True)
class Load:
    target: str
    source: str
    node: tuple | None  # local node offsets of a nodal field; None for cell fields and plain tensors
    component: int | None
    spatial: bool = True  # False for small tensors such as dx, indexed as dx[k]


@dataclass(frozen=True)
class Assign:
    target: str
    expr: sp.Expr


@dataclass(frozen=True)
class Zeros:
    target: str
    like: str
    component: int | None = None
    #: a nodal scalar shaped from the *cell* array ``like`` (one more entry along each non-periodic axis)
    from_cells: bool = False


@dataclass(frozen=True)
class Unpack:
    """``targets = source``: the values of a tuple argument (the coefficients of a split kernel)."""

    targets: tuple
    source: str


@dataclass(frozen=True)
class Accumulate:
    target: str
    node: tuple
    component: int | None
    value: sp.Expr


@dataclass(frozen=True)
class Return:
    expr: sp.Expr


@dataclass
class Kernel:
    """A generated function: ``def name(*args): body`` on a ``dim``-dimensional mesh with periodic axes ``pbc``."""

    name: str
    args: list
    body: list = field(default_factory=list)
    dim: int = 3
    pbc: tuple = (False, False, False)
    doc: str = ""
    #: arguments that are not nodal fields (dx and cell fields) and a cell array among them (``rho``):
    #: what :func:`split_coefficients` may hoist, and how it shapes the nodal arrays it builds
    constant_args: tuple = ()
    region: str = ""


@dataclass
class Composed:
    """``def name(*args): return apply(..., coefficients(...))``: a field kernel split by
    :func:`split_coefficients`, printed next to its two parts so that it can still be called as one."""

    name: str
    args: list
    coefficients: Kernel
    apply: Kernel
    doc: str = ""


class _Namer:
    """Python identifiers for IR symbols, checked against the kernel arguments."""

    def __init__(self, reserved):
        self.reserved = set(reserved)
        self.names = {}

    def __call__(self, key, proposal: str) -> sp.Symbol:
        if key not in self.names:
            name = proposal
            while name in self.reserved:
                name = "_" + name
            self.reserved.add(name)
            self.names[key] = sp.Symbol(name, real=True)
        return self.names[key]


def _inputs(element: ElementExpressions, symbols: FlatSymbols, extra=()) -> list:
    names = {ref.name for ref in symbols.cells.values()}
    names |= {ref.name for ref in symbols.values.values()}
    names |= {ref.name for ref, _ in symbols.gradients.values()}
    names.discard("v")
    return sorted(names | {"dx"} | set(extra))


def _loads(element: ElementExpressions, namer: _Namer, exprs, nodal=None) -> tuple[list, dict]:
    """Loads for every dx/cell/nodal symbol used by ``exprs``; returns statements and the renaming. ``nodal``:
    ``(symbol, FieldRef, node)`` entries, ``node`` a local node (the slice of every cell's corner) or None (the
    whole nodal array); default: the element's local symbols."""
    if nodal is None:
        nodal = [(sym, decode(vsym.name), node) for sym, (vsym, node) in element.locals.items()]
    used = set().union(*(e.free_symbols for e in exprs)) if exprs else set()
    body, rename = [], {}
    for k in range(3):
        sym = dx_symbol(k)
        if sym in used:
            rename[sym] = namer(sym, f"dx{k}")
            body.append(Load(rename[sym].name, "dx", None, k, spatial=False))
    for sym, ref in sorted(element.cells.items(), key=lambda kv: kv[0].name):
        if sym not in used:
            continue
        if ref.component is None:
            rename[sym] = sp.Symbol(ref.name, real=True)
        else:
            rename[sym] = namer(sym, f"{ref.name}{ref.component}")
            body.append(Load(rename[sym].name, ref.name, None, ref.component))
    for sym, ref, node in sorted(nodal, key=lambda entry: entry[0].name):
        if sym not in used:
            continue
        comp = "" if ref.component is None else str(ref.component)
        suffix = "" if node is None else "_" + "".join(map(str, node))
        rename[sym] = namer(sym, f"{ref.name}{comp}{suffix}")
        body.append(Load(rename[sym].name, ref.name, node, ref.component))
    return body, rename


def _temporaries(element: ElementExpressions, namer: _Namer, rename: dict) -> list:
    body = []
    for sym, expr in element.temporaries:
        new = namer(sym, sym.name)
        body.append(Assign(new.name, expr.xreplace(rename)))
        rename[sym] = new
    return body


def _used_closure(element: ElementExpressions, roots) -> list:
    """Root expressions plus the temporaries they need (for deciding which loads are used)."""
    exprs = list(roots)
    return exprs + [expr for _, expr in element.temporaries]


def lower_field(element: ElementExpressions, symbols: FlatSymbols, dim: int, pbc=(False,) * 3,
                ms: str = "material__Ms", region: str = "rho", name: str = "h", doc: str = "",
                unknown: str = "m", lumped: bool = True) -> Kernel:
    r"""Field kernel :math:`\mathbf{h}_n = L(\varphi_n) / (\mu_0 \int M_s \rho \varphi_n\,\mathrm{d}V)`;
    with ``lumped=False`` the weak-form vector :math:`L(\varphi_n)` itself (for surface terms, whose mass is
    that of the 3D mesh around the layer)."""
    args = _inputs(element, symbols, extra=(unknown, ms, region) if lumped else (unknown,))
    namer = _Namer(args)
    constant = tuple(sorted({ref.name for ref in symbols.cells.values()} | {"dx", ms, region})) if lumped else ()
    if element.separable is not None and lumped:
        body, rename = _separable_field(element, symbols, dim, namer, unknown)
        return Kernel(name, args, body + _lumped_division(element, namer, dim, ms, region, rename), dim,
                      tuple(pbc), doc, constant, region)
    keys = sorted(element.vector)
    roots = [element.vector[k] for k in keys] + [cell_volume()]
    loads, rename = _loads(element, namer, _used_closure(element, roots))
    body = list(loads) + _temporaries(element, namer, rename)
    reduced = [element.vector[k].xreplace(rename) for k in keys]
    # one accumulator per component, stacked at the end: scatter-adds into a component slice of a vector
    # compile slowly in XLA, while whole-array accumulation is cheap in both backends
    h = namer("h", "h")
    components = [namer(("h", j), f"h{j}") for j in range(3)]
    for comp in components:
        body.append(Zeros(comp.name, unknown, 0))
    for (node, comp), value in zip(keys, reduced):
        body.append(Accumulate(components[comp].name, node, None, value))
    body.append(Assign(h.name, STACK(*components)))
    if not lumped:
        body.append(Return(h))
        return Kernel(name, args, body, dim, tuple(pbc), doc)
    return Kernel(name, args, body + _lumped_division(element, namer, dim, ms, region, rename), dim, tuple(pbc), doc,
                  constant, region)


def _dx_loads(namer: _Namer, rename: dict) -> list:
    body = []
    for k in range(3):
        sym = dx_symbol(k)
        if sym not in rename:
            rename[sym] = namer(sym, f"dx{k}")
            body.append(Load(rename[sym].name, "dx", None, k, spatial=False))
    return body


def _lumped_division(element, namer: _Namer, dim: int, ms: str, region: str, rename=None) -> list:
    r"""Statements dividing the assembled ``h`` by :math:`\mu_0` times the lumped mass
    :math:`\int M_s \rho \varphi_n\,\mathrm{d}V = \sum_{C\ni n} M_s \rho |C| / 2^d` (zero field where it vanishes)."""
    rename = {} if rename is None else rename
    body = _dx_loads(namer, rename)
    h, mass = namer("h", "h"), namer("mass", "mass")
    body.append(Zeros(mass.name, "m", 0))
    cell_mass = namer(sp.Symbol("mass_scale"), "cell_mass")
    volume = cell_volume().xreplace(rename)
    body.append(Assign(cell_mass.name, sp.Symbol(ms) * sp.Symbol(region) * volume / 2**dim))
    for node in local_nodes(dim):
        body.append(Accumulate(mass.name, node, None, cell_mass))
    # nodes without magnetic material get zero field instead of 0/0
    body.append(Return(h / LAST_AXIS(MU0 * mass + IS_ZERO(mass))))
    return body


def _separable_field(element: ElementExpressions, symbols: FlatSymbols, dim: int, namer: _Namer,
                     unknown: str) -> tuple[list, dict]:
    r"""Assembly of a separable nodal-rule form (:attr:`ElementExpressions.separable`): the cell factors are
    summed into the nodes with the corner weight :math:`|C|/2^d`, the node factors are evaluated on whole
    nodal arrays, :math:`L_{nj} = \sum_k S_{kn} N_{kj}(\mathbf{u}_n)`."""
    cell_factors, node_factors, node_temporaries = element.separable
    # whole nodal arrays: the node factors are evaluated at every node once
    roots = [cell_volume(), *cell_factors, *(n for nf in node_factors for n in nf.values()),
             *(expr for _, expr in node_temporaries)]
    body, rename = _loads(element, namer, roots, [(sym, ref, None) for sym, ref in symbols.values.items()])
    for sym, expr in node_temporaries:  # nodal subexpressions shared by the node factors (e.g. m x h)
        new = namer(sym, sym.name)
        body.append(Assign(new.name, expr.xreplace(rename)))
        rename[sym] = new
    weight = cell_volume().xreplace(rename) / 2**dim
    sums = []
    for k, factor in enumerate(cell_factors):
        c, s = namer(("c", k), f"c{k}"), namer(("S", k), f"S{k}")
        body.append(Assign(c.name, weight * factor.xreplace(rename)))
        body.append(Zeros(s.name, unknown, 0))
        body += [Accumulate(s.name, node, None, c) for node in local_nodes(dim)]
        sums.append(s)
    components = [namer(("h", j), f"h{j}") for j in range(3)]
    for j, comp in enumerate(components):
        value = sp.Add(*[sums[k] * n.xreplace(rename) for k, n in node_factors[j].items()])
        if value == 0:
            body.append(Zeros(comp.name, unknown, 0))
        else:
            body.append(Assign(comp.name, value))
    body.append(Assign(namer("h", "h").name, STACK(*components)))
    return body, rename


def lower_energy(element: ElementExpressions, symbols: FlatSymbols, dim: int, pbc=(False,) * 3,
                 density: bool = False, name: str = "E", doc: str = "") -> Kernel:
    r"""Energy kernel :math:`E = \sum_C \int_C e\,\mathrm{d}V` (J), or with ``density=True`` the cell-wise
    average energy density :math:`\int_C e\,\mathrm{d}V / |C|` (J/m³)."""
    args = _inputs(element, symbols)
    namer = _Namer(args)
    roots = [element.energy] + ([cell_volume()] if density else [])
    loads, rename = _loads(element, namer, _used_closure(element, roots))
    body = list(loads) + _temporaries(element, namer, rename)
    energy = element.energy.xreplace(rename)
    cell_energy = namer("cell_energy", "cell_energy")
    body.append(Assign(cell_energy.name, energy))
    if density:
        body.append(Return(cell_energy / cell_volume().xreplace(rename)))
    else:
        body.append(Return(SUM(cell_energy)))
    return Kernel(name, args, body, dim, tuple(pbc), doc)


# ------------------------------------------------------------------------------------------ optional IR passes
def batch_components(kernel: Kernel) -> Kernel:
    r"""IR pass: assemble a field whose three components follow *the same* per-cell expression in one array.

    Forms such as exchange, :math:`\sum_j A\,\nabla m_j\cdot\nabla v_j`, give per local node the same expression
    for every component :math:`j`, each reading only component :math:`j` of the nodal vector. Lowered
    component-wise this is three accumulators and three copies of every statement; here the copies are
    replaced by one statement on the whole vector slice (``m[:-1, :-1]`` instead of ``m[:-1, :-1, 0]``), with
    spatial scalars (cell fields such as :math:`A\rho`) broadcast by a trailing axis. The arithmetic is
    identical; eagerly executed backends (PyTorch) issue a third of the array operations. A kernel whose
    component expressions differ (DMI, anisotropies, cross products) or which the pass does not recognise is
    returned unchanged.
    """
    body = kernel.body
    stack = [s for s in body if isinstance(s, Assign) and isinstance(s.expr, STACK)]
    if len(stack) != 1 or len(stack[0].expr.args) != 3:
        return kernel
    stack = stack[0]
    comps = [str(a) for a in stack.expr.args]
    zeros = {s.target: s for s in body if isinstance(s, Zeros) and s.target in comps}
    if len(zeros) != 3 or any(z.component != 0 for z in zeros.values()) or len({z.like for z in zeros.values()}) != 1:
        return kernel
    accumulations = [s for s in body if isinstance(s, Accumulate) and s.target in comps]
    if any(s.component is not None for s in accumulations):
        return kernel
    if any(any(str(x) in comps for x in s.expr.free_symbols) for s in body if isinstance(s, Assign) and s is not stack):
        return kernel

    loads = {s.target: s for s in body if isinstance(s, Load)}
    vector_loads = {t: s for t, s in loads.items() if s.spatial and s.node is not None and s.component is not None}
    # symbols that are plain numbers (dx[k] and expressions of them) need no broadcasting; temporaries that
    # read vector components cannot be shared between the components
    scalar = {t for t, s in loads.items() if not s.spatial}
    per_component = set()
    for s in body:
        if isinstance(s, Assign) and s is not stack:
            names = {str(x) for x in s.expr.free_symbols}
            if names & (set(vector_loads) | per_component):
                per_component.add(s.target)
            elif names <= scalar:
                scalar.add(s.target)

    by_node = {}
    for s in accumulations:
        by_node.setdefault(s.node, {}).setdefault(comps.index(s.target), []).append(s.value)
    placeholders = {}  # (source, node) -> symbol standing for the whole vector at that local node
    batched = []
    for node, per_comp in by_node.items():
        if sorted(per_comp) != [0, 1, 2] or len({len(v) for v in per_comp.values()}) != 1:
            return kernel
        for k in range(len(per_comp[0])):
            forms = []
            for c in range(3):
                value = per_comp[c][k]
                if {str(x) for x in value.free_symbols} & per_component:
                    return kernel
                swap = {}
                for x in value.free_symbols:
                    load = vector_loads.get(str(x))
                    if load is None:
                        continue
                    if load.component != c:
                        return kernel
                    key = (load.source, load.node)
                    if key not in placeholders:
                        placeholders[key] = sp.Dummy(f"{load.source}_{''.join(map(str, load.node))}")
                    swap[x] = placeholders[key]
                forms.append(value.xreplace(swap))
            if not (forms[0] == forms[1] == forms[2]):
                return kernel
            batched.append((node, forms[0]))

    slices = {p: key for key, p in placeholders.items()}
    namer = _Namer(set(kernel.args) | {getattr(s, "target", None) for s in body})
    new_loads, swap = [], {}
    for _, expr in batched:
        for x in sorted(expr.free_symbols, key=str):
            if x in swap or str(x) in scalar:
                continue
            if x in slices:
                source, node = slices[x]
                swap[x] = namer(x, x.name)
                new_loads.append(Load(swap[x].name, source, node, None))
            else:  # a cell field or a per-cell temporary: broadcast over the component axis
                swap[x] = namer(x, f"{x.name}_v")
                new_loads.append(Assign(swap[x].name, LAST_AXIS(x)))
    h, like = str(stack.target), zeros[comps[0]].like
    new_body, placed = [], False
    for s in body:
        if s in zeros.values() or s is stack or (isinstance(s, Accumulate) and s.target in comps):
            if not placed:
                new_body += new_loads + [Zeros(h, like, None)]
                new_body += [Accumulate(h, node, None, expr.xreplace(swap)) for node, expr in batched]
                placed = True
            continue
        new_body.append(s)
    used = set()
    for s in new_body:
        for attr in ("expr", "value"):
            if hasattr(s, attr):
                used |= {str(x) for x in getattr(s, attr).free_symbols}
    new_body = [s for s in new_body if not (isinstance(s, Load) and s.target in vector_loads and s.target not in used)]
    return replace(kernel, body=new_body)


def _lumped_return(kernel: Kernel):
    """``(h, LAST_AXIS(d) ** -1)`` of a kernel ending in ``return h / LAST_AXIS(d)`` (the lumped-mass division),
    else None."""
    body = kernel.body
    if not body or not isinstance(body[-1], Return) or not isinstance(body[-1].expr, sp.Mul):
        return None
    ret = body[-1].expr
    inverse = [a for a in ret.args if isinstance(a, sp.Pow) and a.exp == -1 and isinstance(a.base, LAST_AXIS)]
    if len(ret.args) != 2 or len(inverse) != 1:
        return None
    return [a for a in ret.args if a is not inverse[0]][0], inverse[0]


def _fresh_name(kernel: Kernel, proposal: str) -> str:
    return _Namer(set(kernel.args) | {getattr(s, "target", None) for s in kernel.body})(proposal, proposal).name


def divide_before_stack(kernel: Kernel) -> Kernel:
    r"""IR pass: divide the components by the lumped mass before they are stacked.

    A separable field kernel ends in ``h = STACK(h0, h1, h2)`` and ``return h / LAST_AXIS(d)`` with
    :math:`d = \mu_0 M_n` (plus 1 where it vanishes). Here this becomes ``d = ...`` and
    ``return STACK(h0 / d, h1 / d, h2 / d)``: three divisions of equal shapes instead of one broadcast along
    the trailing vector axis, which eager PyTorch runs 5-8x slower per element (benchmarks page). The
    arithmetic is identical. Kernels of any other shape are returned unchanged.
    """
    lumped = _lumped_return(kernel)
    stacks = [s for s in kernel.body if isinstance(s, Assign) and isinstance(s.expr, STACK)]
    if lumped is None or len(stacks) != 1:
        return kernel
    (h, inverse), stack = lumped, stacks[0]
    if not isinstance(h, sp.Symbol) or h.name != stack.target:
        return kernel
    if any(stack.target in reads(s) for s in kernel.body[:-1] if s is not stack):
        return kernel
    d = _fresh_name(kernel, "denominator")
    body = [s for s in kernel.body[:-1] if s is not stack]
    body += [Assign(d, inverse.base.args[0]), Return(STACK(*[c / sp.Symbol(d, real=True) for c in stack.expr.args]))]
    return replace(kernel, body=body)


def reads(stmt) -> set:
    """Names an IR statement reads (an accumulation also reads its target)."""
    if isinstance(stmt, Load):
        return {stmt.source}
    if isinstance(stmt, Zeros):
        return {stmt.like}
    if isinstance(stmt, Unpack):
        return {stmt.source}
    expr = stmt.expr if isinstance(stmt, (Assign, Return)) else stmt.value
    names = {x.name for x in expr.free_symbols}
    return names | {stmt.target} if isinstance(stmt, Accumulate) else names


def split_coefficients(kernel: Kernel) -> Composed | None:
    r"""IR pass: split a lumped field kernel into its *coefficients*, the statements that read only the cell
    size and cell fields (element weights, :math:`-2A\rho`, the lumped mass :math:`\mu_0 M_n`, the node sums
    :math:`S_k` of separable forms), and the rest, which reads the nodal fields.

    ``<name>_coefficients(dx, <cell fields>)`` returns the coefficients the rest needs as a tuple;
    ``<name>_apply(<nodal fields>, coefficients)`` computes the field from it. The state registers the two as
    separate dynamic attributes, so a resolved right-hand side computes the coefficients once when the
    materials are constant (:meth:`~neuralmag.State.resolve`), instead of once per evaluation. The
    arithmetic is unchanged. Returns None when nothing can be hoisted (kernels without cell-only work,
    unlumped surface kernels).
    """
    if not kernel.constant_args or not kernel.region:
        return None
    # the names computable from the constant arguments alone (a fixed point: a node sum is constant when
    # every value accumulated into it is)
    known = set(kernel.constant_args)
    accumulated = {}
    for stmt in kernel.body:
        if isinstance(stmt, Accumulate):
            accumulated.setdefault(stmt.target, []).append(stmt)
    changed = True
    while changed:
        changed = False
        for stmt in kernel.body:
            target = getattr(stmt, "target", None)
            if target is None or target in known or isinstance(stmt, (Accumulate, Unpack)):
                continue
            if isinstance(stmt, Zeros):
                ok = target in accumulated and all(reads(a) - {target} <= known for a in accumulated[target])
            else:
                ok = reads(stmt) <= known
            if ok:
                known.add(target)
                changed = True
    hoisted = [s for s in kernel.body if not isinstance(s, Return) and getattr(s, "target", None) in known]
    rest = [s for s in kernel.body if s not in hoisted]
    read_by_rest = set().union(*(reads(s) for s in rest))
    exported = tuple(s.target for s in hoisted if s.target in read_by_rest and not isinstance(s, Accumulate))
    exported = tuple(dict.fromkeys(exported))
    # plain loads of dx components are not worth a tuple slot by themselves, but every other value is
    if not any(not isinstance(s, Load) for s in hoisted if s.target in exported):
        return None
    # the node sums start from zeros shaped from the cells (the coefficients do not see the nodal fields)
    hoisted = [Zeros(s.target, kernel.region, None, from_cells=True) if isinstance(s, Zeros) else s for s in hoisted]
    read_by_hoisted = set().union(*(reads(s) for s in hoisted))
    names = set(kernel.args) | {getattr(s, "target", None) for s in kernel.body}
    source = "coefficients"
    while source in names:
        source = "_" + source
    coefficients = Kernel(f"{kernel.name}_coefficients", [a for a in kernel.args if a in read_by_hoisted],
                          hoisted + [Return(sp.Tuple(*[sp.Symbol(n) for n in exported]))], kernel.dim, kernel.pbc,
                          f"Coefficients of {kernel.name}: the values it needs from the cell size and cell fields "
                          f"only ({', '.join(exported)}).")
    apply = Kernel(f"{kernel.name}_apply", [a for a in kernel.args if a in read_by_rest] + [source],
                   [Unpack(exported, source)] + rest, kernel.dim, kernel.pbc,
                   f"{kernel.doc} From the tuple of {kernel.name}_coefficients.".strip())
    return Composed(kernel.name, list(kernel.args), coefficients, apply, kernel.doc)


def name_denominator(kernel: Kernel) -> Kernel:
    r"""IR pass: ``return h / LAST_AXIS(d)`` becomes ``denominator = LAST_AXIS(d)`` and
    ``return h / denominator``, so that :func:`split_coefficients` can hoist the lumped mass with its broadcast
    (and a printer can lay it out once). Other kernels are returned unchanged."""
    lumped = _lumped_return(kernel)
    if lumped is None:
        return kernel
    h, inverse = lumped
    d = _fresh_name(kernel, "denominator")
    return replace(kernel, body=kernel.body[:-1] + [Assign(d, inverse.base), Return(h / sp.Symbol(d, real=True))])
