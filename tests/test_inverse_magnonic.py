"""Magnonic spin-wave demultiplexer (issue 7, ``demos/magnonic_demultiplexer.py``): gradients of the port-contrast
loss with respect to the RBF design weights through the time-domain LLG, in float64.

* the design map: ρ ∈ [0, 1] (a logistic function of the RBF expansion), M_s positive, equal to the film's
  outside the design region and within [ρ_min M_s, M_s] inside;
* the gradient of the two-channel loss (two forward solves and two reverse passes, ``checkpoint`` adjoint) with
  respect to two RBF weights agrees with central differences (relative error ≤ 1e-4) on a tiny device of
  12 × 8 cells over 0.1 ns, for both backends (``backsolve`` under ``-m slow``);
* ``--quick`` runs (JAX) and lowers the loss; PyTorch under ``-m slow``.
"""

import dataclasses

import numpy as np
import pytest

import neuralmag as nm
from tests.utils import load_demo

md = load_demo("magnonic_demultiplexer")
vc = load_demo("validation_common")

SLOW = pytest.mark.slow
#: a tiny device: 12 × 8 cells of 25 nm, 2 × 2 RBFs, 0.1 ns, tight solver tolerance for the finite differences
TINY = dataclasses.replace(
    md.CONFIGS["quick"], n=(12, 8), absorber=2, antenna_x=2.0, antenna_sigma=1.0, design=(4, 8, 1, 7),
    ports=((9, 11, 4, 7), (9, 11, 1, 4)), rbf=(2, 2), t_end=1.0e-10, t_window=0.6e-10, samples=3, tol=1e-9)
WEIGHTS = np.array([0.8, -0.5, 0.3, -1.1])  # a non-uniform design (in the regime where the sigmoid is not flat)
EPS = 1e-4
CHECK = (0, 3)  # the weights checked by finite differences


def torch_single_thread():
    """Eager PyTorch on a loaded 2-core machine: one intra-op thread is several times faster."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    return old


@pytest.mark.parametrize("config", ["quick", "cpu", "full"])
def test_design_maps_in_range(config):
    """ρ ∈ [0, 1] for any weights, M_s positive, M_s = film value outside the design region."""
    cfg = md.CONFIGS[config]
    phi = md.rbf_basis(cfg)
    assert phi.shape == cfg.n + (cfg.rbf[0] * cfg.rbf[1],)
    mask = md.design_mask(cfg)
    rng = np.random.default_rng(1)
    for scale in (0.0, 1.0, 30.0):
        w = scale * rng.normal(size=phi.shape[-1])
        z = phi @ w + np.log(md.RHO_START / (1 - md.RHO_START))
        rho = 0.5 * (1 + np.tanh(0.5 * z))
        ms = md.MS * (1.0 - mask * (1.0 - md.RHO_MIN) * (1.0 - rho))
        assert np.all((rho >= 0) & (rho <= 1))
        assert np.all(ms > 0) and np.all(ms >= md.RHO_MIN * md.MS * (1 - 1e-12))
        assert np.all(ms[mask == 0] == md.MS)
    masks = md.port_masks(cfg)
    assert np.allclose(masks.sum((1, 2)), 1.0) and not np.any(masks[0] * masks[1])
    assert md.alpha_map(cfg).min() == pytest.approx(md.ALPHA) and md.alpha_map(cfg).max() < md.ALPHA_MAX


def test_problem_design_maps(backend, float64):
    """The state's dynamic ``material.Ms`` (a function of ``rbf_weights``) matches ``Problem.maps``."""
    problem = md.Problem(TINY)
    state = problem.state
    state.rbf_weights = state.tensor(WEIGHTS)
    rho, ms = problem.maps(WEIGHTS)
    assert np.all((rho >= 0) & (rho <= 1)) and np.all(ms > 0)
    assert np.allclose(numpy(state.material.Ms), ms, rtol=1e-12)
    assert np.allclose(numpy(state.rho_design), rho, rtol=1e-12)


def numpy(value):
    return value.numpy() if isinstance(value, nm.Function) else md.to_numpy(value)


_fd_cache = {}


def loss_and_gradient(backend_name, adjoint, weights, gradient=True):
    problem = md.Problem(TINY, adjoint=adjoint)
    f = md.gradient_function(problem)
    value, grad, intensity, _ = f(problem.state.tensor(weights), gradient=gradient)
    return value, (md.to_numpy(grad) if gradient else None), intensity, f, problem


