r"""Generated fields against an independent finite-element assembly (issue 3).

The reference is assembled here with NumPy and ``scipy.sparse`` only: Q1 element matrices on a box cell from
2-point Gauss quadrature of the multilinear basis (exact for them), summed cell by cell with the cell's material
weights. For an energy :math:`E = \frac12 \mathbf m^T K \mathbf m` (per component) the field is
:math:`\mathbf h = -K\mathbf m / (\mu_0 M)` with the lumped mass :math:`M_n = \sum_C M_s \rho \int_C \varphi_n`
(row sums of the consistent mass matrix). 2D meshes are integrated over their thickness (``m`` constant in z),
so every cell has the volume ``dx*dy*dz``.

Material jumps (``A``, ``Ms``, ``K`` or the region density ``rho`` different in two halves, vacuum cells with
``rho = 0``) enter only through these per-cell weights, so agreement to round-off checks the interface
conditions of the weak form.
"""

import itertools

import numpy as np
import pytest
import scipy.sparse as sps

import neuralmag as nm

MU0 = 4e-7 * np.pi
DX = (1.3e-9, 0.9e-9, 2.1e-9)
SHAPES = {1: (10,), 2: (6, 5), 3: (4, 5, 3)}


@pytest.fixture(autouse=True)
def eager():
    """Resolved functions run eagerly: the numbers are the same, and XLA compile time stays out of the tests
    (the jitted path is covered by test_compiler.py and test_exchange_convergence.py)."""
    old = nm.config.jit
    nm.config.jit = False
    yield
    nm.config.jit = old


# --------------------------------------------------------------------------------- independent reference
def element_matrices(dim, dx):
    """Q1 stiffness ∫∇φ_a·∇φ_b and mass ∫φ_a φ_b on a cell of size dx (volume dx*dy*dz), by Gauss quadrature."""
    xg, wg = np.polynomial.legendre.leggauss(2)
    xg, wg = (xg + 1) / 2, wg / 2
    nodes = list(itertools.product((0, 1), repeat=dim))
    volume = np.prod(dx)
    stiffness = np.zeros((len(nodes), len(nodes)))
    mass = np.zeros_like(stiffness)
    for q in itertools.product(range(2), repeat=dim):
        xi, w = xg[list(q)], np.prod(wg[list(q)])
        values = np.array([np.prod([x if a else 1 - x for a, x in zip(node, xi)]) for node in nodes])
        grads = np.array([[(1 if node[k] else -1) / dx[k]
                           * np.prod([x if a else 1 - x for j, (a, x) in enumerate(zip(node, xi)) if j != k])
                           for k in range(dim)] for node in nodes])
        stiffness += w * volume * grads @ grads.T
        mass += w * volume * np.outer(values, values)
    return nodes, stiffness, mass


def node_shape(n, pbc):
    return tuple(c if p else c + 1 for c, p in zip(n, pbc))


def assemble(n, dx, pbc, cell_weights, element):
    """Σ_C w_C P_C^T element P_C as a sparse matrix over the nodes (periodic axes wrap around)."""
    dim = len(n)
    nodes = list(itertools.product((0, 1), repeat=dim))
    shape = node_shape(n, pbc)
    cells = np.indices(n).reshape(dim, -1)
    weights = np.asarray(cell_weights, float).reshape(-1)

    def global_index(local):
        idx = [(cells[k] + local[k]) % shape[k] for k in range(dim)]
        return np.ravel_multi_index(idx, shape)

    rows, cols, data = [], [], []
    for i, a in enumerate(nodes):
        for j, b in enumerate(nodes):
            rows.append(global_index(a))
            cols.append(global_index(b))
            data.append(weights * element[i, j])
    size = int(np.prod(shape))
    return sps.coo_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(size, size)).tocsr()


def lumped_mass(n, dx, pbc, ms, rho):
    _, _, mass = element_matrices(len(n), dx)
    return np.asarray(assemble(n, dx, pbc, ms * rho, mass).sum(axis=1)).reshape(-1)


