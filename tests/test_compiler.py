r"""The form compiler (issue 3): generated fields, energies and source.

* energy–field consistency: the generated field is :math:`-\frac{1}{\mu_0 M_n}\partial E/\partial \mathbf m_n`
  of the generated energy (autodiff of ``state.resolve("E_<name>", ["m"])``) with the lumped mass
  :math:`M_n = \sum_{C \ni n} M_s \rho |C| / 2^d` computed here, for random m and random cell materials;
* user terms: A1 verbatim, nonlinear energies (Gauss strategy), fields given as linear forms ``l_expr``;
* both backends agree; the generated source is straight-line slicing and arithmetic;
* clear errors for malformed forms.
"""

import ast
import io
import keyword
import tokenize

import numpy as np
import pytest
import sympy as sp

import neuralmag as nm
from neuralmag.forms.compiler import CompileOptions, compile_term
from tests.utils import energy_and_gradient

MU0 = 4e-7 * np.pi
SHAPES = {1: (7,), 2: (5, 4), 3: (4, 3, 3)}
DX = (1.1e-9, 1.7e-9, 2.3e-9)


@pytest.fixture(autouse=True)
def eager():
    """Resolved functions run eagerly here: XLA compiles each jitted kernel (and its gradient) for seconds on
    2 cores, and the kernels compute the same numbers either way (test_jitted_field_is_energy_gradient)."""
    old = nm.config.jit
    nm.config.jit = False
    yield
    nm.config.jit = old


# ------------------------------------------------------------------------------------------- user terms
class MyExchange(nm.FieldTerm):  # A1, verbatim
    default_name = "myexchange"

    @staticmethod
    def e_expr(m, dim):
        A = nm.Variable("material__A", "c" * dim)          # cell-wise material parameter
        return A * (m.diff(nm.N.x).dot(m.diff(nm.N.x))
                    + m.diff(nm.N.y).dot(m.diff(nm.N.y))
                    + m.diff(nm.N.z).dot(m.diff(nm.N.z))) * nm.dV(dim)


class QuarticAxis(nm.FieldTerm):
    """e = K4 (m·u)^4: not affine in m, so integrated by Gauss quadrature."""

    default_name = "quartic"

    @staticmethod
    def e_expr(m, dim):
        K = nm.Variable("material__K4", "c" * dim)
        u = nm.Variable("material__u4", "c" * dim, (3,))
        return K * m.dot(u) ** 4 * nm.dV(dim)


class CubicLike(nm.FieldTerm):
    """e = Kc (mx² my² + my² mz² + mz² mx²)."""

    default_name = "cubiclike"

    @staticmethod
    def e_expr(m, dim):
        K = nm.Variable("material__Kc", "c" * dim)
        mx, my, mz = m.dot(nm.N.i), m.dot(nm.N.j), m.dot(nm.N.k)
        return K * (mx**2 * my**2 + my**2 * mz**2 + mz**2 * mx**2) * nm.dV(dim)


class GradientQuartic(nm.FieldTerm):
    """e = B |∂x m|⁴ + B (m·∂y m)²: nonlinear in the gradients (test-function derivatives, Gauss strategy)."""

    default_name = "gradquartic"

    @staticmethod
    def e_expr(m, dim):
        B = nm.Variable("material__B", "c" * dim)
        mx = m.diff(nm.N.x)
        return B * (mx.dot(mx) ** 2 + m.dot(m.diff(nm.N.y)) ** 2) * nm.dV(dim)


class SqrtTerm(nm.FieldTerm):
    """A non-polynomial density with an explicit quadrature degree."""

    default_name = "sqrtterm"
    quadrature_degree = 4

    @staticmethod
    def e_expr(m, dim):
        K = nm.Variable("material__K4", "c" * dim)
        u = nm.Variable("material__u4", "c" * dim, (3,))
        return K * sp.sqrt(1 + m.dot(u) ** 2 + m.dot(nm.N.k) ** 2) * nm.dV(dim)


