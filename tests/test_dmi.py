r"""Tests of the DMI terms (issue 4): helix energies and fields with the signs of the module's convention,
equivalences with Lifshitz invariants, and the canted natural boundary condition of interfacial DMI.

Conventions (``neuralmag.field_terms.dmi``, Cortés-Ortuño et al. 2018 / Ubermag), with
:math:`L^{(k)}_{ij} = m_i\partial_k m_j - m_j\partial_k m_i`:

* interfacial (normal z): :math:`e = D(L^{(x)}_{xz} + L^{(y)}_{yz})`,
* bulk: :math:`e = D\,\mathbf m\cdot\nabla\times\mathbf m = -D(L^{(x)}_{yz} + L^{(y)}_{zx} + L^{(z)}_{xy})`,
* D2d: :math:`e = D\,\mathbf m\cdot(\partial_x\mathbf m\times\hat x - \partial_y\mathbf m\times\hat y)
  = D(L^{(x)}_{yz} + L^{(y)}_{xz})`.

Hand derivations used below. For a helix rotating in the (i, j) plane along axis k, :math:`m_i = \sin\theta,
m_j = \cos\theta`, :math:`\theta = k x_k`: :math:`L^{(k)}_{ij} = -k`. On the Q1 interpolant of such a profile,
:math:`\int_{\text{cell}} L^{(k)}_{ij}\,\mathrm dx_k = m_i^0 m_j^1 - m_i^1 m_j^0 = -\sin(k\,\Delta x_k)`, so the
discrete energy density is the continuum one times :math:`\operatorname{sinc}(k\Delta x_k) =
\sin(k\Delta x_k)/(k\Delta x_k)`. For :math:`E = \pm\int D L^{(k)}_{ij}` the functional derivative is
:math:`\pm 2D(\partial_k m_j\,\hat e_i - \partial_k m_i\,\hat e_j)`, which on the helix is parallel to m: a helix
with energy density :math:`e = sDk` has :math:`\mathbf h = -2sDk/(\mu_0 M_s)\,\mathbf m` (interior nodes:
times sinc(kΔx), the central difference).
"""

import numpy as np
import pytest

import neuralmag as nm
from tests.test_field_terms_local import MESHES, MU0, random_data, random_state, rel_err
from tests.utils import to_numpy


@pytest.fixture(autouse=True)
def eager():
    """Eager JAX (see test_field_terms_local.eager): XLA-compiling every kernel of every tiny state is slow."""
    old = nm.config.jit
    nm.config.jit = False
    yield
    nm.config.jit = old


def helix(axis, plane, k, coords):
    """Unit field with m_i = sin(k x_axis), m_j = cos(k x_axis) for plane = (i, j) (axes as 0, 1, 2)."""
    phase = k * coords[axis]
    m = np.zeros(phase.shape + (3,))
    m[..., plane[0]] = np.sin(phase)
    m[..., plane[1]] = np.cos(phase)
    return m


TERM_CLASSES = {
    "interface": lambda: nm.InterfaceDMIField(),
    "interface_normal_x": lambda: nm.InterfaceDMIField(normal=(1.0, 0.0, 0.0)),
    "bulk": lambda: nm.BulkDMIField(),
    "d2d": lambda: nm.D2dDMIField(),
}

X, Y, Z = 0, 1, 2
#: (term, propagation axis, rotation plane (i, j) with m_i = sin, m_j = cos, s with e = s D k) derived by hand
HELICES = [
    # interfacial: Néel cycloids, m rotating in the plane of the propagation direction and the normal
    ("interface", X, (X, Z), -1),  # m = (sin kx, 0, cos kx): L^x_xz = -k
    ("interface", Y, (Y, Z), -1),  # m = (0, sin ky, cos ky): L^y_yz = -k
    ("interface", X, (Z, X), +1),  # opposite chirality
    ("interface", X, (Y, Z), 0),  # a Bloch helix costs no interfacial DMI
    ("interface_normal_x", Y, (Y, X), -1),  # normal x: m = (cos ky, sin ky, 0), e = D(m_y ∂_y m_x - m_x ∂_y m_y)
    # bulk: Bloch helices, m rotating in the plane normal to the propagation direction; right-handed (cyclic)
    # m = (0, cos kx, sin kx), (sin ky, 0, cos ky), (cos kz, sin kz, 0) have m·curl m = -k
    ("bulk", X, (Z, Y), -1),
    ("bulk", Y, (X, Z), -1),
    ("bulk", Z, (Y, X), -1),
    ("bulk", X, (Y, Z), +1),
    ("bulk", X, (X, Z), 0),  # a Néel cycloid costs no bulk DMI
    # D2d: m·(∂_x m × x) = L^x_yz, -m·(∂_y m × y) = L^y_xz
    ("d2d", X, (Z, Y), +1),  # m = (0, cos kx, sin kx): same helix as bulk (X, (Z, Y)) with opposite energy
    ("d2d", Y, (Z, X), +1),  # m = (cos ky, 0, sin ky): e = D k, as bulk for this helix
    ("d2d", X, (X, Z), 0),
]