def field_from_matrix(matrix, m, mass):
    """h = -(matrix m) / (μ0 M) per component; nodes without magnetic material get 0."""
    flat = m.reshape(-1, 3)
    force = np.stack([matrix @ flat[:, j] for j in range(3)], -1)
    h = np.zeros_like(force)
    magnetic = mass > 0
    h[magnetic] = -force[magnetic] / (MU0 * mass[magnetic, None])
    return h.reshape(m.shape)


def reference_exchange(n, dx, pbc, A, ms, rho, m):
    _, stiffness, _ = element_matrices(len(n), dx)
    K = assemble(n, dx, pbc, 2 * A * rho, stiffness)  # E = Σ_C A ρ ∫|∇m|²  →  ∂E/∂m = 2 A ρ K_e m
    return field_from_matrix(K, m, lumped_mass(n, dx, pbc, ms, rho))


def reference_uniaxial(n, dx, pbc, K, axis, ms, rho, m, lumped):
    r"""E = -Σ_C K ρ ∫ (m·u_C)² with consistent (exact integration) or lumped (nodal rule) element mass."""
    _, _, mass = element_matrices(len(n), dx)
    if lumped:
        mass = np.diag(mass.sum(axis=1))
    flat = m.reshape(-1, 3)
    force = np.zeros_like(flat)
    # -2 Σ_C K ρ M_e (m·u_C) u_C, assembled per pair of axis components
    for i in range(3):
        for j in range(3):
            force[:, i] += assemble(n, dx, pbc, -2 * K * rho * axis[..., i] * axis[..., j], mass) @ flat[:, j]
    total_mass = lumped_mass(n, dx, pbc, ms, rho)
    h = np.zeros_like(force)
    magnetic = total_mass > 0
    h[magnetic] = -force[magnetic] / (MU0 * total_mass[magnetic, None])
    return h.reshape(m.shape)


# ------------------------------------------------------------------------------------------- materials
def halves(n, left, right):
    """Cell array with ``left`` for x < L/2 and ``right`` for x >= L/2."""
    values = np.full(n, float(right))
    values[: n[0] // 2] = left
    return values


def materials(case, n, rng):
    ones = np.ones(n)
    if case == "A_Ms_jump":
        return halves(n, 1.3e-11, 0.4e-11), halves(n, 8e5, 3e5), ones
    if case == "rho_jump":
        return np.full(n, 1.1e-11), np.full(n, 6e5), halves(n, 1.0, 0.35)
    if case == "random":
        return rng.uniform(0.5e-11, 2e-11, n), rng.uniform(2e5, 1e6, n), rng.uniform(0.5, 1.0, n)
    if case == "vacuum":  # a non-magnetic region (rho = 0) at the right end and a jump in A
        rho = ones.copy()
        rho[-2:] = 0.0
        return halves(n, 1.3e-11, 2.6e-11), np.full(n, 8e5), rho
    raise ValueError(case)


def unit_field(rng, shape):
    m = rng.normal(size=shape + (3,))
    return m / np.linalg.norm(m, axis=-1, keepdims=True)


def make_state(backend, n, pbc, A, ms, rho, m):
    state = nm.State(nm.Mesh(n, DX, pbc=pbc), backend=backend, dtype="float64")
    state.material.A = A
    state.material.Ms = ms
    state.rho = rho
    state.m = m
    return state


def assert_close(actual, expected, rel=1e-10):
    scale = np.abs(expected).max()
    assert scale > 0
    err = np.abs(np.asarray(actual, np.float64) - expected).max()
    assert err <= rel * scale, f"max error {err:.3e} > {rel:.0e} × {scale:.3e}"


# ----------------------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("case", ["A_Ms_jump", "rho_jump", "random", "vacuum"])
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_exchange_matches_sparse_assembly(backend, float64, dim, case):
    rng = np.random.default_rng(dim * 10 + len(case))
    n, pbc = SHAPES[dim], (False,) * dim
    A, ms, rho = materials(case, n, rng)
    m = unit_field(rng, node_shape(n, pbc))
    state = make_state(backend, n, pbc, A, ms, rho, m)
    nm.ExchangeField().register(state)
    expected = reference_exchange(n, DX, pbc, A, ms, rho, m)
    h = state.h_exchange.numpy()
    assert h.shape == expected.shape
    assert_close(h, expected)
    if case == "vacuum":  # nodes that touch only rho = 0 cells carry no field
        assert np.all(h[-1] == 0)


@pytest.mark.parametrize("dim, pbc", [(1, (True,)), (2, (True, False)), (3, (False, True, True))])
def test_exchange_matches_sparse_assembly_periodic(backend, float64, dim, pbc):
    rng = np.random.default_rng(7)
    n = SHAPES[dim]
    A, ms, rho = materials("A_Ms_jump", n, rng)
    m = unit_field(rng, node_shape(n, pbc))
    state = make_state(backend, n, pbc, A, ms, rho, m)
    nm.ExchangeField().register(state)
    assert_close(state.h_exchange.numpy(), reference_exchange(n, DX, pbc, A, ms, rho, m))


def test_reference_assembly_against_hand_computed_jump(backend, float64):
    """Sanity check of the reference itself on a case solvable by hand (1D, two cells, A1 | A2, Ms1 | Ms2):
    the middle node gets h = 2(A1 (m0 - m1) + A2 (m2 - m1)) S/dx / (μ0 (Ms1 + Ms2) S dx/2), S = dy dz."""
    n = (2,)
    A, ms = np.array([1.3e-11, 0.4e-11]), np.array([8e5, 3e5])
    m = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.0, 0.6, 0.8]])
    S, dx = DX[1] * DX[2], DX[0]
    middle = 2 * (A[0] * (m[0] - m[1]) + A[1] * (m[2] - m[1])) * S / dx / (MU0 * (ms[0] + ms[1]) * S * dx / 2)
    reference = reference_exchange(n, DX, (False,), A, ms, np.ones(n), m)
    assert_close(reference[1], middle, 1e-13)
    state = make_state(backend, n, (False,), A, ms, np.ones(n), m)
    nm.ExchangeField().register(state)
    assert_close(state.h_exchange.numpy()[1], middle)