class CellZeeman(nm.FieldTerm):
    """A field given by its linear form: ∫ μ0 Ms h·v dV = ∫ μ0 Ms h_cell·v dV, h_cell a cell vector field."""

    default_name = "cellzeeman"

    @staticmethod
    def l_expr(m, v, dim):
        Ms = nm.Variable("material__Ms", "c" * dim)
        h = nm.Variable("h_cell", "c" * dim, (3,))
        return 4e-7 * sp.pi * Ms * h.dot(v) * nm.dV(dim)


# ----------------------------------------------------------------------------------------------- helpers
def lumped_mass(ms, rho, dx, dim):
    """Σ over the cells adjacent to each node of Ms ρ |C| / 2^dim (|C| = dx dy dz in every dimension)."""
    cell = ms * rho * np.prod(dx) / 2**dim
    mass = np.zeros(tuple(s + 1 for s in cell.shape))
    for corner in np.ndindex(*(2,) * dim):
        mass[tuple(slice(c, c + s) for c, s in zip(corner, cell.shape))] += cell
    return mass


def random_unit_field(rng, shape):
    m = rng.normal(size=shape + (3,))
    return m / np.linalg.norm(m, axis=-1, keepdims=True)


def random_state(backend, dim, seed=0):
    """A float64 state with random unit m and random cell-wise A, Ms, rho in [0.5, 1] and term materials."""
    rng = np.random.default_rng(seed)
    n = SHAPES[dim]
    state = nm.State(nm.Mesh(n, DX), backend=backend, dtype="float64")
    state.material.Ms = rng.uniform(4e5, 1.2e6, n)
    state.material.A = rng.uniform(0.5e-11, 2e-11, n)
    state.rho = rng.uniform(0.5, 1.0, n)
    state.material.K4 = rng.uniform(-2e5, 3e5, n)
    state.material.u4 = random_unit_field(rng, n)
    state.material.Kc = rng.uniform(1e4, 5e5, n)
    state.material.B = rng.uniform(1e-28, 3e-28, n)
    state.material.Ku = rng.uniform(-1e5, 5e5, n)
    state.material.Ku_axis = random_unit_field(rng, n)
    state.material.D = rng.uniform(-3e-3, 3e-3, n)
    state.m = random_unit_field(rng, tuple(k + 1 for k in n))
    return state


def numpy_of(state, value):
    return state.to_numpy(value.tensor if isinstance(value, nm.Function) else value).astype(np.float64)


def assert_close(actual, expected, rel):
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    scale = np.abs(expected).max()
    assert scale > 0
    err = np.abs(actual - expected).max()
    assert err <= rel * scale, f"max error {err:.3e} > {rel:.0e} × {scale:.3e}"


def assert_field_is_energy_gradient(state, name):
    dim = state.mesh.dim
    ms, rho = numpy_of(state, state.material.Ms), numpy_of(state, state.rho)
    mass = lumped_mass(ms, rho, state.mesh.dx, dim)
    expected = -energy_and_gradient(state, name)[1] / (MU0 * mass[..., None])
    h = numpy_of(state, getattr(state, f"h_{name}"))
    assert h.shape == expected.shape
    assert_close(h, expected, 1e-10)


# ---------------------------------------------------------------------------------- (a) energy ↔ field
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_exchange_field_is_energy_gradient(backend, float64, dim):
    state = random_state(backend, dim)
    nm.ExchangeField().register(state)
    assert_field_is_energy_gradient(state, "exchange")


def test_jitted_field_is_energy_gradient(float64):
    """The same check through jax.jit (resolved functions are jitted by default) and jax.grad of the jitted E."""
    nm.config.jit = True
    state = random_state("jax", 2, seed=8)
    nm.ExchangeField().register(state)
    assert_field_is_energy_gradient(state, "exchange")


