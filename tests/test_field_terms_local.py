r"""Tests of the local field terms (issue 4): exchange, Zeeman, uniaxial and cubic anisotropy, DMI, TotalField.

The scheme under test: m on the nodes (Q1 elements), materials constant per cell,

.. math::
    \mathbf h_n = -\frac{1}{\mu_0 M_n}\frac{\partial E}{\partial \mathbf m_n},\qquad
    M_n = \sum_{C \ni n} M_s \rho\, |C| / 2^d .

Expected values come from closed forms derived by hand (helices, uniform states, the nodal quadrature rule
written out in NumPy) or from automatic differentiation of the energy, never from the field kernels themselves.
Helpers defined here (``nodal_mass``, ``energy_gradient``, ``random_state``, ...) are reused by ``test_dmi.py``.
"""

import numpy as np
import pytest

import neuralmag as nm
from tests.utils import to_numpy

MU0 = 4e-7 * np.pi  # the value neuralmag uses (neuralmag.forms.ir.MU0), written down independently


@pytest.fixture(autouse=True)
def eager():
    """Run JAX eagerly: these tests check the generated kernels, and compiling every kernel (and its gradient)
    with XLA for dozens of tiny states would dominate the run time. Tests that need jit request ``jitted``."""
    old = nm.config.jit
    nm.config.jit = False
    yield
    nm.config.jit = old


@pytest.fixture
def jitted(eager):
    nm.config.jit = True
    yield

# --------------------------------------------------------------------------------------------- helpers


def nodal_mass(weight, dx, dim):
    r"""Lumped nodal mass :math:`\sum_{C\ni n} w_C |C| / 2^d` of a cell array ``weight`` (NumPy, no pbc)."""
    weight = np.asarray(weight, dtype=float)
    cell = weight * np.prod(dx) / 2**dim
    mass = np.zeros(tuple(s + 1 for s in weight.shape[:dim]) + weight.shape[dim:])
    for corner in np.ndindex(*(2,) * dim):
        mass[tuple(slice(c, c + s) for c, s in zip(corner, weight.shape[:dim]))] += cell
    return mass


def cell_corners(nodal, dim):
    """The 2^d corner values of every cell of a nodal array, as a list of cell-shaped arrays."""
    n = tuple(s - 1 for s in nodal.shape[:dim])
    return [nodal[tuple(slice(c, c + s) for c, s in zip(corner, n))] for corner in np.ndindex(*(2,) * dim)]


def unit(v):
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def random_frames(rng, shape):
    """Random orthonormal pairs (c1, c2) of the given spatial shape."""
    c1 = unit(rng.normal(size=shape + (3,)))
    c2 = rng.normal(size=shape + (3,))
    c2 = unit(c2 - np.sum(c2 * c1, -1, keepdims=True) * c1)
    return c1, c2


def energy_gradient(state, name, wrt="m", value=None):
    """∂E/∂(wrt) by automatic differentiation of ``state.resolve(name, [wrt])`` (NumPy float64)."""
    f = state.resolve(name, [wrt])
    if value is None:
        value = getattr(state, wrt)
        value = value.tensor if isinstance(value, nm.Function) else value
    if state.backend.name == "jax":
        import jax

        return np.asarray(jax.grad(f)(value), dtype=np.float64)
    x = value.detach().clone().requires_grad_(True)
    f(x).backward()
    return x.grad.detach().numpy().astype(np.float64)


def rel_err(actual, expected):
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    return np.abs(actual - expected).max() / np.abs(expected).max()


def xp(state):
    """The array module of the state's backend (for dynamic attributes written in tests)."""
    if state.backend.name == "jax":
        import jax.numpy as jnp

        return jnp
    import torch

    return torch


# Meshes for the generic tests: unequal cell sizes and counts so that axis mix-ups show.
MESHES = {
    1: ((7,), (1.0e-9, 2.0e-9, 3.0e-9)),
    2: ((5, 4), (1.0e-9, 1.5e-9, 3.0e-9)),
    3: ((4, 3, 2), (1.0e-9, 1.5e-9, 2.0e-9)),
}

#: every local term, built from the random data of ``random_data``
TERMS = {
    "exchange": lambda d: nm.ExchangeField(),
    "external": lambda d: nm.ExternalField(d["h_applied"]),
    "uniaxial": lambda d: nm.UniaxialAnisotropyField(),
    "uniaxial2": lambda d: nm.UniaxialAnisotropyField(second_order=True),
    "cubic": lambda d: nm.CubicAnisotropyField(order=3),
    "interface_dmi": lambda d: nm.InterfaceDMIField(),
    "interface_dmi_tilted": lambda d: nm.InterfaceDMIField(normal=(1.0, -2.0, 2.0)),
    "bulk_dmi": lambda d: nm.BulkDMIField(),
    "d2d_dmi": lambda d: nm.D2dDMIField(),
    "lifshitz": lambda d: nm.LifshitzInvariantField("zxy", "-xyz", "yxz", "xzx"),
}


