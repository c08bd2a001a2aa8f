"""Time-dependent inverse problems (issue 7): field-angle optimisation with the adjoint-state method
(``demos/field_angle_optimisation.py``) and gradients of ``LLGSolver.solve`` against central finite differences.

tests/test_llg_gradients.py checks the gradient w.r.t. two field angles of a bare macrospin (Zeeman only), in
every adjoint mode, and backsolve vs checkpoint on an exchange-coupled film. Here, in float64:

* the optimisation of the demo converges (loss < 1e-4 in at most 50 iterations): JAX checkpoint by default,
  JAX backsolve and PyTorch with ``-m slow``;
* a two-cell particle (exchange, cell-wise uniaxial anisotropy, a field at two angles) with a non-uniform
  initial magnetisation and an objective summed over three output times: the gradients w.r.t. the angles,
  the anisotropy map ``material__Ku`` (one value per cell) and the initial magnetisation (``"m"``) come from one
  ``solve`` with ``parameters=["angles", "material__Ku", "m"]`` and are compared with central differences of
  every component (angles, Ku) and along three random directions (m: directional derivatives g·d; every
  component costs 18 solves, 8 s with eager PyTorch), for the ``checkpoint`` and the ``backsolve``
  (adjoint-state) modes.

The relative error is the vector norm |g − g_FD| / |g_FD| per parameter (≤ 1e-4). Tracing and compiling diffrax's
BacksolveAdjoint takes about 35 s on a loaded 2-core CPU, so the JAX backsolve cases run with ``-m slow``.
Default run: about 41 s for both backends (JAX 31 s, mostly compilation; PyTorch 9 s); ``-m slow`` 115 s.
"""

import numpy as np
import pytest

import neuralmag as nm
from tests.utils import load_demo, to_numpy

fa = load_demo("field_angle_optimisation")

SLOW = pytest.mark.slow
TIMES = (1e-11, 2e-11, 3e-11)
KU = np.array([1.0e5, 1.6e5])
PARAMETERS = ["angles", "material__Ku", "m"]
#: FD step per parameter in units of its scale (angles: rad, Ku: J/m³, m: 1)
SCALE = {"angles": 1.0, "material__Ku": 1e5, "m": 1.0}
EPS = 1e-5
#: directions of the initial-magnetisation check (three nodes × three components)
M_DIRECTIONS = np.random.default_rng(7).normal(size=(3, 9))
M_DIRECTIONS /= np.linalg.norm(M_DIRECTIONS, axis=1, keepdims=True)
_cache = {}


def gradient_problem(backend, adjoint):
    """A 1D chain of two 10 nm cells (three nodes): exchange, uniaxial anisotropy along z with the cell-wise
    ``KU``, the demo's field at angles (1.2, 0.4), m(0) tilted from +z with a twist along x;
    loss = Σ_i mean |m(T_i) − m_target|². (Smaller cells make the exchange stiff: 5 nm cells need 2.3 times the
    steps, and every finite-difference evaluation costs as much with eager PyTorch.)"""
    key = (backend, adjoint)
    if key not in _cache:
        state, llg, loss = fa.build(TIMES, adjoint, tol=1e-8, cells=(2,), size=10e-9, parameters=PARAMETERS)
        state.material.Ku = state.tensor(KU)
        x, _, _ = state.coordinates("n", numpy=True)
        m0 = np.stack([0.3 * np.cos(x / 1.5e-8), 0.3 * np.sin(x / 1.5e-8), np.ones_like(x)], -1)
        state.m = m0 / np.linalg.norm(m0, axis=-1, keepdims=True)
        state.angles = state.tensor([1.2, 0.4])
        values = [to_numpy(state.angles), to_numpy(state.material.Ku), to_numpy(state.m.tensor)]
        _cache[key] = (state, loss, values)
    return _cache[key]


_jitted = {}


def value_and_grad(loss):
    """One jitted value-and-gradient function per JAX loss: the finite differences reuse it instead of compiling
    the forward solve separately (the extra reverse pass costs milliseconds)."""
    import jax

    if loss not in _jitted:
        _jitted[loss] = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))
    return _jitted[loss]


def gradients(backend, loss, state, values):
    if backend == "jax":
        g = value_and_grad(loss)(*[state.tensor(v) for v in values])[1]
        return [np.asarray(x) for x in g]
    import torch

    xs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    loss(*xs).backward()
    return [x.grad.numpy() for x in xs]