def test_a1_user_exchange_matches_builtin(backend, float64):
    """A1 verbatim registers h/E/e under its name and reproduces the built-in exchange term."""
    state = random_state(backend, 3, seed=1)
    nm.ExchangeField().register(state)
    MyExchange().register(state, "myexchange")
    assert {"h_myexchange", "E_myexchange", "e_myexchange"} <= set(state.attributes())
    assert_close(numpy_of(state, state.h_myexchange), numpy_of(state, state.h_exchange), 1e-13)
    assert_close(numpy_of(state, state.E_myexchange), numpy_of(state, state.E_exchange), 1e-13)
    assert_close(numpy_of(state, state.e_myexchange), numpy_of(state, state.e_exchange), 1e-13)
    def code(term):  # the generated statements, without docstrings (they name the term)
        source = nm.kernel_source(term, dim=3, backend=backend).split("def h(")[1]
        return [line for line in source.splitlines() if '"""' not in line]

    assert code(MyExchange) == code(nm.ExchangeField)


def test_exchange_energy_of_helix_is_exact(backend, float64):
    """The energy on its own: for m sampled from a helix along x, the Q1 interpolant is linear in x in each
    cell, so ∫_C |∇m_h|² = |m_{i+1} - m_i|² / dx² · |C| with |m_{i+1} - m_i| = 2 sin(φ/2) (φ = k dx)."""
    n = (9, 2, 2)
    state = nm.State(nm.Mesh(n, DX), backend=backend, dtype="float64")
    state.material.Ms = 8e5
    state.material.A = 1.3e-11
    x = np.arange(n[0] + 1)[:, None, None] * DX[0] + np.zeros((1, n[1] + 1, n[2] + 1))
    k = 0.3 / DX[0]
    state.m = np.stack([np.cos(k * x), np.sin(k * x), np.zeros_like(x)], -1)
    nm.ExchangeField().register(state)
    jump = 2 * np.sin(0.3 / 2)  # |m_{i+1} - m_i|
    expected = 1.3e-11 * (jump / DX[0]) ** 2 * np.prod(DX) * np.prod(n)
    assert_close(numpy_of(state, state.E_exchange), expected, 1e-12)
    assert_close(numpy_of(state, state.e_exchange), np.full(n, expected / (np.prod(DX) * np.prod(n))), 1e-12)


GAUSS_TERMS = [(QuarticAxis(), "quartic"), (CubicLike(), "cubiclike"), (GradientQuartic(), "gradquartic"),
               (SqrtTerm(), "sqrtterm")]


@pytest.mark.parametrize("dim", [1, 2])
@pytest.mark.parametrize("term, name", GAUSS_TERMS, ids=[name for _, name in GAUSS_TERMS])
def test_nonlinear_user_terms_gauss_strategy(backend, float64, dim, term, name):
    """(b) energies that are not quadratic in m go through Gauss quadrature; field and energy stay consistent."""
    options = CompileOptions(dim, quadrature_degree=term.quadrature_degree)
    assert compile_term(term, options).strategy == "gauss"
    state = random_state(backend, dim, seed=2)
    term.register(state, name)
    assert_field_is_energy_gradient(state, name)


def test_builtin_anisotropy_and_dmi_fields_are_energy_gradients(backend, float64):
    state = random_state(backend, 3, seed=3)
    nm.UniaxialAnisotropyField().register(state, "uniaxial")
    nm.InterfaceDMIField().register(state, "dmi")
    assert_field_is_energy_gradient(state, "uniaxial")
    assert_field_is_energy_gradient(state, "dmi")


def test_quartic_field_in_uniform_material_matches_closed_form(backend, float64):
    """In uniform material and uniform m the field of e = K (m·u)^4 is -4K (m·u)^3 u / (μ0 Ms) at every node
    (3D: 27 Gauss points per cell)."""
    state = nm.State(nm.Mesh((3, 2, 2), DX), backend=backend, dtype="float64")
    state.material.Ms = 7e5
    state.material.K4 = 2.5e5
    u = np.array([0.6, 0.0, 0.8])
    state.material.u4 = u
    m = np.array([1.0, 2.0, 2.0]) / 3
    state.m = nm.VectorFunction(state).fill(m)
    QuarticAxis().register(state)
    expected = -4 * 2.5e5 * (m @ u) ** 3 * u / (MU0 * 7e5)
    assert_close(numpy_of(state, state.h_quartic), np.broadcast_to(expected, (4, 3, 3, 3)), 1e-12)
    assert_close(numpy_of(state, state.E_quartic), 2.5e5 * (m @ u) ** 4 * np.prod(DX) * 12, 1e-12)