def random_data(dim, seed=0):
    """Random unit m, applied field and per-cell materials (all in [0.5, 1] times a typical scale)."""
    n, dx = MESHES[dim]
    rng = np.random.default_rng(seed)
    nodes = tuple(k + 1 for k in n)

    def cells(scale):
        return scale * rng.uniform(0.5, 1.0, n)

    c1, c2 = random_frames(rng, n)
    return {
        "n": n, "dx": dx, "dim": dim,
        "m": unit(rng.normal(size=nodes + (3,))),
        "h_applied": 1e5 * rng.normal(size=nodes + (3,)),
        "Ms": cells(8e5), "rho": cells(1.0),
        "A": cells(1.3e-11), "D": cells(3e-3),
        "Ku": cells(4e5), "Ku2": cells(1e5), "Ku_axis": unit(rng.normal(size=n + (3,))),
        "Kc1": cells(5e4), "Kc2": cells(-3e4), "Kc3": cells(2e4), "Kc_axis1": c1, "Kc_axis2": c2,
    }


MATERIALS = ("Ms", "A", "D", "Ku", "Ku2", "Ku_axis", "Kc1", "Kc2", "Kc3", "Kc_axis1", "Kc_axis2")


def random_state(backend, dtype, term, data):
    """A state with all materials of ``data`` and the term ``term`` registered as ``name = term``."""
    state = nm.State(nm.Mesh(data["n"], data["dx"]), backend=backend, dtype=dtype)
    for key in MATERIALS:
        setattr(state.material, key, data[key])
    state.rho = data["rho"]
    state.m = data["m"]
    TERMS[term](data).register(state, term)
    return state


# ------------------------------------------------------------------------------------------ exchange


def helix_state(n, dx, A, Ms, k):
    """Exchange on the helix m = (cos kx, sin kx, 0) on mesh (n, dx)."""
    state = nm.State(nm.Mesh(n, dx))
    state.material.Ms, state.material.A = Ms, A
    x = state.coordinates("n", numpy=True)[0]
    state.m = np.stack([np.cos(k * x), np.sin(k * x), 0 * x], -1)
    nm.ExchangeField().register(state)
    return state


def test_exchange_helix_energy_and_field(backend, float64):
    r"""m = (cos kx, sin kx, 0): e = A k². The discrete energy of the Q1 interpolant is exactly
    A k² sinc²(k dx/2) per volume (each cell: |m_1 - m_0|² / dx = 4 sin²(k dx/2)/dx), the field at the interior
    nodes (along x; y and z are uniform) is -2Ak²/(μ0 Ms) sinc²(k dx/2) m (second difference). Checked on a 3D
    slab and on a wire, where the convergence to the continuum values is measured: second order."""
    A, Ms = 1.3e-11, 8e5
    n, dx = MESHES[3]
    cases = [(n, dx, 2 * np.pi * 0.3 / dx[0])]  # coarse: k dx = 0.6 π, far from the continuum limit
    length, cells_list = 20e-9, (10, 20, 40)
    cases += [((c,), (length / c, 2e-9, 1.5e-9), 2 * np.pi * 1.3 / length) for c in cells_list]
    e_errs, h_errs = [], []
    for n, dx, k in cases:
        state = helix_state(n, dx, A, Ms, k)
        m = to_numpy(state.m)
        sinc2 = (np.sin(k * dx[0] / 2) / (k * dx[0] / 2)) ** 2
        V = state.mesh.volume
        E = float(to_numpy(state.E_exchange))
        np.testing.assert_allclose(E, A * k**2 * V * sinc2, rtol=1e-12)
        np.testing.assert_allclose(to_numpy(state.e_exchange), A * k**2 * sinc2, rtol=1e-12)
        h = to_numpy(state.h_exchange)[1:-1]
        continuum = -2 * A * k**2 / (MU0 * Ms) * m[1:-1]
        np.testing.assert_allclose(h, continuum * sinc2, rtol=0, atol=1e-10 * np.abs(continuum).max())
        e_errs.append(abs(E - A * k**2 * V) / (A * k**2 * V))
        h_errs.append(rel_err(h, continuum))
    for errs in (e_errs[1:], h_errs[1:]):
        order = np.log2(errs[0] / errs[1]), np.log2(errs[1] / errs[2])
        assert all(1.95 < o < 2.05 for o in order), (errs, order)
    assert e_errs[-1] < 0.01 and h_errs[-1] < 0.01