@pytest.mark.parametrize("backend_name, adjoint", [
    ("jax", "checkpoint"), ("torch", "checkpoint"),
    pytest.param("jax", "backsolve", marks=SLOW), pytest.param("torch", "backsolve", marks=SLOW),
])
def test_gradient_matches_finite_differences(backend_name, adjoint, float64):
    """Gradient of the two-channel loss w.r.t. two RBF weights vs central differences (≤ 1e-4 relative)."""
    old = nm.config.backend
    nm.config.backend = backend_name
    threads = torch_single_thread() if backend_name == "torch" else None
    try:
        value, grad, intensity, f, problem = loss_and_gradient(backend_name, adjoint, WEIGHTS)
        if backend_name not in _fd_cache:
            fd = []
            # JAX: the jitted value-and-gradient function is reused for the values (no second compilation)
            evaluate = (lambda w: f(problem.state.tensor(w))[0]) if backend_name == "jax" else (
                lambda w: f(problem.state.tensor(w), gradient=False)[0])
            for k in CHECK:
                d = np.zeros_like(WEIGHTS)
                d[k] = EPS
                fd.append((evaluate(WEIGHTS + d) - evaluate(WEIGHTS - d)) / (2 * EPS))
            _fd_cache[backend_name] = np.array(fd)
        fd = _fd_cache[backend_name]
    finally:
        nm.config.backend = old
        if threads is not None:
            import torch

            torch.set_num_threads(threads)
    assert np.all(intensity > 0) and np.isfinite(value)
    g = grad[list(CHECK)]
    err = np.linalg.norm(g - fd) / np.linalg.norm(fd)
    print(f"{backend_name}/{adjoint}: loss = {value:.6f}, g = {g}, fd = {fd}, rel. error = {err:.2e}")
    assert np.linalg.norm(fd) > 1e-6  # the loss does depend on these weights
    assert err <= 1e-4


@pytest.mark.parametrize("backend_name", ["jax", pytest.param("torch", marks=SLOW)])
def test_quick_demo_lowers_the_loss(backend_name, float64, tmp_path):
    """``--quick``: three Adam steps lower the loss; CSV, figure and RESULT line are written."""
    threads = torch_single_thread() if backend_name == "torch" else None
    old = nm.config.backend
    try:
        line = md.main(["--backend", backend_name, "--quick", "--out", str(tmp_path)])
    finally:
        nm.config.backend = old
        if threads is not None:
            import torch

            torch.set_num_threads(threads)
    r = vc.parse_result(line)
    data = np.loadtxt(tmp_path / "magnonic_demultiplexer.csv", delimiter=",", skiprows=1)
    assert (tmp_path / "magnonic_demultiplexer.png").exists()
    assert data.shape == (md.CONFIGS["quick"].iterations + 1, 9)
    assert r["iterations"] == md.CONFIGS["quick"].iterations
    assert r["loss_end"] < r["loss_start"]
    assert data[-1, 1] < data[0, 1]


def test_channel_combination():
    """The sum, and the smooth maximum tau log sum exp(l/tau) whose gradient weights are softmax(l/tau): above
    the largest channel loss by at most tau log 2, weighting the weaker channel (larger loss) more."""
    demo = load_demo("magnonic_demultiplexer")
    values = [-2.0, 0.8]
    total, weights = demo.combine(values, None)
    assert total == pytest.approx(-1.2) and list(weights) == [1.0, 1.0]
    for tau in (0.25, 1.0):
        total, weights = demo.combine(values, tau)
        assert max(values) < total <= max(values) + tau * np.log(2)
        assert weights.sum() == pytest.approx(1.0) and weights[1] > 0.9
        eps = 1e-6  # the weights are the derivatives of the total
        for c in range(2):
            shifted = list(values)
            shifted[c] += eps
            assert (demo.combine(shifted, tau)[0] - total) / eps == pytest.approx(weights[c], rel=1e-4)


def test_transmission_term(float64):
    """``--transmission β``: the channel loss becomes −log C_c − β log(I_target / I_target of the first
    evaluated design): 0 added at the first design, the logged intensities elsewhere, and the gradient still
    matches central differences (JAX)."""
    old = nm.config.backend
    nm.config.backend = "jax"
    try:
        beta = 0.5
        problem = md.Problem(TINY, transmission=beta)
        f = md.gradient_function(problem)
        w0 = np.zeros_like(WEIGHTS)
        value0, _, intensity0, _ = f(problem.state.tensor(w0))
        assert value0 == pytest.approx(-np.log(np.prod(md.contrasts(intensity0))), rel=1e-12)
        value, grad, intensity, _ = f(problem.state.tensor(WEIGHTS))
        target, target0 = np.array([intensity[0, 0], intensity[1, 1]]), np.array([intensity0[0, 0], intensity0[1, 1]])
        expected = -np.log(np.prod(md.contrasts(intensity))) - beta * np.log(target / target0).sum()
        assert value == pytest.approx(expected, rel=1e-12)
        k = CHECK[1]
        d = np.zeros_like(WEIGHTS)
        d[k] = EPS
        fd = (f(problem.state.tensor(WEIGHTS + d))[0] - f(problem.state.tensor(WEIGHTS - d))[0]) / (2 * EPS)
    finally:
        nm.config.backend = old
    assert abs(fd) > 1e-6
    assert md.to_numpy(grad)[k] == pytest.approx(fd, rel=1e-4)