# ------------------------------------------------------------------------------------- (c) linear forms
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_linear_form_constant_field(backend, float64, dim):
    """l = μ0 Ms h·v with a constant h gives exactly h at every node with magnetic material, 0 elsewhere."""
    rng = np.random.default_rng(4)
    n = SHAPES[dim]
    state = nm.State(nm.Mesh(n, DX), backend=backend, dtype="float64")
    ms = rng.uniform(4e5, 1.2e6, n)
    ms[(0,) * dim] = 0.0  # a non-magnetic corner cell: its corner node has no material
    state.material.Ms = ms
    state.rho = rng.uniform(0.5, 1.0, n)
    h0 = np.array([1.5e4, -2.0e3, 7.0e4])
    state.h_cell = nm.Function(state, "c" * dim, (3,)).fill(h0)
    state.m = random_unit_field(rng, tuple(k + 1 for k in n))
    CellZeeman().register(state)
    assert "E_cellzeeman" not in state.attributes()  # a linear form has no energy
    h = numpy_of(state, state.h_cellzeeman)
    expected = np.broadcast_to(h0, h.shape).copy()
    expected[(0,) * dim] = 0.0
    assert_close(h, expected, 1e-12)


def test_linear_form_cell_field_is_mass_weighted_average(backend, float64):
    """With a cell-wise h the nodal field is the Ms ρ |C|-weighted average over the adjacent cells."""
    rng = np.random.default_rng(5)
    n = SHAPES[3]
    state = nm.State(nm.Mesh(n, DX), backend=backend, dtype="float64")
    ms, rho, hc = rng.uniform(4e5, 1.2e6, n), rng.uniform(0.5, 1.0, n), rng.normal(size=n + (3,)) * 1e4
    ms[0, 0, 0] = 0.0
    state.material.Ms, state.rho = ms, rho
    state.h_cell = nm.Function(state, "ccc", (3,), tensor=hc)
    state.m = random_unit_field(rng, tuple(k + 1 for k in n))
    CellZeeman().register(state)
    weights = ms * rho * np.prod(DX) / 8
    num, den = np.zeros(tuple(k + 1 for k in n) + (3,)), np.zeros(tuple(k + 1 for k in n))
    for corner in np.ndindex(2, 2, 2):
        idx = tuple(slice(c, c + s) for c, s in zip(corner, n))
        num[idx] += weights[..., None] * hc
        den[idx] += weights
    expected = np.where(den[..., None] > 0, num / np.where(den > 0, den, 1)[..., None], 0.0)
    assert_close(numpy_of(state, state.h_cellzeeman), expected, 1e-12)


# -------------------------------------------------------------------------------------- (d) backends agree
@pytest.mark.parametrize("dim, terms", [
    (3, [(nm.ExchangeField(), "exchange"), (nm.InterfaceDMIField(), "dmi"), (nm.UniaxialAnisotropyField(), "uni")]),
    (2, GAUSS_TERMS),
])
def test_jax_and_torch_kernels_agree(float64, dim, terms):
    results = {}
    for backend in ("jax", "torch"):
        state = random_state(backend, dim, seed=6)
        for term, name in terms:
            term.register(state, name)
        results[backend] = {attr: numpy_of(state, getattr(state, attr))
                            for _, name in terms for attr in (f"h_{name}", f"E_{name}", f"e_{name}")}
    for attr, value in results["jax"].items():
        assert_close(value, results["torch"][attr], 1e-12)


# ----------------------------------------------------------------------------------- (e) source structure
SOURCE_CASES = [
    (nm.ExchangeField, 3, (False, False, False)),
    (nm.ExchangeField, 2, (True, False)),
    (nm.ExchangeField, 1, (False,)),
    (QuarticAxis, 3, (False, False, False)),
    (GradientQuartic, 2, (False, True)),
    (CubicLike, 2, (True, True)),
    (SqrtTerm, 1, (False,)),
    (CellZeeman, 3, (False, False, False)),
    (nm.InterfaceDMIField, 3, (False, False, False)),
    (nm.UniaxialAnisotropyField, 3, (False, False, False)),
]