#: the energy densities as sums of σ D L^(k)_ij, (σ, i, j, k), derived by hand from the documented formulas
INVARIANTS = {
    "interface": [(1, X, Z, X), (1, Y, Z, Y)],
    "interface_normal_x": [(1, Y, X, Y), (1, Z, X, Z)],  # D[(m·∇)m_x - m_x ∇·m]
    "bulk": [(-1, Y, Z, X), (-1, Z, X, Y), (-1, X, Y, Z)],
    "d2d": [(1, Y, Z, X), (1, X, Z, Y)],
}


def density_and_gradient(term, m, dm):
    r"""e/D = Σ σ (m_i ∂_k m_j - m_j ∂_k m_i) and (δE/δm)/D = Σ 2σ (∂_k m_j ê_i - ∂_k m_i ê_j) for derivatives
    ``dm[k]`` = ∂_k m."""
    e, grad = 0.0, np.zeros_like(m)
    for sigma, i, j, k in INVARIANTS[term]:
        e = e + sigma * (m[..., i] * dm[k][..., j] - m[..., j] * dm[k][..., i])
        grad[..., i] += 2 * sigma * dm[k][..., j]
        grad[..., j] -= 2 * sigma * dm[k][..., i]
    return e, grad


@pytest.mark.parametrize("term, axis, plane, s", HELICES)
def test_helix_energy_and_field_exact(backend, float64, term, axis, plane, s):
    """Discrete energy of a helix on a 3D mesh: E = s D k sinc(kΔ) V exactly (and the cell density everywhere);
    field at interior nodes -(1/μ0Ms) δE/δm × sinc(kΔ) (the central difference of a sinusoid), which is
    -2 s D k sinc(kΔ)/(μ0 Ms) m when s ≠ 0. D and Ms are uniform."""
    D, Ms = 3e-3, 8e5
    n, dx = MESHES[3]
    k = 2 * np.pi * 0.3 / dx[axis]  # coarse on purpose: sinc(kΔ) = 0.50
    state = nm.State(nm.Mesh(n, dx))
    state.material.Ms, state.material.D = Ms, D
    m = helix(axis, plane, k, state.coordinates("n", numpy=True))
    state.m = m
    TERM_CLASSES[term]().register(state, "dmi")
    # the two hand derivations agree: e = s D k, and the field is parallel to m when s != 0
    dm = [np.zeros_like(m) for _ in range(3)]
    dm[axis][..., plane[0]] = k * m[..., plane[1]]
    dm[axis][..., plane[1]] = -k * m[..., plane[0]]
    e_continuum, grad = density_and_gradient(term, m, dm)
    np.testing.assert_allclose(e_continuum, s * k, rtol=1e-12, atol=1e-12 * k)
    if s != 0:
        np.testing.assert_allclose(grad, 2 * s * k * m, rtol=1e-12, atol=1e-12 * k)
    else:
        assert np.abs(grad).max() > k  # no energy, but a torque
    sinc = np.sin(k * dx[axis]) / (k * dx[axis])
    e = s * D * k * sinc
    scale = D * k  # for s = 0
    np.testing.assert_allclose(float(to_numpy(state.E_dmi)), e * state.mesh.volume, rtol=1e-12,
                               atol=1e-12 * scale * state.mesh.volume)
    np.testing.assert_allclose(to_numpy(state.e_dmi), np.full(n, e), rtol=1e-12, atol=1e-12 * scale)
    interior = (slice(1, -1),) * 3
    expected = -D * sinc / (MU0 * Ms) * grad[interior]
    np.testing.assert_allclose(to_numpy(state.h_dmi)[interior], expected, rtol=0,
                               atol=1e-10 * 2 * D * k / (MU0 * Ms))