def test_exchange_oblique_helix_energy_second_order(backend, float64):
    """A helix along an oblique direction in 2D: E → A|k|² V at second order (no exact discrete form)."""
    A, length = 1.3e-11, 20e-9
    kvec = np.array([2 * np.pi / length, 1.4 * np.pi / length])
    errs = []
    for cells in (12, 24):
        state = nm.State(nm.Mesh((cells, cells), (length / cells, length / cells, 2e-9)))
        state.material.Ms, state.material.A = 8e5, A
        x, y, _ = state.coordinates("n", numpy=True)
        phase = kvec[0] * x + kvec[1] * y
        state.m = np.stack([np.cos(phase), np.sin(phase), 0 * x], -1)
        nm.ExchangeField().register(state)
        exact = A * (kvec @ kvec) * state.mesh.volume
        errs.append(abs(float(to_numpy(state.E_exchange)) - exact) / exact)
    order = np.log2(errs[0] / errs[1])
    assert 1.9 < order < 2.1, errs
    assert errs[-1] < 0.02


def test_exchange_periodic_helix_exact_everywhere(backend, float64):
    """With pbc along x and a commensurate helix every node is interior: the discrete field and energy
    density are A k² sinc²(k dx/2) everywhere."""
    A, Ms, cells, dx = 1.3e-11, 8e5, 12, 1.5e-9
    k = 2 * np.pi * 2 / (cells * dx)
    state = nm.State(nm.Mesh((cells, 2), (dx, 2e-9, 2e-9), pbc=(True, False)))
    state.material.Ms, state.material.A = Ms, A
    x = state.coordinates("n", numpy=True)[0]
    m = np.stack([np.cos(k * x), np.sin(k * x), 0 * x], -1)
    state.m = m
    nm.ExchangeField().register(state)
    sinc2 = (np.sin(k * dx / 2) / (k * dx / 2)) ** 2
    expected = -2 * A * k**2 * sinc2 / (MU0 * Ms) * m
    np.testing.assert_allclose(to_numpy(state.h_exchange), expected, rtol=0, atol=1e-10 * np.abs(expected).max())
    np.testing.assert_allclose(float(to_numpy(state.E_exchange)), A * k**2 * sinc2 * state.mesh.volume, rtol=1e-12)


# ------------------------------------------------------------------------------------------ anisotropy


def uniaxial_density(m, axis, Ku, Ku2=0.0):
    a = np.sum(m * axis, -1)
    return -Ku * a**2 - Ku2 * a**4


def uniaxial_gradient(m, axis, Ku, Ku2=0.0):
    """∂e/∂m of the uniaxial density (hand-derived)."""
    a = np.sum(m * axis, -1)
    return (-2 * np.asarray(Ku) * a - 4 * np.asarray(Ku2) * a**3)[..., None] * axis


def cubic_density(m, c1, c2, K1, K2=0.0, K3=0.0):
    c3 = np.cross(c1, c2)
    a1, a2, a3 = (np.sum(m * c, -1) for c in (c1, c2, c3))
    return (K1 * (a1**2 * a2**2 + a2**2 * a3**2 + a3**2 * a1**2) + K2 * a1**2 * a2**2 * a3**2
            + K3 * (a1**4 * a2**4 + a2**4 * a3**4 + a3**4 * a1**4))


def cubic_gradient(m, c1, c2, K1, K2=0.0, K3=0.0):
    r"""∂e/∂m = Σ_i (∂e/∂a_i) c_i with ∂e/∂a_1 = 2K1 a1(a2²+a3²) + 2K2 a1 a2² a3² + 4K3 a1³(a2⁴+a3⁴), cyclic."""
    c3 = np.cross(c1, c2)
    a = [np.sum(m * c, -1) for c in (c1, c2, c3)]
    grad = 0.0
    for i, c in enumerate((c1, c2, c3)):
        ai, aj, ak = a[i], a[(i + 1) % 3], a[(i + 2) % 3]
        de = 2 * K1 * ai * (aj**2 + ak**2) + 2 * K2 * ai * aj**2 * ak**2 + 4 * K3 * ai**3 * (aj**4 + ak**4)
        grad = grad + np.asarray(de)[..., None] * c
    return grad


UNIFORM_MESH = MESHES[3]
NODES, CELLS = (5, 4, 3, 3), (4, 3, 2)  # nodal vector / cell scalar shapes of UNIFORM_MESH