#: the only calls generated code may make: array creation, scatter-add / zero-padding (assembly), stacking of
#: components, reductions, rolls, pointwise math
ALLOWED_CALLS = {"zeros_like", "add", "add_", "pad", "stack", "sum", "roll", "sqrt", "exp", "log", "sin", "cos", "abs",
                 "contiguous", "expand", "item", "new_zeros", "movedim"}  # torch: layout, dx[k] as numbers, node sums
#: the functions of one printed term; a split field kernel (torch) is ``h`` calling its two parts by name
KERNEL_FUNCTIONS = {"h", "h_coefficients", "h_apply", "E", "e"}
ALLOWED_NODES = (ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Expr, ast.Assign, ast.AugAssign,
                 ast.Return, ast.Name, ast.Load, ast.Store, ast.Constant, ast.Subscript, ast.Slice, ast.Tuple,
                 ast.Attribute, ast.Call, ast.keyword, ast.List, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Eq, ast.Add,
                 ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd)


@pytest.mark.parametrize("kernel_backend", ["jax", "torch"])
@pytest.mark.parametrize("term, dim, pbc", SOURCE_CASES)
def test_generated_source_is_straight_line(term, dim, pbc, kernel_backend):
    source = nm.kernel_source(term, dim=dim, backend=kernel_backend, pbc=pbc)
    names = {tok.string for tok in tokenize.generate_tokens(io.StringIO(source).readline)
             if tok.type == tokenize.NAME}
    control = {"for", "while", "if", "else", "elif", "try", "except", "with", "lambda", "yield", "import",
               "global", "nonlocal", "class", "async", "await", "assert", "del", "raise", "break", "continue"}
    assert not names & control, names & control
    assert names & set(keyword.kwlist) <= {"def", "return", "None"}  # None: x[..., None]
    tree = ast.parse(source)
    functions = [node.name for node in tree.body]
    assert functions[0] == "h" and set(functions) <= KERNEL_FUNCTIONS
    if "h_apply" in functions:  # the composed field: one line, the application of the coefficients
        composed = tree.body[0].body[-1]
        assert isinstance(composed, ast.Return) and ast.unparse(composed.value).startswith("h_apply(")
        assert "h_coefficients(" in ast.unparse(composed.value)
    for node in ast.walk(tree):
        assert isinstance(node, ALLOWED_NODES), f"{type(node).__name__} in generated code:\n{ast.unparse(node)}"
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                assert node.func.id in {"h_apply", "h_coefficients"}, ast.unparse(node)
                continue
            assert isinstance(node.func, ast.Attribute) and node.func.attr in ALLOWED_CALLS, ast.unparse(node)
        if isinstance(node, ast.Compare):  # only the `mass == 0` guard of the lumped mass
            assert isinstance(node.ops[0], ast.Eq) and ast.unparse(node.comparators[0]) == "0"
        if isinstance(node, ast.Subscript):  # indices are literal slices, integers and ellipsis
            index = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            for part in index:
                assert isinstance(part, (ast.Slice, ast.Constant)), ast.unparse(node)
    other = {"jax": "torch", "torch": "jnp"}[kernel_backend]
    assert other not in names


def test_generated_field_ends_with_lumped_mass(backend):
    """A2: one accumulation line per (local node, component) and a final division by the mass. The torch
    printer batches components whose expressions agree (exchange): one line per local node on whole vectors."""
    source = nm.kernel_source(nm.ExchangeField, dim=3, backend=backend)
    h_source = source.split("def E(")[0]
    if backend == "torch":
        assert sum(h_source.count(f"h{j}[") for j in range(3)) == 0
        assert h_source.count("h[") == 8 and "h[:-1, :-1, :-1].add_(" in h_source and "h[1:, 1:, 1:].add_(" in h_source
        assert "h = torch.zeros_like(m)" in h_source
        dmi = nm.kernel_source(nm.InterfaceDMIField, dim=3, backend=backend).split("def E(")[0]
        assert sum(dmi.count(f"h{j}[") for j in range(3)) == 8 * 3
        # divide_before_stack: the components are divided by the mass, then stacked
        last = dmi.strip().splitlines()[-1].strip()
        # (whole planes stacked, then the stack axis moved last: 3x faster than torch.stack(..., -1) on the CPU)
        assert last == ("return torch.stack([h0/denominator, h1/denominator, h2/denominator])"
                        ".movedim(0, -1).contiguous()"), last
    else:
        assert sum(h_source.count(f"h{j} = h{j} + jnp.pad(") for j in range(3)) == 8 * 3
        assert "h = " in h_source and "stack([h0, h1, h2], -1)" in h_source
    assert h_source.strip().splitlines()[-1].strip().startswith("return h/")


