"""Thermal field / stochastic LLG: Langevin statistics of independent macrospins, seeding, T = 0, amplitudes.

A mesh without exchange is a set of independent macrospins, one per node, each of moment
mu_n = Ms V_n (V_n the nodal volume). In a field H along z each one's m_z is Boltzmann distributed,
p(m_z) ~ exp(xi_n m_z) with xi_n = mu0 Ms V_n H / (k_B T), so <m_z> = L(xi_n) = coth(xi_n) - 1/xi_n.

One solver per backend is built once and reused by all tests (the JAX solve compiles once, ~10-20 s here).
"""

import numpy as np
import pytest

import neuralmag as nm
from neuralmag.field_terms.thermal import K_B
from tests.utils import to_numpy

MU0 = 4e-7 * np.pi
A = 4e-9  # cell edge (m)
NX = 511  # cells along x of an (NX, 1, 1) mesh: 2048 nodes
MS, H, ALPHA = 8e5, 2e5, 1.0
T = MU0 * MS * (A**3 / 4) * H / (4 * K_B)  # xi = 4 for the nodes inside the wire (V_n = |C| / 4), ~58 K
DT = 2e-12  # gamma H dt = 0.088
CHUNK = 20  # steps per step() call (m is renormalised after each call)

_cache = {}


def nodal_volume():
    """V_n of the (NX, 1, 1) mesh: |C|/8 at the two ends of the wire, |C|/4 elsewhere; shape (NX+1, 2, 2)."""
    cells = np.where((np.arange(NX + 1) == 0) | (np.arange(NX + 1) == NX), 1, 2)
    return cells[:, None, None] * np.ones((NX + 1, 2, 2)) * A**3 / 8


def langevin(xi):
    return 1 / np.tanh(xi) - 1 / xi


def boltzmann_sample(xi, seed):
    """Directions with m_z ~ exp(xi m_z) (inverse CDF) and a uniform azimuth."""
    rng = np.random.default_rng(seed)
    r = rng.random(xi.shape)
    mz = 1 + np.log1p(-r * (1 - np.exp(-2 * xi))) / xi
    phi = 2 * np.pi * rng.random(xi.shape)
    s = np.sqrt(np.clip(1 - mz**2, 0, None))
    return np.stack([s * np.cos(phi), s * np.sin(phi), mz], -1)


def setup(backend):
    """(state, llg) of NX+1 x 2 x 2 independent macrospins, reused across tests of the same backend."""
    if backend not in _cache:
        state = nm.State(nm.Mesh((NX, 1, 1), (A, A, A)))
        state.material.Ms = MS
        state.material.alpha = ALPHA
        state.m = nm.VectorFunction(state).fill((0.0, 0.0, 1.0))
        nm.ExternalField((0.0, 0.0, H)).register(state)
        nm.TotalField("external").register(state)
        nm.ThermalField(T=T).register(state)
        _cache[backend] = (state, nm.LLGSolver(state, dt=DT, seed=0))
    state, llg = _cache[backend]
    state.material.T = T
    state.t = 0.0
    llg.seed, llg.noise_counter = 0, 0
    return state, llg


def test_langevin_statistics(backend, float64):
    state, llg = setup(backend)
    xi = MU0 * MS * nodal_volume() * H / (K_B * T)  # 4 inside, 2 at the wire ends
    state.m = boltzmann_sample(xi, seed=1)
    llg.seed = 2024
    samples = []
    for i in range(15):
        llg.step(CHUNK * DT)
        if i >= 5:  # 100 steps (gamma H t = 9) to forget the initial sample
            samples.append(to_numpy(state.m)[..., 2])
    mz = np.mean(samples, axis=0)  # time average per node
    expected = langevin(xi)
    d = (mz - expected).ravel()
    se = d.std(ddof=1) / np.sqrt(d.size)  # nodes are independent macrospins
    print(f"<m_z> = {mz.mean():.5f}, mean L(xi_n) = {expected.mean():.5f}, difference {d.mean():+.5f} "
          f"+- {se:.5f} (standard error from {d.size} nodes)")
    assert abs(d.mean()) < 3 * se
    assert se < 0.003  # the test is sharp: a 10 % error in sigma^2 shifts <m_z> by ~0.015
    assert np.abs(np.linalg.norm(to_numpy(state.m), axis=-1) - 1).max() < 1e-12


def test_seed_reproducibility(backend, float64):
    state, llg = setup(backend)
    m0 = to_numpy(state.m).copy()

    def run(seed, counter=0, calls=2):
        state.m, state.t = m0, 0.0
        llg.seed, llg.noise_counter = seed, counter
        for _ in range(calls):
            llg.step(CHUNK * DT)
        return to_numpy(state.m).copy()

    a, b = run(7), run(7)
    assert np.array_equal(a, b)  # same seed and calls: bit-identical trajectory
    assert llg.noise_counter == 2
    assert np.abs(run(8) - a).max() > 0.1  # another seed: another trajectory
    # every call draws fresh noise: continuing from the same state with the next counter differs
    assert np.abs(run(7, counter=1, calls=1) - run(7, counter=0, calls=1)).max() > 0.1
    # solve() is a pure function of the seed (its own noise stream) and leaves the state alone
    state.m, state.t = m0, 0.0
    before = to_numpy(state.m)
    ts = [0.0, CHUNK * DT]
    s1, s2 = to_numpy(llg.solve(ts).ys), to_numpy(llg.solve(ts).ys)
    assert np.array_equal(s1, s2) and s1.shape == (2,) + m0.shape
    assert np.array_equal(to_numpy(state.m), before) and float(state.t) == 0.0


