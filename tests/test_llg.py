"""LLG solver: macrospin dynamics vs the analytic solution, relaxation, minimiser, gradients, NaN guard."""

import numpy as np
import pytest

import neuralmag as nm
from tests.utils import to_numpy

H = 1e5  # A/m
ALPHA = 0.1
THETA0 = 0.5


def macrospin(alpha=ALPHA, h=(0.0, 0.0, H), theta0=THETA0, **solver_kwargs):
    state = nm.State(nm.Mesh((1, 1, 1), (2e-9, 2e-9, 2e-9)))
    state.material.Ms = 8e5
    state.material.alpha = alpha
    state.m = nm.VectorFunction(state).fill((np.sin(theta0), 0.0, np.cos(theta0)))
    nm.ExternalField(h).register(state)
    nm.TotalField("external").register(state)
    return state, nm.LLGSolver(state, **solver_kwargs)


def analytic_angles(t, alpha=ALPHA, theta0=THETA0):
    """Polar and azimuthal angle of a macrospin in a static field along z (standard_problems.md)."""
    rate = nm.GAMMA * H / (1 + alpha**2)
    theta = 2 * np.arctan(np.tan(theta0 / 2) * np.exp(-alpha * rate * t))
    return theta, rate * t


def test_macrospin_precession_and_damping(backend, float64):
    state, llg = macrospin(rtol=1e-9, atol=1e-9)
    for _ in range(5):
        llg.step(2e-11)
    t = float(state.t)
    assert t == pytest.approx(1e-10, rel=1e-12)
    m = to_numpy(state.m)[0, 0, 0]
    theta, phi = analytic_angles(t)
    assert np.arccos(m[2]) == pytest.approx(theta, rel=1e-5)
    # unwrap the azimuth: it advanced by about 1.99 turns
    phase = np.arctan2(m[1], m[0])
    assert np.angle(np.exp(1j * (phase - phi))) == pytest.approx(0.0, abs=1e-5 * phi)
    assert np.linalg.norm(to_numpy(state.m), axis=-1) == pytest.approx(1.0, abs=1e-12)


def test_solve_returns_requested_times(backend, float64):
    state, llg = macrospin(rtol=1e-8, atol=1e-8)
    ts = np.linspace(0, 5e-11, 6)
    sol = llg.solve(state.tensor(ts))
    ys = to_numpy(sol.ys)
    assert ys.shape == (6, 2, 2, 2, 3)
    theta = np.arccos(ys[:, 0, 0, 0, 2] / np.linalg.norm(ys[:, 0, 0, 0], axis=-1))
    assert theta == pytest.approx(analytic_angles(ts)[0], rel=1e-5)
    assert float(state.t) == 0.0  # solve does not change the state


def _uniaxial_film(backend_seed=0):
    state = nm.State(nm.Mesh((8, 3, 1), (5e-9, 5e-9, 3e-9)))
    state.material.Ms = 8e5
    state.material.A = 1.3e-11
    state.material.alpha = 0.5
    state.material.Ku = 5e4
    state.material.Ku_axis = (1, 0, 0)
    rng = np.random.default_rng(backend_seed)
    m = rng.normal(size=(9, 4, 2, 3))
    m[..., 0] = np.abs(m[..., 0]) + 1.0  # start in the +x basin
    state.m = m
    nm.ExchangeField().register(state)
    nm.UniaxialAnisotropyField().register(state)
    nm.TotalField("exchange", "uniaxial").register(state)
    return state


def test_energy_decreases_under_damped_dynamics(backend, float64):
    state = _uniaxial_film()
    llg = nm.LLGSolver(state)
    energies = [float(state.E)]
    for _ in range(8):
        llg.step(2e-12)
        energies.append(float(state.E))
    assert all(e1 < e0 for e0, e1 in zip(energies, energies[1:]))


def test_minimizer_and_relax_reach_the_same_state(backend, float64):
    state = _uniaxial_film()
    m0 = state.m.tensor
    result = nm.EnergyMinimizer(state, tol=1e-7).minimize()
    assert result["torque"] < 1e-7
    m_min = to_numpy(state.m)
    e_min = float(state.E)
    # the ground state of exchange + uniaxial anisotropy along x from the +x basin is m = +x
    assert m_min[..., 0] == pytest.approx(1.0, abs=1e-6)
    assert e_min == pytest.approx(-5e4 * 40e-9 * 15e-9 * 3e-9, rel=1e-9)
    state.m = m0
    info = nm.LLGSolver(state).relax(tol=1e-3, dt=2e-11)
    assert info["torque"] < 1e-3
    assert to_numpy(state.m) == pytest.approx(m_min, abs=2e-3)