# ----------------------------------------------------------------------------------------- (f) inspection
@pytest.mark.parametrize("kernel_backend", ["jax", "torch"])
def test_kernel_source_for_class_and_instance(kernel_backend):
    from_class = nm.kernel_source(nm.ExchangeField, dim=3, backend=kernel_backend)
    from_instance = nm.kernel_source(nm.ExchangeField(), dim=3, backend=kernel_backend)
    assert isinstance(from_class, str) and isinstance(from_instance, str)
    assert from_class == from_instance
    for name in ("h", "E", "e"):
        assert f"\ndef {name}(" in from_class
    assert "def h(dx, m, material__A, material__Ms, rho):" in from_class
    user = nm.kernel_source(MyExchange, dim=2, backend=kernel_backend)
    assert isinstance(user, str) and "def h(" in user
    # the source is what runs: executing it gives the functions
    namespace = {}
    exec("import jax, jax.numpy as jnp\nimport torch\n" + from_class, namespace)
    assert all(callable(namespace[name]) for name in ("h", "E", "e"))


def test_kernel_source_depends_on_dim_and_backend():
    sources = {(d, b): nm.kernel_source(nm.ExchangeField, dim=d, backend=b) for d in (1, 2, 3)
               for b in ("jax", "torch")}
    assert len(set(sources.values())) == 6
    assert "m[:-1, :-1, :-1, 0]" in sources[(3, "torch")] and "m[:-1, :-1, 0]" in sources[(2, "torch")]


# -------------------------------------------------------------------------------------------- (g) errors
def _term(e_expr=None, l_expr=None):
    attrs = {"default_name": "bad"}
    if e_expr is not None:
        attrs["e_expr"] = staticmethod(e_expr)
    if l_expr is not None:
        attrs["l_expr"] = staticmethod(l_expr)
    return type("BadTerm", (nm.FieldTerm,), attrs)()


def _a(dim):
    return nm.Variable("material__A", "c" * dim)


BAD_FORMS = [
    ("no measure", lambda m, dim: _a(dim) * m.diff(nm.N.x).dot(m.diff(nm.N.x)), ValueError, "measure"),
    ("part without measure", lambda m, dim: _a(dim) * m.dot(nm.N.i) * nm.dV(dim) + m.dot(nm.N.j),
     ValueError, "without a measure"),
    ("second derivative", lambda m, dim: _a(dim) * m.diff(nm.N.x).diff(nm.N.x).dot(m) * nm.dV(dim),
     ValueError, "first derivatives"),
    ("unknown symbol", lambda m, dim: sp.Symbol("Kfoo") * m.dot(nm.N.i) ** 2 * nm.dV(dim), ValueError,
     "Kfoo.*nm.Variable"),
    ("unknown function", lambda m, dim: sp.Function("g")(nm.N.x) * m.dot(nm.N.i) * nm.dV(dim), ValueError,
     "Unknown function"),
    ("explicit coordinate", lambda m, dim: nm.N.x * m.dot(nm.N.i) * nm.dV(dim), ValueError, "coordinates"),
    ("measure squared", lambda m, dim: _a(dim) * m.dot(nm.N.i) * nm.dV(dim) ** 2, ValueError, "linear"),
]


@pytest.mark.parametrize("label, e_expr, error, match", BAD_FORMS, ids=[f[0] for f in BAD_FORMS])
def test_malformed_forms_raise_clear_errors(backend, label, e_expr, error, match):
    term = _term(e_expr)
    with pytest.raises(error, match=match):
        nm.kernel_source(term, dim=3, backend=backend)
    # register fails up front and adds nothing to the state
    state = nm.State(nm.Mesh((2, 2, 2), DX), backend=backend)
    before = set(state.attributes())
    with pytest.raises(error, match=match):
        term.register(state)
    assert set(state.attributes()) == before


