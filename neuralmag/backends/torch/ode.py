"""ODE integration for the PyTorch backend with torchdiffeq."""

from __future__ import annotations

import torch
import torchdiffeq

SOLVERS = {
    "Dopri5": ("dopri5", True),
    "Dopri8": ("dopri8", True),
    "Bosh3": ("bosh3", True),
    "RK4": ("rk4", False),
    "Heun": ("heun2", False),
    "Euler": ("euler", False),
    "Midpoint": ("midpoint", False),
}

ADJOINTS = ("checkpoint", "backsolve", "direct")


class Integrator:
    """Integrates ``dy/dt = f(t, y, args)`` and returns ``y`` at the requested times."""

    def __init__(self, f, solver="Dopri5", rtol=1e-5, atol=1e-5, adjoint="direct", dt=None, max_steps=1_000_000):
        if solver not in SOLVERS:
            hint = " (Tsit5 and the implicit Kvaerno methods exist in the jax backend only)" if solver in (
                "Tsit5", "Kvaerno3", "Kvaerno5") else ""
            raise ValueError(f"Unknown solver {solver!r} for the torch backend{hint}; valid: {', '.join(SOLVERS)}.")
        if adjoint not in ADJOINTS:
            raise ValueError(f"Unknown adjoint {adjoint!r}; valid: {', '.join(ADJOINTS)}.")
        self.method, self.adaptive = SOLVERS[solver]
        if not self.adaptive and dt is None:
            raise ValueError(f"The fixed-step solver {solver!r} needs a step size dt (in scaled time).")
        self.f, self.rtol, self.atol, self.adjoint, self.dt = f, rtol, atol, adjoint, dt
        self.max_steps = max_steps
        self.nfe = 0

    def _options(self):
        return {} if self.adaptive else {"step_size": self.dt}

    def __call__(self, y0, ts, args):
        with torch.no_grad():
            try:
                ys = self.differentiable(y0, ts, args)
            except AssertionError:  # torchdiffeq asserts on step-size underflow (e.g. NaN in the RHS)
                return y0[None].expand(len(ts), *y0.shape), self.nfe, False
        ok = bool(torch.isfinite(ys[-1]).all())
        return ys, self.nfe, ok

    def differentiable(self, y0, ts, args):
        ts = torch.as_tensor(ts, dtype=y0.dtype, device=y0.device)
        self.nfe = 0

        def counted(t, y, a):
            self.nfe += 1
            return self.f(t, y, a)

        if self.adjoint == "backsolve":
            # the adjoint-state ODE is solved backwards in time for y and the parameters' gradients
            params = tuple(a for a in args if isinstance(a, torch.Tensor) and a.requires_grad)
            return torchdiffeq.odeint_adjoint(lambda t, y: counted(t, y, args), y0, ts, rtol=self.rtol,
                                              atol=self.atol, method=self.method, options=self._options(),
                                              adjoint_params=params)
        if self.adjoint == "checkpoint":
            return _checkpointed(counted, y0, ts, args, self)
        return torchdiffeq.odeint(lambda t, y: counted(t, y, args), y0, ts, rtol=self.rtol, atol=self.atol,
                                  method=self.method, options=self._options())


def _checkpointed(f, y0, ts, args, integ):
    """Discretise-then-optimise with one checkpoint per output interval (torch.utils.checkpoint)."""
    from torch.utils.checkpoint import checkpoint

    ys = [y0]
    y = y0
    for i in range(len(ts) - 1):
        def segment(y_in, *a, t0=ts[i], t1=ts[i + 1]):
            return torchdiffeq.odeint(lambda t, yy: f(t, yy, a), y_in, torch.stack([t0, t1]), rtol=integ.rtol,
                                      atol=integ.atol, method=integ.method, options=integ._options())[-1]
        y = checkpoint(segment, y, *args, use_reentrant=False)
        ys.append(y)
    return torch.stack(ys)