@pytest.mark.parametrize("second_order", [False, True])
def test_uniaxial_uniform_m_exact(backend, float64, second_order):
    """Uniform m: h = [2Ku (m·e) + 4Ku2 (m·e)³] e / (μ0 Ms) at every node, e = -Ku (m·e)² - Ku2 (m·e)⁴ in every
    cell, E = V e."""
    Ms, Ku, Ku2 = 8e5, 4e5, 1.5e5 if second_order else 0.0
    axis, m = unit([1.0, 2.0, -2.0]), unit([0.3, -0.5, 0.8])
    state = nm.State(nm.Mesh(*UNIFORM_MESH))
    state.material.Ms, state.material.Ku, state.material.Ku_axis = Ms, Ku, axis
    if second_order:
        state.material.Ku2 = Ku2
    state.m = nm.VectorFunction(state).fill(m)
    nm.UniaxialAnisotropyField(second_order=second_order).register(state, "uniaxial")
    a = m @ axis
    h = (2 * Ku * a + 4 * Ku2 * a**3) / (MU0 * Ms) * axis
    e = -Ku * a**2 - Ku2 * a**4
    np.testing.assert_allclose(to_numpy(state.h_uniaxial), np.broadcast_to(h, NODES), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(state.e_uniaxial), np.full(CELLS, e), rtol=1e-12)
    np.testing.assert_allclose(float(to_numpy(state.E_uniaxial)), e * state.mesh.volume, rtol=1e-12)
    # physical sanity of the sign: easy axis energy is minimal along ±axis
    state.m = nm.VectorFunction(state).fill(-axis)
    np.testing.assert_allclose(float(to_numpy(state.E_uniaxial)), -(Ku + Ku2) * state.mesh.volume, rtol=1e-12)


@pytest.mark.parametrize("order", [1, 3])
def test_cubic_uniform_m_exact(backend, float64, order):
    """Uniform m in a rotated cubic frame: h = -(1/μ0Ms) ∂e/∂m (hand-derived) at every node, E = V e(m);
    special directions: e = 0 along an axis, e = K1/3 + K2/27 + K3/27 along a body diagonal."""
    Ms = 8e5
    K = (5e4, -3e4 if order >= 2 else 0.0, 2e4 if order >= 3 else 0.0)
    c1 = unit([1.0, 1.0, 0.0])
    c2 = unit([-1.0, 1.0, 1.0])
    c2 = unit(c2 - (c2 @ c1) * c1)
    c3 = np.cross(c1, c2)
    state = nm.State(nm.Mesh(*UNIFORM_MESH))
    state.material.Ms, state.material.Kc_axis1, state.material.Kc_axis2 = Ms, c1, c2
    for i, name in enumerate(("Kc1", "Kc2", "Kc3")[:order]):
        setattr(state.material, name, K[i])
    nm.CubicAnisotropyField(order=order).register(state, "cubic")
    V = state.mesh.volume
    for m, e_special in ((unit([0.3, -0.5, 0.8]), None), (c2, 0.0),
                         (unit(c1 + c2 + c3), K[0] / 3 + K[1] / 27 + K[2] / 27),
                         (unit(c1 - c3), K[0] / 4 + K[2] / 16)):
        state.m = nm.VectorFunction(state).fill(m)
        e = cubic_density(m, c1, c2, *K)
        if e_special is not None:
            np.testing.assert_allclose(e, e_special, rtol=1e-12, atol=1e-12 * K[0])
        h = -cubic_gradient(m, c1, c2, *K) / (MU0 * Ms)
        np.testing.assert_allclose(to_numpy(state.h_cubic), np.broadcast_to(h, NODES), rtol=1e-10,
                                   atol=1e-12 * 2 * K[0] / (MU0 * Ms))
        np.testing.assert_allclose(float(to_numpy(state.E_cubic)), e * V, rtol=1e-12, atol=1e-14 * K[0] * V)
        np.testing.assert_allclose(to_numpy(state.e_cubic), np.full(CELLS, e), rtol=1e-12,
                                   atol=1e-14 * K[0])


LOCAL_TERMS = ["uniaxial", "uniaxial2", "cubic", "external"]


def local_density_and_gradient(term, data, m):
    """Hand-derived pointwise energy density e(m) (cell-wise materials, m given per cell) and ∂e/∂m."""
    if term in ("uniaxial", "uniaxial2"):
        args = (data["Ku_axis"], data["Ku"], data["Ku2"] if term == "uniaxial2" else 0.0)
        return uniaxial_density(m, *args), uniaxial_gradient(m, *args)
    if term == "cubic":
        args = (data["Kc_axis1"], data["Kc_axis2"], data["Kc1"], data["Kc2"], data["Kc3"])
        return cubic_density(m, *args), cubic_gradient(m, *args)
    raise ValueError(term)