def test_term_without_form_and_nonlinear_linear_form():
    with pytest.raises(TypeError, match="neither e_expr"):
        nm.kernel_source(_term(), dim=3)
    nonlinear = _term(l_expr=lambda m, v, dim: m.dot(v) ** 2 * nm.dV(dim))
    with pytest.raises(ValueError, match="linear in the test function"):
        nm.kernel_source(nonlinear, dim=3)
    affine = _term(l_expr=lambda m, v, dim: (m.dot(v) + m.dot(nm.N.i)) * nm.dV(dim))
    with pytest.raises(ValueError, match="without the test function"):
        nm.kernel_source(affine, dim=3)


def test_variable_rejects_bad_spaces_and_shapes():
    with pytest.raises(ValueError, match="nodal or cell-wise"):
        nm.Variable("material__A", "ncc")
    with pytest.raises(ValueError, match="spaces"):
        nm.Variable("material__A", "cx")
    with pytest.raises(ValueError, match="shapes"):
        nm.Variable("material__A", "ccc", (2,))


def test_kernel_docstrings_name_the_requested_term():
    nm.kernel_source(nm.ExchangeField, dim=1, backend="torch")
    source = nm.kernel_source(MyExchange, dim=1, backend="torch")
    assert "Effective field of MyExchange" in source
    assert "ExchangeField" not in source.replace("MyExchange", "")


# ----------------------------------------------------------------------------- (f) IR passes
@pytest.mark.parametrize("dim, pbc", [(1, (False,)), (2, (False, False)), (2, (True, False)), (3, (False, True, True))])
def test_batch_components_pass_is_exact(dim, pbc):
    """The torch printer's component batching (ir.batch_components) turns the exchange kernel into one
    statement per local node on whole vectors, with the same numbers as the component-wise kernel, periodic
    axes included; kernels whose components differ (DMI, anisotropy) pass through unchanged."""
    torch = pytest.importorskip("torch")
    from neuralmag.backends.torch.backend import TorchKernelPrinter
    from neuralmag.forms import ir

    class Unbatched(TorchKernelPrinter):
        passes = ()

    kernel = compile_term(nm.ExchangeField(), CompileOptions(dim, pbc)).kernels["h"]
    batched = ir.batch_components(kernel)
    assert batched is not kernel
    assert sum(isinstance(s, ir.Accumulate) for s in batched.body) == 2 ** dim + 2 ** dim  # h and the mass
    sources = {"batched": TorchKernelPrinter().print_kernel(kernel), "plain": Unbatched().print_kernel(kernel)}
    assert not any(isinstance(s, ir.Load) and s.source == "m" and s.component is not None for s in batched.body)
    assert "m[:-1, 0]" in sources["plain"] or "m[:-1, :-1, 0]" in sources["plain"] or "m)[:, :, 0]" in sources["plain"] \
        or ", 0]" in sources["plain"].split("mass =")[0]
    assert ", 0]" not in sources["batched"].split("mass =")[0]
    rng = np.random.default_rng(11)
    cells = (5, 4, 3)[:dim]
    nodes = tuple(n if p else n + 1 for n, p in zip(cells, pbc))
    args = {"dx": torch.tensor([2e-9, 3e-9, 1.5e-9], dtype=torch.float64),
            "m": torch.tensor(rng.normal(size=nodes + (3,))),
            "material__A": torch.tensor(rng.uniform(1e-11, 2e-11, cells)),
            "material__Ms": torch.tensor(rng.uniform(5e5, 9e5, cells)),
            "rho": torch.tensor((rng.uniform(size=cells) > 0.2).astype(float))}
    results = {}
    for label, source in sources.items():
        namespace = {"torch": torch}
        exec(source, namespace)
        results[label] = namespace["h"](*[args[a] for a in kernel.args]).numpy()
    scale = np.abs(results["plain"]).max()
    assert scale > 0 and np.abs(results["batched"] - results["plain"]).max() <= 1e-14 * scale
    for term in (nm.InterfaceDMIField(), nm.UniaxialAnisotropyField()):
        other = compile_term(term, CompileOptions(3)).kernels["h"]
        assert ir.batch_components(other) is other