def test_interface_cycloid_converges_second_order(backend, float64):
    """Néel cycloid m = (sin kx, 0, cos kx) in a wire: E/V → -D k and h → 2Dk/(μ0 Ms) m (interior) at second
    order (the sign: with D > 0 this chirality lowers the energy)."""
    D, Ms, length = 3e-3, 8e5, 20e-9
    k = 2 * np.pi * 1.3 / length
    e_errs, h_errs = [], []
    for cells in (10, 20, 40):
        state = nm.State(nm.Mesh((cells,), (length / cells, 1e-9, 1e-9)))
        state.material.Ms, state.material.D = Ms, D
        x = state.coordinates("n", numpy=True)[0]
        m = np.stack([np.sin(k * x), 0 * x, np.cos(k * x)], -1)
        state.m = m
        nm.InterfaceDMIField().register(state)
        E = float(to_numpy(state.E_dmi))
        V = state.mesh.volume
        assert E < 0
        e_errs.append(abs(E / V - (-D * k)) / (D * k))
        h_errs.append(rel_err(to_numpy(state.h_dmi)[1:-1], 2 * D * k / (MU0 * Ms) * m[1:-1]))
    for errs in (e_errs, h_errs):
        orders = np.log2(errs[0] / errs[1]), np.log2(errs[1] / errs[2])
        assert all(1.95 < o < 2.05 for o in orders), (errs, orders)
    assert e_errs[-1] < 0.01 and h_errs[-1] < 0.01


@pytest.mark.parametrize("free_y", [False, True])
def test_interface_cycloid_periodic_film(backend, float64, free_y):
    r"""A film periodic along x with a commensurate cycloid m = (sin kx, 0, cos kx): every node is interior along x,
    so h = 2Dk sinc(kΔx)/(μ0 Ms) m at every node and E = -D k sinc(kΔx) V exactly. Periodic along y too: that is
    all. With free y edges the edge nodes carry in addition the canted-boundary flux D (ẑ×n)×m = n_y D m_z ŷ
    (n = ±ŷ) over their half cell: h_y = 2 n_y D m̄_z / (μ0 Ms Δy), where m̄ = (m_{i-1} + 4 m_i + m_{i+1})/6 is
    the consistent-mass average along x, = m_i (4 + 2 cos kΔx)/6 for a sinusoid."""
    D, Ms, cells, dx, dy = 3e-3, 8e5, 10, 1.5e-9, 2e-9
    k = 2 * np.pi * 3 / (cells * dx)
    state = nm.State(nm.Mesh((cells, 2), (dx, dy, 1e-9), pbc=(True, not free_y)))
    state.material.Ms, state.material.D = Ms, D
    x = state.coordinates("n", numpy=True)[0]
    m = np.stack([np.sin(k * x), 0 * x, np.cos(k * x)], -1)
    state.m = m
    nm.InterfaceDMIField().register(state)
    sinc = np.sin(k * dx) / (k * dx)
    expected = 2 * D * k * sinc / (MU0 * Ms) * m
    if free_y:
        assert expected.shape[:2] == (cells, 3)
        m_bar_z = m[..., 2] * (4 + 2 * np.cos(k * dx)) / 6
        expected[:, 0, 1] = -2 * D * m_bar_z[:, 0] / (MU0 * Ms * dy)
        expected[:, -1, 1] = 2 * D * m_bar_z[:, -1] / (MU0 * Ms * dy)
    np.testing.assert_allclose(to_numpy(state.h_dmi), expected, rtol=0, atol=1e-10 * np.abs(expected).max())
    np.testing.assert_allclose(float(to_numpy(state.E_dmi)), -D * k * sinc * state.mesh.volume, rtol=1e-12)


# ---------------------------------------------------------------------------------------- equivalences

#: (a term, a term with the same (sign +1) or opposite (sign -1) energy functional)
EQUIVALENT = [
    ("lifshitz_interface", lambda: nm.LifshitzInvariantField("zxx", "zyy"), lambda: nm.InterfaceDMIField(), 1),
    ("lifshitz_bulk", lambda: nm.LifshitzInvariantField("zxy", "xyz", "yzx"), lambda: nm.BulkDMIField(), 1),
    ("lifshitz_d2d", lambda: nm.LifshitzInvariantField("zyx", "zxy"), lambda: nm.D2dDMIField(), 1),
    ("antisymmetry", lambda: nm.LifshitzInvariantField("xzx", "yzy"), lambda: nm.InterfaceDMIField(), -1),
    ("minus_sign", lambda: nm.LifshitzInvariantField("-zxx", "-zyy"), lambda: nm.InterfaceDMIField(), -1),
    ("normal_flip", lambda: nm.InterfaceDMIField(normal=(0, 0, -1)), lambda: nm.InterfaceDMIField(), -1),
    ("normal_scale", lambda: nm.InterfaceDMIField(normal=(0, 0, 5)), lambda: nm.InterfaceDMIField(), 1),
    ("normal_x", lambda: nm.InterfaceDMIField(normal=(1, 0, 0)), lambda: nm.LifshitzInvariantField("xyy", "xzz"),
     1),
]


