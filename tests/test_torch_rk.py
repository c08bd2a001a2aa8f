"""The PyTorch backend's forward-only adaptive Runge–Kutta stepper (neuralmag.backends.torch.rk).

It replaces torchdiffeq in solves without a gradient (``LLGSolver.step``/``relax``), so it must be as accurate
as torchdiffeq at the same tolerance, hit the output times exactly and fail cleanly.
"""

import math
from fractions import Fraction

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchdiffeq = pytest.importorskip("torchdiffeq")

import neuralmag as nm  # noqa: E402
from neuralmag.backends.torch import rk  # noqa: E402


def oscillator(t, y):
    return torch.stack([y[1], -y[0]])


@pytest.mark.parametrize("tableau", [rk.DOPRI5, rk.BOSH3], ids=["dopri5", "bosh3"])
def test_tableau_order_conditions(tableau):
    """Row sums give c, both weight vectors satisfy the quadrature conditions up to their orders
    (Σ b c^k = 1/(k+1) for k < p; the embedded solution one order lower)."""
    a = [[Fraction(x).limit_denominator(10**7) for x in row] for row in tableau.a]
    c = [Fraction(x).limit_denominator(10**7) for x in tableau.c]
    b = [Fraction(x).limit_denominator(10**7) for x in tableau.b]
    b_hat = [bi - Fraction(ei).limit_denominator(10**9) for bi, ei in zip(b, tableau.e)]
    for i, row in enumerate(a):
        assert abs(float(sum(row, Fraction(0)) - c[i])) < 1e-12
    for k in range(tableau.order):
        assert abs(float(sum(bi * ci**k for bi, ci in zip(b, c))) - 1 / (k + 1)) < 1e-12
    for k in range(tableau.order - 1):
        assert abs(float(sum(bi * ci**k for bi, ci in zip(b_hat, c))) - 1 / (k + 1)) < 1e-9
    assert tableau.fsal


@pytest.mark.parametrize("method", ["dopri5", "bosh3"])
def test_accuracy_like_torchdiffeq_and_exact_output_times(method):
    """y'' = −y: the global error follows the tolerance and is no larger than torchdiffeq's (within 2×);
    outputs are at the requested times exactly (cos t is checked at each)."""
    tableau = {"dopri5": rk.DOPRI5, "bosh3": rk.BOSH3}[method]
    y0 = torch.tensor([1.0, 0.0], dtype=torch.float64)
    ts = torch.tensor([0.0, 0.3, 1.0, 5.0, 10.0], dtype=torch.float64)
    exact = torch.stack([torch.cos(ts), -torch.sin(ts)], -1)
    errors = []
    for tol in (1e-5, 1e-7, 1e-9):
        res = rk.integrate(oscillator, y0, ts, tableau, tol, tol, first_step=1e-3)
        assert res.ok and res.ys.shape == (5, 2)
        err = float((res.ys - exact).abs().max())
        ref = torchdiffeq.odeint(oscillator, y0, ts, rtol=tol, atol=tol, method=method)
        assert err <= 2 * float((ref - exact).abs().max()) + 1e-12
        assert err < 2000 * tol
        errors.append(err)
    assert errors[0] > errors[1] > errors[2]


def test_step_count_and_fsal_evaluations():
    """Dopri5 is first-same-as-last: 6 new evaluations per attempted step, plus the first."""
    y0 = torch.tensor([1.0, 0.0], dtype=torch.float64)
    calls = [0]

    def f(t, y):
        calls[0] += 1
        return oscillator(t, y)

    res = rk.integrate(f, y0, torch.tensor([0.0, 3.0], dtype=torch.float64), rk.DOPRI5, 1e-8, 1e-8, 1e-3)
    assert res.nfe == calls[0]
    assert (res.nfe - 1) % 6 == 0 and res.steps <= (res.nfe - 1) // 6


def test_failures_are_reported():
    """A right-hand side that turns NaN makes the step shrink until it underflows: ok is False, no exception;
    max_steps is honoured."""
    y0 = torch.tensor([1.0, 0.0], dtype=torch.float64)

    def blows_up(t, y):
        return oscillator(t, y) * (float("nan") if float(t) > 0.5 else 1.0)

    res = rk.integrate(blows_up, y0, torch.tensor([0.0, 1.0], dtype=torch.float64), rk.DOPRI5, 1e-6, 1e-6, 1e-2)
    assert not res.ok
    res = rk.integrate(oscillator, y0, torch.tensor([0.0, 100.0], dtype=torch.float64), rk.DOPRI5, 1e-10, 1e-10,
                       1e-3, max_steps=50)
    assert not res.ok and res.steps <= 50


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_llg_step_matches_torchdiffeq(dtype):
    """A damped precessing film (exchange + Zeeman, 12×6 cells) stepped by LLGSolver (forward stepper) agrees with
    the same right-hand side integrated by torchdiffeq to the tolerance, and |m| stays 1."""
    state = nm.State(nm.Mesh((12, 6), (2e-9, 2e-9, 2e-9)), backend="torch", dtype=dtype)
    state.material.Ms = 8e5
    state.material.A = 1.3e-11
    state.material.alpha = 0.1
    rng = np.random.default_rng(3)
    m0 = rng.normal(size=(13, 7, 3)) + np.array([1.0, 0.5, 0.2])
    state.m = nm.VectorFunction(state, tensor=state.tensor(m0 / np.linalg.norm(m0, axis=-1, keepdims=True)))
    nm.ExchangeField().register(state, "exchange")
    nm.ExternalField((0.0, 0.0, 2e5)).register(state, "external")
    nm.TotalField("exchange", "external").register(state)
    llg = nm.LLGSolver(state, rtol=1e-7, atol=1e-7)
    start = state.m.tensor.clone()
    integ, constants = llg._integrator("dmdt", "direct")
    args = tuple(state.values(constants))
    ts = llg._times([0.0, 20e-12])
    with torch.no_grad():
        ref = torchdiffeq.odeint(lambda t, y: integ.f(t, y, args), start, ts, rtol=1e-7, atol=1e-7)[-1]
    llg.step(20e-12)
    m1 = state.m.tensor
    tol = 1e-5 if dtype == "float64" else 2e-4
    assert float((m1 - ref / ref.norm(dim=-1, keepdim=True)).abs().max()) < tol
    assert float((m1 - start).abs().max()) > 0.05  # it moved
    assert math.isclose(float(m1.norm(dim=-1).max()), 1.0, rel_tol=1e-5)
