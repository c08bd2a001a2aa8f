"""Gradients of LLGSolver.solve with respect to parameters: adjoint modes vs central finite differences."""

import numpy as np
import pytest

import neuralmag as nm
from tests.utils import to_numpy

HC = 2e5


def field_angle_problem(adjoint):
    state = nm.State(nm.Mesh((1, 1, 1), (2e-9, 2e-9, 2e-9)))
    state.material.Ms = 8e5
    state.material.alpha = 0.3
    state.m = nm.VectorFunction(state).fill((0.0, 0.0, 1.0))
    state.angles = state.tensor([1.2, 0.4])
    xp = array_module(state.backend.name)

    def h_ext(angles):
        return HC / 2 * xp.stack([
            xp.sin(angles[0]) * xp.cos(angles[1]),
            xp.sin(angles[0]) * xp.sin(angles[1]),
            xp.cos(angles[0]),
        ])

    nm.ExternalField(h_ext).register(state)
    nm.TotalField("external").register(state)
    llg = nm.LLGSolver(state, parameters=["angles"], adjoint=adjoint, rtol=1e-9, atol=1e-9)
    target = state.tensor(np.array([0.5**0.5, 0.0, 0.5**0.5]))
    ts = state.tensor([0.0, 2e-11, 5e-11])

    def loss(angles):
        ys = llg.solve(ts, angles).ys
        # objective over several times: sum of the misfits at t1 and t2
        return ((ys[1, 0, 0, 0] - target) ** 2).mean() + ((ys[2, 0, 0, 0] - target) ** 2).mean()

    return state, loss, llg


def array_module(backend):
    if backend == "jax":
        import jax.numpy as jnp

        return jnp
    import torch

    return torch


def gradient(backend, loss, angles):
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        return np.asarray(jax.grad(lambda a: loss(a))(jnp.asarray(angles)))
    import torch

    a = torch.tensor(np.asarray(angles), dtype=torch.float64, requires_grad=True)
    loss(a).backward()
    return a.grad.numpy()


# tracing and compiling diffrax's backsolve and direct adjoints costs about a minute on a 2-core CPU: those
# JAX cases run with `pytest -m slow`
SLOW = pytest.mark.slow


@pytest.mark.parametrize("backend_name, adjoint", [
    ("jax", "checkpoint"), pytest.param("jax", "backsolve", marks=SLOW), pytest.param("jax", "direct", marks=SLOW),
    ("torch", "checkpoint"), ("torch", "backsolve"), ("torch", "direct"),
])
def test_field_angle_gradient_matches_finite_differences(backend_name, adjoint, float64):
    old = nm.config.backend
    nm.config.backend = backend_name
    try:
        state, loss, _ = field_angle_problem(adjoint)
    finally:
        nm.config.backend = old
    backend = backend_name
    angles = to_numpy(state.angles)
    grad = gradient(backend, loss, angles)
    eps = 1e-5
    fd = []
    for i in range(2):
        d = np.zeros(2)
        d[i] = eps
        fd.append((float(loss(state.tensor(angles + d))) - float(loss(state.tensor(angles - d)))) / (2 * eps))
    assert np.abs(grad).max() > 1e-3  # the loss does depend on the angles
    assert grad == pytest.approx(np.array(fd), rel=1e-4)


def exchange_film_loss(adjoint):
    """An exchange-coupled film over 100 ps: stiff modes that decay forwards grow when the backsolve adjoint
    integrates backwards, so its backward pass must restart from stored forward states."""
    state = nm.State(nm.Mesh((8, 4, 1), (5e-9, 5e-9, 3e-9)))
    state.material.Ms = 8e5
    state.material.A = 1.3e-11
    state.material.alpha = 0.05
    state.material.Ku = 1e4
    state.material.Ku_axis = (1, 0, 0)
    x, _, _ = state.coordinates("n", numpy=True)
    state.m = np.stack([np.cos(x / 2e-8), np.sin(x / 2e-8), 0.1 + 0 * x], -1)
    state.angles = state.tensor([1.2, 0.4])
    xp = array_module(state.backend.name)
    nm.ExchangeField().register(state)
    nm.UniaxialAnisotropyField().register(state)
    nm.ExternalField(lambda angles: 5e4 * xp.stack([xp.sin(angles[0]) * xp.cos(angles[1]),
                                                    xp.sin(angles[0]) * xp.sin(angles[1]),
                                                    xp.cos(angles[0])])).register(state)
    nm.TotalField("exchange", "uniaxial", "external").register(state)
    llg = nm.LLGSolver(state, parameters=["angles"], adjoint=adjoint, rtol=1e-6, atol=1e-6)
    ts = state.tensor([0.0, 1e-10])
    target = state.tensor([1.0, 0.0, 0.0])
    return state, lambda angles: ((llg.solve(ts, angles).ys[-1] - target) ** 2).mean()


@pytest.mark.parametrize("backend_name", ["torch", pytest.param("jax", marks=SLOW)])
def test_backsolve_matches_checkpoint_on_an_exchange_coupled_film(backend_name, float64):
    old = nm.config.backend
    nm.config.backend = backend_name
    try:
        grads = {}
        for adjoint in ("checkpoint", "backsolve"):
            state, loss = exchange_film_loss(adjoint)
            grads[adjoint] = gradient(backend_name, loss, to_numpy(state.angles))
    finally:
        nm.config.backend = old
    assert np.abs(grads["checkpoint"]).max() > 1e-2
    assert grads["backsolve"] == pytest.approx(grads["checkpoint"], rel=1e-5)


def test_backsolve_warns_on_traced_output_times(float64):
    """Jitting over ts hides the times from the solver: the backsolve adjoint cannot restart every
    backsolve_interval, and says so (tracing only, nothing is compiled)."""
    import jax

    old, nm.config.backend = nm.config.backend, "jax"
    try:
        state, loss, llg = field_angle_problem("backsolve")
        with pytest.warns(UserWarning, match="traced output times"):
            jax.eval_shape(lambda ts: llg.solve(ts, state.angles).ys, state.tensor([0.0, 1e-11]))
    finally:
        nm.config.backend = old