@pytest.mark.parametrize("term, dim", [(term, 3) for term in LOCAL_TERMS] + [("uniaxial2", 2), ("uniaxial", 1)])
def test_local_terms_follow_nodal_rule(backend, float64, term, dim):
    r"""Local terms with random m and random per-cell materials against the nodal (mass-lumped) rule written
    out in NumPy: E = Σ_C Σ_corners ρ_C |C|/2^d e_C(m_corner), h_n = -Σ_{C∋n} ρ_C |C|/2^d ∂e_C/∂m(m_n) / (μ0 M_n).
    For the Zeeman term h_n is the applied field itself."""
    data = random_data(dim, seed=dim)
    state = random_state(backend, "float64", term, data)
    m, rho, dx = data["m"], data["rho"], data["dx"]
    weight = rho * np.prod(dx) / 2**dim
    E, grad = 0.0, np.zeros_like(m)
    n = data["n"]
    for corner, m_c in zip(np.ndindex(*(2,) * dim), cell_corners(m, dim)):
        index = tuple(slice(c, c + s) for c, s in zip(corner, n))
        if term == "external":
            h = data["h_applied"][index]
            e, de = -MU0 * data["Ms"] * np.sum(m_c * h, -1), -MU0 * data["Ms"][..., None] * h
        else:
            e, de = local_density_and_gradient(term, data, m_c)
        E += np.sum(weight * e)
        grad[index] += weight[..., None] * de
    mass = nodal_mass(data["Ms"] * rho, dx, dim)
    expected_h = -grad / (MU0 * mass[..., None])
    if term == "external":
        np.testing.assert_allclose(expected_h, data["h_applied"], rtol=1e-12)
    h = to_numpy(getattr(state, f"h_{term}"))
    np.testing.assert_allclose(h, expected_h, rtol=0, atol=1e-12 * np.abs(expected_h).max())
    np.testing.assert_allclose(float(to_numpy(getattr(state, f"E_{term}"))), E, rtol=1e-12)


def test_dynamic_materials(backend, float64):
    """Materials as dynamic attributes: Ku(t) changes the field when t changes; an axis given by an angle
    attribute is differentiable, ∂E/∂α = -2 Ku V (m·e)(m·∂e/∂α) for e = (sin α, 0, cos α); D = D0 × pattern
    gives ∂E_dmi/∂D0 = E_dmi/D0 (E is linear in D)."""
    Ms, Ku0, tau = 8e5, 1e5, 1e-9
    m = unit([0.6, -0.2, 0.8])
    state = nm.State(nm.Mesh(*UNIFORM_MESH))
    state.material.Ms = Ms
    state.m = nm.VectorFunction(state).fill(m)
    np_ = xp(state)
    state.material.Ku = lambda t: Ku0 * (1 + t / tau)
    state.alpha = state.tensor(0.3)
    state.material.Ku_axis = lambda alpha: state.backend.stack([np_.sin(alpha), 0 * alpha, np_.cos(alpha)])
    nm.UniaxialAnisotropyField().register(state)
    V = state.mesh.volume
    for t, alpha in ((0.0, 0.3), (0.5e-9, 1.2)):
        state.t, state.alpha = t, state.tensor(alpha)
        Ku = Ku0 * (1 + t / tau)
        e, de = np.array([np.sin(alpha), 0, np.cos(alpha)]), np.array([np.cos(alpha), 0, -np.sin(alpha)])
        np.testing.assert_allclose(to_numpy(state.h_uniaxial), np.broadcast_to(2 * Ku * (m @ e) / (MU0 * Ms) * e,
                                                                                NODES), rtol=1e-12, atol=1e-6)
        np.testing.assert_allclose(float(to_numpy(state.E_uniaxial)), -Ku * V * (m @ e) ** 2, rtol=1e-12)
        np.testing.assert_allclose(energy_gradient(state, "E_uniaxial", "alpha"), -2 * Ku * V * (m @ e) * (m @ de),
                                   rtol=1e-10)
    pattern = state.tensor(np.random.default_rng(9).uniform(0.5, 1.0, CELLS))
    state.D0 = state.tensor(2e-3)
    state.material.D = lambda D0: D0 * pattern
    state.m = unit(np.random.default_rng(10).normal(size=NODES))
    nm.InterfaceDMIField().register(state)
    E = float(to_numpy(state.E_dmi))
    assert abs(E) > 0
    np.testing.assert_allclose(energy_gradient(state, "E_dmi", "D0"), E / 2e-3, rtol=1e-10)


# -------------------------------------------------------------------------------- autodiff consistency


GRADIENT_CASES = [(term, 3) for term in TERMS] + [("interface_dmi", 2), ("d2d_dmi", 2), ("interface_dmi", 1)]


