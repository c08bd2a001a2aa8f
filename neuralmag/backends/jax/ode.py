"""ODE integration for the JAX backend with diffrax.

The right-hand side is a pure function ``f(t, y, args)`` in *scaled* time; the whole solve (all steps, all
field terms) is one ``jax.jit``-compiled function per integrator, compiled on first use and reused.
"""

from __future__ import annotations

from typing import ClassVar

import diffrax
import jax
import jax.numpy as jnp
import numpy as np


class RK4(diffrax.AbstractERK):
    """The classical 4th-order Runge–Kutta method (fixed steps)."""

    tableau: ClassVar[diffrax.ButcherTableau] = diffrax.ButcherTableau(
        c=np.array([0.5, 0.5, 1.0]),
        b_sol=np.array([1 / 6, 1 / 3, 1 / 3, 1 / 6]),
        b_error=np.array([0.0, 0.0, 0.0, 0.0]),
        a_lower=(np.array([0.5]), np.array([0.0, 0.5]), np.array([0.0, 0.0, 1.0])),
    )
    interpolation_cls: ClassVar = diffrax.ThirdOrderHermitePolynomialInterpolation.from_k

    def order(self, terms):
        return 4


SOLVERS = {
    "Dopri5": (diffrax.Dopri5, True),
    "Tsit5": (diffrax.Tsit5, True),
    "Dopri8": (diffrax.Dopri8, True),
    "Bosh3": (diffrax.Bosh3, True),
    "Kvaerno5": (diffrax.Kvaerno5, True),
    "Kvaerno3": (diffrax.Kvaerno3, True),
    "RK4": (RK4, False),
    "Heun": (diffrax.Heun, False),
    "Euler": (diffrax.Euler, False),
    "Midpoint": (diffrax.Midpoint, False),
}

#: adjoint used for solves that need no gradient (LLGSolver.step): diffrax's recursive checkpointing costs nothing extra without a gradient
FORWARD_ADJOINT = "checkpoint"

ADJOINTS = {
    "checkpoint": lambda: diffrax.RecursiveCheckpointAdjoint(),
    "backsolve": lambda: diffrax.BacksolveAdjoint(),
    "direct": lambda: diffrax.DirectAdjoint(),
}


def initial_step(f, y0, ts, args, angle=0.01):
    r"""First step of the adaptive solvers: the time in which the fastest node turns by ``angle`` (rad),
    :math:`\Delta t_0 = \theta / \max_n |\dot{\mathbf m}_n|`, at most the whole interval.

    diffrax's generic estimate (Hairer's) tries ~0.7 ps on an abrupt domain wall whose nodes turn at
    ~5 rad/ps: m overflows within the step, the error estimate is NaN, the PID controller turns that into a
    NaN step size and rejects every later step. The controller enlarges a small first step by up to 10× per
    step, so starting small costs a handful of steps."""
    rate = jnp.max(jnp.abs(f(ts[0], y0, args)))
    span = ts[-1] - ts[0]
    return jnp.where(rate * span > angle, angle / jnp.where(rate > 0, rate, 1.0), span)


class Integrator:
    """Integrates ``dy/dt = f(t, y, args)`` and returns ``y`` at the requested times."""

    def __init__(self, f, solver="Dopri5", rtol=1e-5, atol=1e-5, adjoint="checkpoint", dt=None,
                 max_steps=200_000):
        if solver not in SOLVERS:
            raise ValueError(f"Unknown solver {solver!r} for the jax backend; valid: {', '.join(SOLVERS)}.")
        if adjoint not in ADJOINTS:
            raise ValueError(f"Unknown adjoint {adjoint!r}; valid: {', '.join(ADJOINTS)}.")
        cls, adaptive = SOLVERS[solver]
        if not adaptive and dt is None:
            raise ValueError(f"The fixed-step solver {solver!r} needs a step size dt (in scaled time).")
        self.adaptive = adaptive
        term = diffrax.ODETerm(f)
        # dtmin stops a solve whose steps keep being rejected (NaN in the RHS) instead of shrinking forever
        controller = (diffrax.PIDController(rtol=rtol, atol=atol, dtmin=1e-12) if adaptive
                      else diffrax.ConstantStepSize())
        adjoint_obj = ADJOINTS[adjoint]()
        if adjoint == "direct":
            max_steps = min(max_steps, 16384)  # DirectAdjoint unrolls; keep its memory bounded

        def solve(y0, ts, args):
            # a heuristic, not part of the differentiated solution: BacksolveAdjoint rejects a dt0 with a tangent
            dt0 = dt if not adaptive else jax.lax.stop_gradient(initial_step(f, y0, ts, args))
            sol = diffrax.diffeqsolve(
                term, cls(), ts[0], ts[-1], dt0, y0, args, saveat=diffrax.SaveAt(ts=ts),
                stepsize_controller=controller, adjoint=adjoint_obj, max_steps=max_steps, throw=False,
            )
            return sol.ys, sol.stats["num_accepted_steps"], sol.result == diffrax.RESULTS.successful

        self._solve = jax.jit(solve)

    def __call__(self, y0, ts, args):
        """``(ys, num_steps, ok)``: ``ys[i]`` is the solution at ``ts[i]``; ``ok`` False on failure."""
        ys, steps, ok = self._solve(y0, jnp.asarray(ts, dtype=y0.dtype), tuple(args))
        return ys, steps, ok

    def differentiable(self, y0, ts, args):
        """Same as calling, for use inside ``jax.grad`` (errors surface as NaN rather than exceptions)."""
        return self._solve(y0, jnp.asarray(ts, dtype=y0.dtype), tuple(args))[0]