def test_relax_converges_where_the_field_nearly_vanishes(backend, float64):
    """Zeeman field only, relaxed from m = x: along +x everywhere except at one node, where it is 1e-8 as large
    and along y. That node turns 1e8 times slower than the others; the torque normalised node by node stays 1
    there, the torque relative to the largest field (relax's measure) is 1e-8 and the others converge."""
    state = nm.State(nm.Mesh((3, 1, 1), (2e-9, 2e-9, 2e-9)))
    state.material.Ms = 8e5
    state.material.alpha = 1.0
    m = np.zeros((4, 2, 2, 3))
    m[..., 0], m[..., 1] = 1.0, 1.0  # 45° off the field
    state.m = m / np.sqrt(2)
    h = np.zeros((4, 2, 2, 3))
    h[..., 0] = 1e6
    h[0, 0, 0] = (0.0, 1e-2, 0.0)  # 1e-8 of the field elsewhere, along y
    nm.ExternalField(state.tensor(h)).register(state)
    nm.TotalField("external").register(state)
    info = nm.LLGSolver(state).relax(tol=1e-6, dt=1e-11, max_time=1e-9)
    assert info["torque"] < 1e-6
    assert info["time"] < 2e-10  # 45° -> 1e-6 rad at gamma mu0 H / 2 = 1.1e11 /s: about 0.13 ns
    m = to_numpy(state.m)
    assert np.allclose(m[1:, ..., 0], 1.0, atol=1e-10)
    assert np.allclose(m[0, 0, 0], np.array([1, 1, 0]) / np.sqrt(2), atol=1e-6)  # has barely moved


def test_nan_guard_keeps_last_good_state(backend, float64):
    state, llg = macrospin()
    llg.step(1e-12)
    m_good, t_good = to_numpy(state.m).copy(), float(state.t)
    state.material.alpha = float("nan")
    with pytest.raises(nm.SolverError, match="t = 1.0"):
        llg.step(1e-12)
    assert float(state.t) == t_good
    assert to_numpy(state.m) == pytest.approx(m_good)


def test_unknown_solver_is_a_clear_error(backend):
    state, _ = macrospin()
    with pytest.raises(ValueError, match="valid"):
        nm.LLGSolver(state, solver="NoSuchSolver").step(1e-12)


def test_scalar_logger_round_trip(backend, float64, tmp_path):
    state, llg = macrospin()
    path = tmp_path / "out" / "m.dat"
    logger = nm.ScalarLogger(path, ["t", "m", ("E_ext", lambda s: s.E_external)])
    for _ in range(3):
        llg.step(1e-12)
        logger.log(state)
    # resuming appends below the same header
    nm.ScalarLogger(path, ["t", "m", ("E_ext", lambda s: s.E_external)]).log(state)
    with open(path) as f:
        assert f.readline().split() == ["#", "t", "m_x", "m_y", "m_z", "E_ext"]
    data = np.loadtxt(path)
    assert data.shape == (4, 5)
    assert data[:3, 0] == pytest.approx([1e-12, 2e-12, 3e-12])
    assert data[-1, 1:4] == pytest.approx(to_numpy(state.m.avg()))
    with pytest.raises(ValueError, match="header"):
        nm.ScalarLogger(path, ["t"]).log(state)


def test_run_reaches_end_time_and_logs_every_step(backend, float64, tmp_path):
    state, llg = macrospin(rtol=1e-9, atol=1e-9)
    logger = nm.ScalarLogger(tmp_path / "run.dat", ["t", "m"])
    llg.run(5e-11, 2e-11, loggers=[logger], progress=False)
    data = np.loadtxt(tmp_path / "run.dat")
    assert data[:, 0] == pytest.approx([2e-11, 4e-11, 5e-11])  # the last step is shortened
    theta, _ = analytic_angles(5e-11)
    assert np.arccos(data[-1, 3]) == pytest.approx(theta, rel=1e-5)


def test_nodewise_alpha_and_gamma(backend, float64):
    """Per-node alpha and gamma: without exchange every node is a macrospin, so dm/dt at node i is the LLG
    right-hand side with alpha_i and gamma_i exactly; nodal uniform values equal cell-wise uniform ones."""
    mesh = nm.Mesh((4, 3, 2), (2e-9, 2e-9, 2e-9))
    rng = np.random.default_rng(1)
    alpha = rng.uniform(0.01, 1.0, mesh.nodes)
    gamma = nm.GAMMA * rng.uniform(0.5, 1.5, mesh.nodes)
    state = nm.State(mesh)
    state.material.Ms = rng.uniform(4e5, 8e5, mesh.n)  # nodal coefficients need no Ms weighting
    state.material.alpha = nm.Function(state, tensor=alpha)
    state.material.gamma = gamma  # a tensor of the node shape is read as nodal
    assert state.spaces_of("material__alpha") == state.spaces_of("material__gamma") == "nnn"
    state.m = nm.VectorFunction(state).fill((1.0, 0.0, 0.0))
    nm.ExternalField((0.0, 0.0, H)).register(state)
    nm.TotalField("external").register(state)
    nm.LLGSolver(state)
    dmdt = to_numpy(state.dmdt)
    # m = x, h = H z: m x h = -H y, m x (m x h) = -H z
    assert dmdt[..., 0] == pytest.approx(0.0, abs=1e-9 * nm.GAMMA * H)
    assert dmdt[..., 1] == pytest.approx(gamma * H / (1 + alpha**2), rel=1e-12)
    assert dmdt[..., 2] == pytest.approx(alpha * gamma * H / (1 + alpha**2), rel=1e-12)

    cellwise, _ = macrospin()
    nodewise, llg = macrospin(alpha=nm.Function(cellwise, tensor=np.full((2, 2, 2), ALPHA)))
    assert to_numpy(nodewise.dmdt) == pytest.approx(to_numpy(cellwise.dmdt), rel=1e-12)