@pytest.mark.parametrize("case, first, second, sign", EQUIVALENT, ids=[c[0] for c in EQUIVALENT])
def test_equivalent_forms(backend, float64, case, first, second, sign):
    """Terms with the same energy functional give the same field and energy (random m, random per-cell D)."""
    data = random_data(3, seed=31)
    state = random_state(backend, "float64", "exchange", data)
    first().register(state, "first")
    second().register(state, "second")
    h1, h2 = to_numpy(state.h_first), to_numpy(state.h_second)
    assert np.abs(h2).max() > 0
    assert rel_err(h1, sign * h2) < 1e-12
    E1, E2 = float(to_numpy(state.E_first)), float(to_numpy(state.E_second))
    np.testing.assert_allclose(E1, sign * E2, rtol=1e-12)
    assert rel_err(to_numpy(state.e_first), sign * to_numpy(state.e_second)) < 1e-12


def test_inequivalent_forms_differ(backend, float64):
    """Control for test_equivalent_forms: bulk and interfacial DMI, and two chiralities, differ on random m."""
    data = random_data(3, seed=31)
    state = random_state(backend, "float64", "bulk_dmi", data)
    nm.InterfaceDMIField().register(state, "interface")
    nm.LifshitzInvariantField("zxx").register(state, "half")
    h = [to_numpy(getattr(state, f"h_{name}")) for name in ("bulk_dmi", "interface", "half")]
    assert rel_err(h[0], h[1]) > 0.1 and rel_err(h[2], h[1]) > 0.1


@pytest.mark.parametrize("invariant", ["xxy", "xy", "xyzz", "abc", "-xxz", ""])
def test_invalid_invariants_rejected(invariant):
    with pytest.raises(ValueError):
        nm.LifshitzInvariantField(invariant)


def test_invalid_normal_rejected():
    with pytest.raises(ValueError):
        nm.InterfaceDMIField(normal=(0, 0, 0))
    with pytest.raises(ValueError):
        nm.LifshitzInvariantField()


def test_lifshitz_renamed_parameter(backend, float64):
    """LifshitzInvariantField(parameter=...) reads another material attribute (here 2D): field and energy scale
    with it."""
    data = random_data(2, seed=32)
    state = random_state(backend, "float64", "exchange", data)
    state.material.D2 = 2 * data["D"]
    nm.LifshitzInvariantField("zxx", "zyy", parameter="material__D2").register(state, "li")
    nm.InterfaceDMIField().register(state, "dmi")
    assert rel_err(to_numpy(state.h_li), 2 * to_numpy(state.h_dmi)) < 1e-12
    np.testing.assert_allclose(float(to_numpy(state.E_li)), 2 * float(to_numpy(state.E_dmi)), rtol=1e-12)


# ------------------------------------------------------------------------- boundary condition (1D chain)

# DMI standard problem material (Cortés-Ortuño et al. 2018): interfacial DMI in a thin wire along x
A_SP, D_SP, MS_SP, KU_SP = 13e-12, 3e-3, 0.86e6, 0.4e6
LENGTH = 20e-9


def chain_residuals(backend, cells, theta, D):
    r"""Boundary residuals μ0 M_n h_n / S (J/m²) of exchange + DMI + anisotropy at both ends of a wire with
    m = (sin θ(x), 0, cos θ(x)). By the weak form, -∂E/∂m_n at an end node is the natural-BC residual
    ∓S(2A ∂_x m - D ŷ×m) plus O(Δx) volume terms."""
    state = nm.State(nm.Mesh((cells,), (LENGTH / cells, 1e-9, 1e-9)))
    state.material.Ms, state.material.A, state.material.D = MS_SP, A_SP, D
    state.material.Ku, state.material.Ku_axis = KU_SP, (0, 0, 1)
    x = state.coordinates("n", numpy=True)[0]
    th = theta(x)
    state.m = np.stack([np.sin(th), 0 * th, np.cos(th)], -1)
    nm.ExchangeField().register(state)
    nm.InterfaceDMIField().register(state)
    nm.UniaxialAnisotropyField().register(state)
    nm.TotalField("exchange", "dmi", "uniaxial").register(state)
    h = to_numpy(state.h)
    end_mass = MS_SP * LENGTH / cells / 2  # lumped mass per cross-section area of an end node
    return MU0 * end_mass * h[[0, -1]]