def test_zero_temperature_is_deterministic(backend, float64):
    state, llg = setup(backend)
    state.material.T = 0.0
    assert to_numpy(state.sigma_thermal).max() == 0.0
    rng = np.random.default_rng(3)
    m0 = rng.normal(size=to_numpy(state.m).shape)
    m0 /= np.linalg.norm(m0, axis=-1, keepdims=True)
    state.m = m0
    llg.step(CHUNK * DT)
    # reference: the deterministic Heun scheme on the same grid with the resolved LLG right-hand side
    f = state.resolve("dmdt", ["t", "m"])
    h = DT
    y = state.tensor(m0)
    for k in range(CHUNK):
        t0, t1 = state.tensor(k * h), state.tensor((k + 1) * h)
        f0 = f(t0, y)
        f1 = f(t1, y + f0 * h)
        y = y + 0.5 * (f0 + f1) * h
    y = to_numpy(y)
    y = y / np.linalg.norm(y, axis=-1, keepdims=True)
    m1 = to_numpy(state.m)
    assert np.abs(m1 - m0).max() > 0.1  # it moved
    assert m1 == pytest.approx(y, rel=0, abs=1e-12)


def test_noise_amplitude(backend, float64):
    """sigma_n^2 = 2 alpha k_B T / (mu0 Ms gamma V_n) per node; interface nodes use the nodal averages."""
    state = nm.State(nm.Mesh((3, 2), (2e-9, 3e-9, 1e-9)))
    ms = np.full((3, 2), 8e5)
    ms[2] = 0.0  # the last column of cells is non-magnetic
    state.material.Ms = ms
    state.material.alpha = 0.1
    state.material.gamma = nm.GAMMA
    nm.ThermalField(T=lambda t: 300.0 + 0.0 * t).register(state)  # dynamic temperatures work
    sigma = to_numpy(state.sigma_thermal)
    cells = np.zeros((4, 3))
    for i in range(3):
        for j in range(2):
            cells[i:i + 2, j:j + 2] += ms[i, j] > 0
    volume = cells * 2e-9 * 3e-9 * 1e-9 / 4
    expected = np.sqrt(2 * 0.1 * K_B * 300.0 / (MU0 * 8e5 * nm.GAMMA * np.where(volume > 0, volume, 1)))
    expected[volume == 0] = 0.0
    assert sigma == pytest.approx(expected, rel=1e-12)


def test_thermal_solver_errors(backend):
    state = nm.State(nm.Mesh((1, 1, 1), (2e-9, 2e-9, 2e-9)))
    state.material.Ms = 8e5
    state.material.alpha = 0.1
    state.m = nm.VectorFunction(state).fill((0.0, 0.0, 1.0))
    nm.ExternalField((0.0, 0.0, 1e5)).register(state)
    nm.TotalField("external").register(state)
    nm.ThermalField(T=300.0).register(state)
    with pytest.raises(ValueError, match="dt=1e-13"):
        nm.LLGSolver(state)
    with pytest.raises(ValueError, match="Stratonovich"):
        nm.LLGSolver(state, solver="Dopri5", dt=1e-13)
    with pytest.raises(ValueError, match="non-negative"):
        nm.LLGSolver(state, dt=1e-13, seed=-1)
    assert isinstance(nm.LLGSolver(state, dt=1e-13).seed, int)  # drawn from the OS when not given


def test_thermal_run_resumes_from_a_checkpoint_with_the_same_noise(backend, float64, tmp_path):
    def build(state=None):
        if state is None:
            state = nm.State(nm.Mesh((3, 1, 1), (2e-9, 2e-9, 2e-9)))
            state.material.Ms = 8e5
            state.material.alpha = 0.5
            state.material.T = 300.0
            state.m = nm.VectorFunction(state).fill((0.0, 0.0, 1.0))
        nm.ExternalField((0.0, 0.0, 1e5)).register(state)
        nm.TotalField("external").register(state)
        nm.ThermalField().register(state)
        return state, nm.LLGSolver(state, dt=1e-13, seed=7)

    state, llg = build()
    llg.step(5e-13)
    state.save(tmp_path / "ckpt.npz")
    llg.step(5e-13)
    m_continued = state.m.numpy()
    loaded = nm.State.load(tmp_path / "ckpt.npz", warn=False)
    loaded, llg2 = build(loaded)
    assert llg2.noise_counter == 1
    llg2.step(5e-13)
    assert np.array_equal(loaded.m.numpy(), m_continued)
