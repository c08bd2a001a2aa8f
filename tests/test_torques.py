"""Spin torques: analytic torques on a helix (Zhang–Li) and on uniform m (Slonczewski / SOT)."""

import numpy as np
import pytest

import neuralmag as nm
from neuralmag.field_terms.torques import E_CHARGE, HBAR, MU_B
from tests.utils import to_numpy

MS, ALPHA, XI, P = 8e5, 0.1, 0.05, 0.7
J = 1e12


def helix_state(n, length=100e-9, k_turns=1.0):
    dx = length / n
    state = nm.State(nm.Mesh((n,), (dx, 2e-9, 2e-9)))
    state.material.Ms = MS
    state.material.alpha = ALPHA
    state.material.P = P
    state.material.xi = XI
    k = 2 * np.pi * k_turns / length
    x = np.arange(n + 1) * dx
    state.m = np.stack([np.cos(k * x), np.sin(k * x), 0 * x], -1)
    state.j = (J, 0.0, 0.0)
    return state, k, x


def test_zhang_li_torque_on_a_helix_converges(backend, float64):
    errors = []
    for n in (40, 80, 160):
        state, k, x = helix_state(n)
        nm.ZhangLiTorque().register(state)
        tau = to_numpy(state.tau_zhangli)
        u = MU_B * P * J / (E_CHARGE * MS * (1 + XI**2))
        # (u·∇)m = u k ẑ×m, so m×(u·∇)m = u k ẑ and m×(m×(u·∇)m) = u k m×ẑ
        expected = np.stack([
            -(1 + XI * ALPHA) / (1 + ALPHA**2) * u * k * np.sin(k * x),
            (1 + XI * ALPHA) / (1 + ALPHA**2) * u * k * np.cos(k * x),
            -(XI - ALPHA) / (1 + ALPHA**2) * u * k * np.ones_like(x),
        ], -1)
        interior = slice(1, -1)
        errors.append(np.abs(tau[interior] - expected[interior]).max() / (u * k))
    assert errors[-1] < 2e-3
    order = np.log2(errors[0] / errors[1]), np.log2(errors[1] / errors[2])
    assert min(order) > 1.8


def test_zhang_li_torque_vanishes_for_uniform_m(backend, float64):
    state, _, _ = helix_state(10, k_turns=0.0)
    nm.ZhangLiTorque().register(state)
    assert np.abs(to_numpy(state.tau_zhangli)).max() < 1e-6


@pytest.mark.parametrize("angular", [False, True])
def test_slonczewski_torque_on_uniform_m(backend, float64, angular):
    state = nm.State(nm.Mesh((3, 2, 1), (2e-9, 2e-9, 1e-9)))
    state.material.Ms = MS
    state.material.alpha = ALPHA
    state.material.gamma = nm.GAMMA
    state.material.p = (0.0, 1.0, 0.0)
    state.material.d = 1e-9
    state.material.eta_fl = 0.1
    state.material.eta_dl = 0.3
    state.material.P = P
    state.material.Lambda = 2.0
    state.j = 2e11
    m = np.array([0.6, 0.0, 0.8])
    state.m = nm.VectorFunction(state).fill(m)
    nm.SlonczewskiTorque(angular=angular).register(state)
    p = np.array([0.0, 1.0, 0.0])
    lam = 2.0
    eps = P * lam**2 / ((lam**2 + 1) + (lam**2 - 1) * m @ p) if angular else 0.3
    beta = nm.GAMMA * HBAR * 2e11 / (4e-7 * np.pi * E_CHARGE * MS * 1e-9)
    expected = beta / (1 + ALPHA**2) * ((eps - ALPHA * 0.1) * np.cross(m, np.cross(p, m))
                                         - (0.1 - ALPHA * eps) * np.cross(m, p))
    assert to_numpy(state.tau_slonczewski) == pytest.approx(np.broadcast_to(expected, (4, 3, 2, 3)), rel=1e-12)


def test_llg_solver_includes_registered_torques(backend, float64):
    state = nm.State(nm.Mesh((1, 1, 1), (2e-9, 2e-9, 1e-9)))
    state.material.Ms = MS
    state.material.alpha = ALPHA
    state.material.gamma = nm.GAMMA
    state.material.p = (0.0, 1.0, 0.0)
    state.material.d = 1e-9
    state.material.eta_fl = 0.0
    state.material.eta_dl = 0.3
    state.j = 1e11
    state.m = nm.VectorFunction(state).fill((1.0, 0.0, 0.0))
    nm.ExternalField((0.0, 0.0, 0.0)).register(state)
    nm.TotalField("external").register(state)
    nm.SlonczewskiTorque().register(state)
    nm.LLGSolver(state)
    assert to_numpy(state.dmdt) == pytest.approx(to_numpy(state.tau_slonczewski), rel=1e-12)
    assert np.abs(to_numpy(state.dmdt)).max() > 0