@pytest.mark.parametrize("sign", [1, -1])
def test_interface_dmi_canted_boundary_condition(backend, float64, sign):
    r"""Free ends of a DMI wire: the natural condition is 2A ∂_n m = D (ẑ×n)×m, i.e. ∂_x m = (D/2A) ŷ×m at both
    ends (n = ±x̂), for the cycloid θ'(x) = D/(2A). A profile with that end slope has an end-node residual that
    vanishes at first order; a profile violating it has a residual converging (first order) to ∓(2Aθ' - D)
    (cos θ, 0, -sin θ). Both D signs (the condition changes chirality with D)."""
    D = sign * D_SP
    kappa = D / (2 * A_SP)

    def bump(x):  # zero slope at both ends
        s = x / LENGTH
        return 2.0 * s**2 * (1 - s) ** 2

    profiles = {
        "satisfying": (lambda x: 0.3 + kappa * x + bump(x), lambda x: kappa + 0 * x),
        "violating": (lambda x: 0.3 - 0.5 * kappa * x + 2 * kappa * x**2 / LENGTH + bump(x),
                      lambda x: -0.5 * kappa + 4 * kappa * x / LENGTH),
    }
    cells_list = (20, 40, 80)
    finest = {}
    for name, (theta, slope) in profiles.items():
        ends = np.array([0.0, LENGTH])
        th, th_x = theta(ends), slope(ends)
        flux = (2 * A_SP * th_x - D)[:, None] * np.stack([np.cos(th), 0 * th, -np.sin(th)], -1)
        expected = np.array([1.0, -1.0])[:, None] * flux  # left end n = -x, right end n = +x
        if name == "satisfying":
            np.testing.assert_allclose(expected, 0.0, atol=1e-12 * abs(D))
        else:
            assert np.linalg.norm(expected, axis=-1).min() > 0.5 * abs(D)  # at both ends
        errs = [np.abs(chain_residuals(backend, c, theta, D) - expected).max() for c in cells_list]
        orders = np.log2(errs[0] / errs[1]), np.log2(errs[1] / errs[2])
        assert all(o > 0.88 for o in orders), (name, errs, orders)  # 0.90, 0.95 for the violating profile
        assert errs[-1] < 0.06 * abs(D), (name, errs)
        finest[name] = np.abs(chain_residuals(backend, cells_list[-1], theta, D)).max()
    assert finest["satisfying"] < 0.1 * finest["violating"]


@pytest.mark.parametrize("axis, turns", [("x", 1), ("y", 2)])
def test_d2d_axis_is_the_z_class_with_relabelled_axes(backend, float64, axis, turns):
    """D2d along x (y) is D2d along z after renaming the coordinate axes cyclically once (twice), x→y→z→x:
    relabelling the spatial axes and the components of a random m that way leaves energy and field equal."""
    rng = np.random.default_rng(4)
    m = rng.normal(size=(4, 4, 4, 3))
    m /= np.linalg.norm(m, axis=-1, keepdims=True)
    relabelled = m
    for _ in range(turns):  # new x = old z, new y = old x, new z = old y (positions and components)
        relabelled = np.transpose(relabelled, (2, 0, 1, 3))[..., [2, 0, 1]]

    def state_with(values, term):
        state = nm.State(nm.Mesh((3, 3, 3), (2e-9, 2e-9, 2e-9)))
        state.material.Ms, state.material.D = 8e5, 3e-3
        state.m = values
        term.register(state)
        return state

    z = state_with(m, nm.D2dDMIField())
    rotated = state_with(relabelled, nm.D2dDMIField(axis))
    E = float(to_numpy(z.E_dmi))
    assert abs(E) > 0
    assert float(to_numpy(rotated.E_dmi)) == pytest.approx(E, rel=1e-12)
    h = to_numpy(z.h_dmi)
    for _ in range(turns):
        h = np.transpose(h, (2, 0, 1, 3))[..., [2, 0, 1]]
    assert rel_err(to_numpy(rotated.h_dmi), h) < 1e-12
    with pytest.raises(ValueError, match="axis"):
        nm.D2dDMIField("w")