@pytest.mark.parametrize("term", [nm.ExchangeField, nm.UniaxialAnisotropyField, nm.InterfaceDMIField])
def test_torch_field_kernel_is_split_into_coefficients_and_application(term):
    """split_coefficients: the torch field kernel h = h_apply(nodal fields, h_coefficients(dx, cell fields));
    the coefficients never read the magnetisation, the application never reads a material, and h still takes
    the arguments of the unsplit kernel (the JAX kernel's)."""
    torch_source = nm.kernel_source(term, dim=3, backend="torch")
    functions = {f.name: f for f in ast.parse(torch_source).body}
    assert {"h", "h_coefficients", "h_apply"} <= set(functions)
    args = {name: [a.arg for a in f.args.args] for name, f in functions.items()}
    assert "m" not in args["h_coefficients"] and "dx" in args["h_coefficients"]
    assert args["h_apply"][-1] == "coefficients" and not any(a.startswith("material__") for a in args["h_apply"])
    jax_functions = {f.name: f for f in ast.parse(nm.kernel_source(term, dim=3, backend="jax")).body}
    assert set(jax_functions) <= {"h", "E", "e"}
    assert args["h"] == [a.arg for a in jax_functions["h"].args.args]


def _nodal_terms():
    """The separable nodal-rule forms (cubic anisotropy and the Slonczewski torque have more than 2^d cell
    factors and are assembled per local node instead)."""
    from neuralmag.field_terms.torques import ZhangLiTorque
    from neuralmag.solvers.llg import LLGTorque

    return [LLGTorque(), LLGTorque(precession=False), nm.UniaxialAnisotropyField(), ZhangLiTorque()]


@pytest.mark.parametrize("term", _nodal_terms(), ids=lambda t: f"{type(t).__name__}")
def test_separated_nodal_form_with_shared_subexpressions_is_exact(term):
    """The nodal-rule separation f_j = sum_k C_k N_kj, with the node factors written over shared nodal
    temporaries (quadrature._separate), reproduces every pointwise coefficient f_j exactly."""
    from neuralmag.forms import quadrature, symbolic, variation
    from neuralmag.forms.compiler import _forms_of

    kind, form = _forms_of(term, 3)
    integrand = symbolic.measures(form)["dV"]
    lform = variation.energy_variation(integrand) if kind == "energy" else variation.linear_form(integrand)
    separated = quadrature._separate(lform.f, lform.symbols, max_factors=8)
    assert separated is not None
    cells, nodes, temporaries = separated
    values = {}
    for t, expr in temporaries:  # each temporary reads nodal symbols and earlier temporaries only
        assert expr.free_symbols <= set(lform.symbols.values) | set(values)
        values[t] = expr.xreplace(values)
    for j, fj in enumerate(lform.f):
        rebuilt = sp.Add(*[cells[k] * n.xreplace(values) for k, n in nodes[j].items()])
        assert sp.expand(rebuilt - fj) == 0


def test_llg_torque_node_factors_share_the_cross_product():
    """m x h is evaluated once and m x (m x h) from it: the node part of the LLG kernel (temporaries and the
    three components) has at most 30 arithmetic operations by SymPy's count (26; the expanded polynomials had
    48)."""
    from neuralmag.forms import quadrature, symbolic, variation
    from neuralmag.forms.compiler import _forms_of
    from neuralmag.solvers.llg import LLGTorque

    _, form = _forms_of(LLGTorque(), 2)
    lform = variation.linear_form(symbolic.measures(form)["dV"])
    _, nodes, temporaries = quadrature._separate(lform.f, lform.symbols, max_factors=4)
    assert len(temporaries) >= 3
    operations = sum(sp.count_ops(e) for _, e in temporaries) + sum(
        sp.count_ops(n) + 1 for nf in nodes for n in nf.values())
    assert operations <= 30, operations