@pytest.mark.parametrize("term, dim", GRADIENT_CASES)
def test_field_is_energy_gradient(backend, float64, term, dim):
    """For random m and random per-cell Ms, rho, A, D, K*, axes: h_n = -∂E/∂m_n / (μ0 M_n) with ∂E/∂m by
    autodiff of state.resolve("E_<term>", ["m"]) and the lumped mass M_n computed in NumPy."""
    data = random_data(dim, seed=10 + dim)
    state = random_state(backend, "float64", term, data)
    grad = energy_gradient(state, f"E_{term}")
    mass = nodal_mass(data["Ms"] * data["rho"], data["dx"], dim)
    expected = -grad / (MU0 * mass[..., None])
    h = to_numpy(getattr(state, f"h_{term}"))
    assert np.abs(expected).max() > 0
    assert rel_err(h, expected) < 1e-10
    # the energy density integrates to the energy
    e = to_numpy(getattr(state, f"e_{term}"))
    np.testing.assert_allclose(np.sum(e) * np.prod(data["dx"]), float(to_numpy(getattr(state, f"E_{term}"))),
                               rtol=1e-10, atol=1e-12 * np.sum(np.abs(e)) * np.prod(data["dx"]))


# ------------------------------------------------------------------------------------------ regions


@pytest.mark.parametrize("term", list(TERMS))
def test_zero_field_outside_rho(backend, float64, term):
    """rho = 0 in the lower half (x) of the mesh: nodes touching only such cells get h = 0, the energy density
    vanishes there and E does not depend on m at those nodes; nodes of magnetic cells do feel a field."""
    data = random_data(3, seed=3)
    rho = np.ones(data["n"])
    rho[: data["n"][0] // 2] = 0.0
    data["rho"] = rho
    state = random_state(backend, "float64", term, data)
    vacuum_nodes = nodal_mass(rho, data["dx"], 3) == 0
    assert vacuum_nodes.sum() == 2 * 4 * 3  # nodes x = 0, 1 (cells 0, 1 are vacuum)
    h = to_numpy(getattr(state, f"h_{term}"))
    assert np.all(h[vacuum_nodes] == 0.0)
    assert np.abs(h[~vacuum_nodes]).min(axis=-1).max() > 0
    e = to_numpy(getattr(state, f"e_{term}"))
    assert np.all(e[rho == 0] == 0.0)
    assert np.abs(e[rho > 0]).max() > 0
    E = float(to_numpy(getattr(state, f"E_{term}")))
    m = data["m"].copy()
    m[vacuum_nodes] = unit(np.random.default_rng(99).normal(size=m[vacuum_nodes].shape))
    state.m = m
    np.testing.assert_allclose(float(to_numpy(getattr(state, f"E_{term}"))), E, rtol=1e-13)
    if term == "external":  # the applied field itself is defined everywhere
        np.testing.assert_allclose(to_numpy(state.h_external_applied), data["h_applied"], rtol=1e-14)


# --------------------------------------------------------------------------------------- external field


def test_external_constant_field(backend, float64):
    """A constant 3-vector: h = h_applied at every node, E = -μ0 Ms V m·h for uniform m."""
    Ms, h0, m = 8e5, np.array([1e5, -2e4, 3e4]), unit([0.2, 0.4, -0.9])
    state = nm.State(nm.Mesh(*UNIFORM_MESH))
    state.material.Ms = Ms
    state.m = nm.VectorFunction(state).fill(m)
    nm.ExternalField(h0).register(state)
    np.testing.assert_allclose(to_numpy(state.h_external), np.broadcast_to(h0, NODES), rtol=1e-14)
    np.testing.assert_allclose(to_numpy(state.h_external_applied), np.broadcast_to(h0, NODES), rtol=1e-14)
    V = state.mesh.volume
    np.testing.assert_allclose(float(to_numpy(state.E_external)), -MU0 * Ms * V * (m @ h0), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(state.e_external), np.full(CELLS, -MU0 * Ms * (m @ h0)), rtol=1e-12)


def test_external_nodal_field(backend, float64):
    """A nodal tensor (NumPy array and VectorFunction): h = the tensor; E = -μ0 Σ_n M_n m_n·h_n (nodal rule)."""
    n, dx = UNIFORM_MESH
    rng = np.random.default_rng(5)
    h0 = 1e5 * rng.normal(size=NODES)
    m = unit(rng.normal(size=NODES))
    Ms = 8e5 * rng.uniform(0.5, 1.0, n)
    mass = nodal_mass(Ms, dx, 3)
    for applied in ("array", "function"):
        state = nm.State(nm.Mesh(n, dx))
        state.material.Ms = Ms
        state.m = m
        h_arg = h0 if applied == "array" else nm.VectorFunction(state, tensor=h0)
        nm.ExternalField(h_arg).register(state, "zeeman")
        np.testing.assert_allclose(to_numpy(state.h_zeeman), h0, rtol=1e-14)
        np.testing.assert_allclose(float(to_numpy(state.E_zeeman)), -MU0 * np.sum(mass * np.sum(m * h0, -1)),
                                   rtol=1e-12)


def test_external_time_dependent_field(backend, float64, jitted):
    """h = lambda t: ... : reading state.h_external after changing state.t gives the new field (no
    re-registration); the energy follows; a resolved function of t gives the same values at any t."""
    Ms, H0, f = 8e5, 1e5, 1e9
    m = unit([0.6, 0.0, 0.8])
    state = nm.State(nm.Mesh(*UNIFORM_MESH))
    state.material.Ms = Ms
    state.m = nm.VectorFunction(state).fill(m)
    np_ = xp(state)

    def pulse(t):
        return state.backend.stack([H0 * np_.sin(2 * np.pi * f * t), 0 * t + 2e4, H0 * np_.cos(2 * np.pi * f * t)])

    nm.ExternalField(pulse).register(state)
    V = state.mesh.volume
    E_of_t = state.resolve("E_external", ["t"])
    for t in (0.0, 0.1e-9, 0.25e-9, 0.7e-9):
        state.t = t
        expected = np.array([H0 * np.sin(2 * np.pi * f * t), 2e4, H0 * np.cos(2 * np.pi * f * t)])
        np.testing.assert_allclose(to_numpy(state.h_external), np.broadcast_to(expected, NODES),
                                   rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(to_numpy(state.h_external_applied)[0, 0, 0], expected, rtol=1e-12, atol=1e-9)
        E = -MU0 * Ms * V * (m @ expected)
        np.testing.assert_allclose(float(to_numpy(state.E_external)), E, rtol=1e-12)
        np.testing.assert_allclose(float(to_numpy(E_of_t(state.tensor(t)))), E, rtol=1e-12)


def test_external_time_dependent_nodal_field(backend, float64):
    """A callable returning a nodal tensor (a spatial profile times a ramp) passes through unchanged."""
    n, dx = UNIFORM_MESH
    rng = np.random.default_rng(6)
    profile = 1e5 * rng.normal(size=NODES)
    state = nm.State(nm.Mesh(n, dx))
    state.material.Ms = 8e5
    state.m = nm.VectorFunction(state).fill((0, 0, 1))
    profile_t = state.tensor(profile)
    nm.ExternalField(lambda t: profile_t * (1 + t / 1e-9)).register(state)
    for t in (0.0, 0.5e-9, 2e-9):
        state.t = t
        np.testing.assert_allclose(to_numpy(state.h_external), profile * (1 + t / 1e-9), rtol=1e-12)


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_external_callable_returning_components(backend, precision):
    """A callable may return a tuple/list of components: numbers, scalar tensors (functions of t) or nodal
    tensors, e.g. lambda t: (0, 0, H0 sin(ωt)); the result is broadcast to the nodes in the state's dtype."""
    n, dx = UNIFORM_MESH
    state = nm.State(nm.Mesh(n, dx), dtype=precision)
    state.material.Ms = 8e5
    state.m = nm.VectorFunction(state).fill((0, 0, 1))
    np_ = xp(state)
    profile = np.random.default_rng(8).normal(size=NODES[:-1])
    profile_t = state.tensor(profile)
    nm.ExternalField(lambda t: (2e4, 0, 1e5 * np_.sin(2 * np.pi * 1e9 * t))).register(state, "pulse")
    nm.ExternalField(lambda t: [1e4 * profile_t, 3e4 * (1 + t / 1e-9), 0.0]).register(state, "profile")
    for t in (0.0, 0.25e-9):
        state.t = t
        h = state.h_pulse
        assert str(h.tensor.dtype).endswith(precision)
        expected = np.broadcast_to([2e4, 0.0, 1e5 * np.sin(2 * np.pi * 1e9 * t)], NODES)
        np.testing.assert_allclose(to_numpy(h), expected, rtol=1e-6, atol=1e-6 * 1e5)
        expected = np.stack([1e4 * profile, np.full(NODES[:-1], 3e4 * (1 + t / 1e-9)), np.zeros(NODES[:-1])], -1)
        np.testing.assert_allclose(to_numpy(state.h_profile), expected, rtol=1e-6, atol=1e-6 * 1e5)


def test_external_field_gradient_wrt_angles(backend, float64, jitted):
    """A6-style inverse problem: h(angles) = Hc/2 (cos φ sin θ, sin φ sin θ, cos θ) with state.angles = (φ, θ) a
    tensor; ∂E/∂angles by autodiff through state.resolve("E_external", ["angles"]) equals the analytic
    derivative of E = -μ0 Ms V m·h."""
    Ms, Hc = 8e5, 2e5
    m = unit([0.3, -0.4, 0.85])
    state = nm.State(nm.Mesh(*UNIFORM_MESH))
    state.material.Ms = Ms
    state.m = nm.VectorFunction(state).fill(m)
    np_ = xp(state)
    state.angles = state.tensor([0.4, 1.1])
    nm.ExternalField(lambda angles: Hc / 2 * state.backend.stack([
        np_.cos(angles[0]) * np_.sin(angles[1]), np_.sin(angles[0]) * np_.sin(angles[1]), np_.cos(angles[1])])
    ).register(state)
    V = state.mesh.volume
    for phi, theta in ((0.4, 1.1), (2.0, 0.3)):
        angles = state.tensor([phi, theta])
        state.angles = angles
        h = Hc / 2 * np.array([np.cos(phi) * np.sin(theta), np.sin(phi) * np.sin(theta), np.cos(theta)])
        np.testing.assert_allclose(float(to_numpy(state.E_external)), -MU0 * Ms * V * (m @ h), rtol=1e-12)
        dh_dphi = Hc / 2 * np.array([-np.sin(phi) * np.sin(theta), np.cos(phi) * np.sin(theta), 0.0])
        dh_dtheta = Hc / 2 * np.array([np.cos(phi) * np.cos(theta), np.sin(phi) * np.cos(theta), -np.sin(theta)])
        expected = -MU0 * Ms * V * np.array([m @ dh_dphi, m @ dh_dtheta])
        grad = energy_gradient(state, "E_external", "angles", angles)
        np.testing.assert_allclose(grad, expected, rtol=1e-10)


# ------------------------------------------------------------------------------------------ TotalField


def test_total_field_sums_terms(backend, float64):
    """TotalField('exchange', 'uniaxial', 'external'): state.h and state.E are the sums; a named total gets
    h_<name>/E_<name>; unknown terms are rejected."""
    data = random_data(3, seed=7)
    state = random_state(backend, "float64", "exchange", data)
    TERMS["uniaxial"](data).register(state, "uniaxial")
    nm.ExternalField(data["h_applied"]).register(state)
    nm.TotalField("exchange", "uniaxial", "external").register(state)
    names = ("exchange", "uniaxial", "external")
    h_sum = sum(to_numpy(getattr(state, f"h_{n}")) for n in names)
    E_sum = sum(float(to_numpy(getattr(state, f"E_{n}"))) for n in names)
    np.testing.assert_allclose(to_numpy(state.h), h_sum, rtol=1e-13, atol=1e-13 * np.abs(h_sum).max())
    np.testing.assert_allclose(float(to_numpy(state.E)), E_sum, rtol=1e-13)
    # the total is the gradient of the total energy
    mass = nodal_mass(data["Ms"] * data["rho"], data["dx"], 3)
    assert rel_err(to_numpy(state.h), -energy_gradient(state, "E") / (MU0 * mass[..., None])) < 1e-10
    nm.TotalField("uniaxial", "external").register(state, "local")
    np.testing.assert_allclose(to_numpy(state.h_local), to_numpy(state.h_uniaxial) + to_numpy(state.h_external),
                               rtol=1e-13, atol=1e-13 * np.abs(h_sum).max())
    with pytest.raises(ValueError):
        nm.TotalField("exchange", "nonexistent").register(state)


# ------------------------------------------------------------------------- backends and precision


def outputs(state, term):
    return (to_numpy(getattr(state, f"h_{term}")), float(to_numpy(getattr(state, f"E_{term}"))),
            to_numpy(getattr(state, f"e_{term}")))


def assert_outputs_close(actual, expected, dx, rtol):
    h, E, e = actual
    h0, E0, e0 = expected
    assert np.abs(h0).max() > 0
    assert rel_err(h, h0) < rtol
    assert rel_err(e, e0) < rtol
    energy_scale = np.sum(np.abs(e0)) * np.prod(dx)
    assert abs(E - E0) < rtol * energy_scale


@pytest.mark.parametrize("term", list(TERMS))
def test_backends_agree(term):
    """JAX and PyTorch give the same field, energy and energy density to 1e-12 (float64, random inputs)."""
    data = random_data(3, seed=21)
    jax_out = outputs(random_state("jax", "float64", term, data), term)
    torch_out = outputs(random_state("torch", "float64", term, data), term)
    assert_outputs_close(torch_out, jax_out, data["dx"], 1e-12)


@pytest.mark.parametrize("term", list(TERMS))
def test_precision(backend, dtype, term):
    """The term runs in the configured dtype and stays within 1e-5 (relative) of float64."""
    data = random_data(3, seed=22)
    state = random_state(backend, dtype, term, data)
    h = getattr(state, f"h_{term}")
    assert str(h.tensor.dtype).endswith(dtype)
    assert str(getattr(state, f"E_{term}").dtype).endswith(dtype)
    if dtype == "float64":
        return  # the reference itself
    reference = outputs(random_state(backend, "float64", term, data), term)
    assert_outputs_close(outputs(state, term), reference, data["dx"], 1e-5)


def test_invalid_arguments():
    for order in (0, 4):
        with pytest.raises(ValueError):
            nm.CubicAnisotropyField(order=order)
    with pytest.raises(ValueError):
        nm.TotalField()