def test_zhang_li_torque_is_perpendicular_to_m_at_every_node(backend, float64):
    """The nodal torque keeps |m_n| = 1 in the semi-discrete LLG equation: tau_n . m_n = 0 to rounding, also for a
    rough m, a cell-wise polarisation and a 2D mesh (the cross products are taken at the nodes)."""
    rng = np.random.default_rng(3)
    state = nm.State(nm.Mesh((6, 5), (2e-9, 3e-9, 1e-9)))
    state.material.Ms = MS
    state.material.alpha = ALPHA
    state.material.P = rng.uniform(0.3, 0.9, (6, 5))
    state.material.xi = XI
    m = rng.normal(size=(7, 6, 3))
    state.m = m / np.linalg.norm(m, axis=-1, keepdims=True)
    state.j = (J, -0.5 * J, 0.0)
    nm.ZhangLiTorque().register(state)
    tau, m = to_numpy(state.tau_zhangli), to_numpy(state.m)
    assert np.abs(tau).max() > 1e9
    assert np.abs(np.sum(tau * m, -1)).max() < 1e-12 * np.abs(tau).max()


def wall_velocity(dx, backend, steps=1):
    """Velocity (m/s) of a Bloch wall (A = 15 pJ/m, K = 0.5 MJ/m³ along z, no transverse anisotropy) driven by a
    Zhang-Li current with u = 200 m/s, alpha = 0.3, xi = 0.5, in a 100 nm wire, over 0.1 ns after 0.03 ns, in
    ``steps`` steps."""
    ms, a, k, alpha, xi, u = 5.8e5, 15e-12, 0.5e6, 0.3, 0.5, 200.0
    n = int(round(100e-9 / dx))
    state = nm.State(nm.Mesh((n,), (dx, 5e-9, 5e-9)), backend=backend, dtype="float64")
    state.material.Ms, state.material.A, state.material.Ku = ms, a, k
    state.material.Ku_axis = (0, 0, 1)
    state.material.alpha, state.material.P, state.material.xi = alpha, 1.0, xi
    x = np.arange(n + 1) * dx
    theta = 2 * np.arctan(np.exp((x - 75e-9) / np.sqrt(a / k)))
    state.m = np.stack([np.sin(theta), 0 * x, -np.cos(theta)], -1)
    nm.ExchangeField().register(state)
    nm.UniaxialAnisotropyField().register(state)
    nm.TotalField("exchange", "uniaxial").register(state)
    state.j = (u * E_CHARGE * ms * (1 + xi**2) / MU_B, 0.0, 0.0)
    nm.ZhangLiTorque().register(state)
    llg = nm.LLGSolver(state)

    def centre():
        mz = to_numpy(state.m)[:, 2]
        i = np.flatnonzero(np.diff(np.sign(mz)))[0]
        return x[i] + dx * mz[i] / (mz[i] - mz[i + 1])

    llg.step(0.03e-9)
    start = centre()
    for _ in range(steps):
        llg.step(0.1e-9 / steps)
    return (start - centre()) / 0.1e-9


def test_zhang_li_wall_velocity_converges_to_the_1d_model(backend):
    """Without transverse anisotropy the wall moves rigidly at u (1 + alpha xi) / (1 + alpha^2) against u
    (Thiaville et al., EPL 69, 990 (2005)); the nodal scheme approaches it as dx^2 (measured over 0.2 ns in a
    200 nm wire: -3.6 % at 2.5 nm, -0.56 % at 1 nm, -0.14 % at 0.5 nm, -0.04 % at 0.25 nm), and the result does not depend on how the interval is split into
    steps (it did when the torque was not perpendicular to the nodal m)."""
    exact = 200.0 * (1 + 0.3 * 0.5) / (1 + 0.3**2)
    errors = [wall_velocity(dx, backend) / exact - 1 for dx in (2.5e-9, 1.25e-9)]
    assert -0.05 < errors[0] < errors[1] < 0
    assert abs(errors[1]) < 0.01
    assert np.log2(errors[0] / errors[1]) > 1.8
    assert wall_velocity(2.5e-9, backend, steps=4) / exact - 1 == pytest.approx(errors[0], abs=1e-4)