def test_nodewise_alpha_in_thermal_noise_amplitude(backend, float64):
    """sigma_n^2 = 2 alpha_n k_B T / (mu0 Ms gamma V_n) with the node's own alpha."""
    from neuralmag.field_terms.thermal import K_B

    mesh = nm.Mesh((3, 2), (2e-9, 3e-9, 1e-9))
    state = nm.State(mesh)
    state.material.Ms = 8e5
    alpha = np.linspace(0.05, 0.5, 12).reshape(mesh.nodes)
    state.material.alpha = nm.Function(state, tensor=alpha)
    state.material.gamma = nm.GAMMA
    nm.ThermalField(T=300.0).register(state)
    volume = np.ones(mesh.nodes) * 2e-9 * 3e-9 * 1e-9 / 4
    volume[:, 1:-1] *= 2
    volume[1:-1, :] *= 2
    expected = np.sqrt(2 * alpha * K_B * 300.0 / (4e-7 * np.pi * 8e5 * nm.GAMMA * volume))
    assert to_numpy(state.sigma_thermal) == pytest.approx(expected, rel=1e-12)


def test_material_space_errors(backend):
    state = nm.State(nm.Mesh((2, 2, 2), (1e-9, 1e-9, 1e-9)))
    with pytest.raises(ValueError, match="cell function"):
        state.material.Ms = nm.Function(state)  # Ms stays cell-wise
    with pytest.raises(ValueError, match="nodal scalar"):
        state.material.alpha = nm.VectorFunction(state)


def test_abrupt_domain_wall_first_step(backend, float64):
    """An abrupt wall (nodes turning at ~5 rad/ps) must not break the first adaptive step: diffrax's generic
    first-step estimate overflowed m there and the NaN error estimate stalled the controller."""
    mesh = nm.Mesh((80,), (1e-9, 1e-9, 1e-9), origin=(-40e-9, 0.0, 0.0))
    state = nm.State(mesh)
    x = state.coordinates("c", numpy=True)[0]
    state.material.A = 1e-11
    state.material.Ku = np.where(x < 0, 1e5, 1e6)
    state.material.Ms = np.where(x < 0, 0.25, 1.0) / (4e-7 * np.pi)
    state.material.Ku_axis = (1.0, 0.0, 0.0)
    state.material.alpha = 1.0
    xn = state.coordinates("n", numpy=True)[0]
    state.m = np.stack([np.where(xn < 0, 1.0, -1.0), np.full_like(xn, 0.3), np.zeros_like(xn)], -1)
    nm.ExchangeField().register(state)
    nm.UniaxialAnisotropyField().register(state)
    nm.TotalField("exchange", "uniaxial").register(state)
    E0 = float(to_numpy(state.E_exchange) + to_numpy(state.E_uniaxial))
    llg = nm.LLGSolver(state)
    llg.step(5e-11)
    assert np.isfinite(to_numpy(state.m)).all()
    assert float(to_numpy(state.E_exchange) + to_numpy(state.E_uniaxial)) < E0
    assert llg.num_steps < 2000


def test_film_first_step_in_both_precisions(backend):
    """A film relaxing under exchange, demag and the SP4 field 1, in float32 and float64: the first adaptive step
    comes from the fastest node's rate (0.01 rad) on both backends. torchdiffeq's own estimate tried 6.7 ps here:
    in float32 m left the sphere, the right-hand side overflowed and the solve stopped with dt underflow."""
    mu0 = 4e-7 * np.pi
    m_mean = {}
    for dtype in ("float32", "float64"):
        old = nm.config.dtype
        nm.config.dtype = dtype
        try:
            state = nm.State(nm.Mesh((16, 16), (2e-9, 2e-9, 2e-9)))
            state.material.Ms = 8e5
            state.material.A = 1.3e-11
            state.material.alpha = 0.02
            state.m = nm.VectorFunction(state).fill((1.0, 0.3, 0.1))
            nm.ExchangeField().register(state)
            nm.DemagField().register(state)
            nm.ExternalField((-24.6e-3 / mu0, 4.3e-3 / mu0, 0.0)).register(state)
            nm.TotalField("exchange", "demag", "external").register(state)
            llg = nm.LLGSolver(state)
            llg.step(2e-11)
            m = to_numpy(state.m)
            assert str(state.m.tensor.dtype).endswith(dtype)
            m_mean[dtype] = m.reshape(-1, 3).mean(0)
        finally:
            nm.config.dtype = old
    # the two precisions follow the same trajectory (float32 resolution of the rtol=1e-5 solution)
    np.testing.assert_allclose(m_mean["float32"], m_mean["float64"], atol=2e-4)