class ExactUniaxial(nm.FieldTerm):
    """-K (m·u)² integrated exactly (consistent mass), with its own parameter names."""

    default_name = "exact_uniaxial"

    @staticmethod
    def e_expr(m, dim):
        K = nm.Variable("material__Kj", "c" * dim)
        u = nm.Variable("material__uj", "c" * dim, (3,))
        return -K * m.dot(u) ** 2 * nm.dV(dim)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_anisotropy_with_jump_matches_sparse_assembly(backend, float64, dim):
    """K and the axis jump between the halves (with Ms and rho jumps too): the exactly integrated term matches
    the consistent-mass assembly, the built-in UniaxialAnisotropyField (nodal rule) the lumped one."""
    rng = np.random.default_rng(20 + dim)
    n, pbc = SHAPES[dim], (False,) * dim
    _, ms, _ = materials("A_Ms_jump", n, rng)
    rho = halves(n, 1.0, 0.6)
    K = halves(n, 4e5, -1.5e5)
    axis = np.where(halves(n, 1, 0)[..., None] > 0, np.array([0.0, 0.6, 0.8]), np.array([1.0, 0.0, 0.0]))
    m = unit_field(rng, node_shape(n, pbc))
    state = make_state(backend, n, pbc, np.full(n, 1e-11), ms, rho, m)
    state.material.Kj, state.material.uj = K, axis
    state.material.Ku, state.material.Ku_axis = K, axis
    ExactUniaxial().register(state)
    nm.UniaxialAnisotropyField().register(state, "uniaxial")
    consistent = reference_uniaxial(n, DX, pbc, K, axis, ms, rho, m, lumped=False)
    lumped = reference_uniaxial(n, DX, pbc, K, axis, ms, rho, m, lumped=True)
    assert np.abs(consistent - lumped).max() > 1e-3 * np.abs(lumped).max()  # the two rules really differ
    assert_close(state.h_exact_uniaxial.numpy(), consistent)
    assert_close(state.h_uniaxial.numpy(), lumped)
