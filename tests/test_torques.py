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