def finite_differences(backend, loss, state, values):
    """Central differences of every component of the angles and the anisotropy map, and along
    ``M_DIRECTIONS`` random unit directions of the initial magnetisation (compared with g·d)."""
    if backend == "jax":
        f = value_and_grad(loss)
        evaluate = lambda vs: float(f(*[state.tensor(v) for v in vs])[0])  # noqa: E731
    else:
        import torch

        def evaluate(vs):
            with torch.no_grad():
                return float(loss(*[state.tensor(v) for v in vs]))
    fds = []
    for p, (name, v) in enumerate(zip(PARAMETERS, values)):
        h = EPS * SCALE[name]
        directions = M_DIRECTIONS if name == "m" else np.eye(v.size)
        fd = np.zeros(len(directions))
        for k, u in enumerate(directions):
            d = h * u
            plus = [x if j != p else v + d.reshape(v.shape) for j, x in enumerate(values)]
            minus = [x if j != p else v - d.reshape(v.shape) for j, x in enumerate(values)]
            fd[k] = (evaluate(plus) - evaluate(minus)) / (2 * h)
        fds.append(fd if name == "m" else fd.reshape(v.shape))
    return fds


_fd_cache = {}


@pytest.mark.parametrize("backend_name, adjoint", [
    ("jax", "checkpoint"), pytest.param("jax", "backsolve", marks=SLOW),
    ("torch", "checkpoint"), ("torch", "backsolve"),
])
def test_multi_time_gradients_match_finite_differences(backend_name, adjoint, float64):
    """Angles, anisotropy map and initial magnetisation of an exchange-coupled particle, objective over three
    times: every gradient within 1e-4 (relative, vector norm) of central differences."""
    old = nm.config.backend
    nm.config.backend = backend_name
    try:
        state, loss, values = gradient_problem(backend_name, adjoint)
        grads = gradients(backend_name, loss, state, values)
        if backend_name not in _fd_cache:  # the FD reference does not depend on the adjoint mode
            ref_state, ref_loss, ref_values = gradient_problem(backend_name, "checkpoint")
            _fd_cache[backend_name] = finite_differences(backend_name, ref_loss, ref_state, ref_values)
        fds = _fd_cache[backend_name]
    finally:
        nm.config.backend = old
    for name, g, fd in zip(PARAMETERS, grads, fds):
        if name == "m":  # directional derivatives g·d
            g = M_DIRECTIONS @ g.reshape(-1)
        scaled = np.linalg.norm(fd) * SCALE[name]
        assert scaled > 1e-3, name  # the objective does depend on this parameter
        err = np.linalg.norm(g - fd) / np.linalg.norm(fd)
        print(f"{backend_name}/{adjoint} {name}: |g| = {np.linalg.norm(g):.4e}, rel. error vs FD = {err:.2e}")
        assert err <= 1e-4, (name, err)


@pytest.mark.parametrize("backend_name, adjoint", [
    ("jax", "checkpoint"), pytest.param("jax", "backsolve", marks=SLOW),
    pytest.param("torch", "backsolve", marks=SLOW),  # 6-8 s; keeps the default run of this file under 45 s
])
def test_field_angle_optimisation_converges(backend_name, adjoint, float64):
    """The demo's problem (one-cell particle, m_target = (1/√2, 0, 1/√2) at T = 0.05 ns, start θ = φ = π/2):
    loss < 1e-4 within 50 iterations (BFGS with JAX, L-BFGS with torch)."""
    old = nm.config.backend
    nm.config.backend = backend_name
    try:
        state, _, loss = fa.build((fa.T_END,), adjoint, tol=1e-6)
        optimise = fa.optimise_jax if backend_name == "jax" else fa.optimise_torch
        rows, _ = optimise(state, loss, 50, 1e-8, 1e-10, stop_loss=1e-5)
    finally:
        nm.config.backend = old
    losses = np.array([r[1] for r in rows])
    assert losses[0] > 0.1  # the start is far from the target
    assert losses[-1] < 1e-4 and rows[-1][0] <= 50
    assert rows[-1][2] == pytest.approx(2.155, abs=0.01) and rows[-1][3] == pytest.approx(0.8234, abs=0.01)


@SLOW
@pytest.mark.parametrize("backend_name", ["jax", "torch"])
def test_demo_multi_time_objective(backend_name, float64, tmp_path):
    """``--times`` sums misfits at several times; the demo writes its CSV and figure and lowers the loss."""
    line = fa.main(["--backend", backend_name, "--quick", "--times", "4e-11", "5e-11", "--max-iter", "30",
                    "--out", str(tmp_path)])
    r = load_demo("validation_common").parse_result(line)
    data = np.loadtxt(tmp_path / "field_angle_optimisation.csv", delimiter=",", skiprows=1)
    assert r["times"] == 2 and (tmp_path / "field_angle_optimisation.png").exists()
    assert r["loss_final"] < 0.1 * data[0, 1]
