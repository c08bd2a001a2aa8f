"""ODE integration for the PyTorch backend with torchdiffeq."""

from __future__ import annotations

import math
import types

import torch
import torchdiffeq

from neuralmag.backends.torch import rk

#: adaptive solvers whose forward-only solves run on :mod:`neuralmag.backends.torch.rk` (torchdiffeq's stage
#: arithmetic costs as much as the RHS on the CPU); gradient solves use torchdiffeq
FORWARD_TABLEAUS = {"dopri5": rk.DOPRI5, "bosh3": rk.BOSH3}

SOLVERS = {
    "Dopri5": ("dopri5", True),
    "Dopri8": ("dopri8", True),
    "Bosh3": ("bosh3", True),
    "RK4": ("rk4", False),
    "Heun": ("heun2", False),
    "Euler": ("euler", False),
    "Midpoint": ("midpoint", False),
}

#: adjoint used for solves that need no gradient (LLGSolver.step): plain odeint: no checkpoint bookkeeping without a gradient
FORWARD_ADJOINT = "direct"

ADJOINTS = ("checkpoint", "backsolve", "direct")


def initial_step(f, t0, y0, t1, args, angle=0.01):
    r"""First step of the adaptive solvers: the time in which the fastest node turns by ``angle`` (rad),
    :math:`\Delta t_0 = \theta / \max_n |\dot{\mathbf m}_n|`, at most the interval ``t1 - t0``.

    torchdiffeq's generic estimate (Hairer's) can be far too large: on a relaxed film in float32 it tried
    6.7 ps, m left the unit sphere within the step, the right-hand side grew to 1e14 and then NaN, and the
    solve stopped with "underflow in dt". Same rule as the JAX backend (:func:`neuralmag.backends.jax.ode.initial_step`).
    """
    with torch.no_grad():
        rate = float(f(t0, y0, args).abs().max())
    span = float(t1 - t0)
    return angle / rate if rate * span > angle else span


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
        self.nfe = 0  # right-hand-side evaluations of the last solve
        self.steps = 0  # accepted steps of the last solve (forward solves without the checkpoint tape)

    def _options(self, y0=None, t0=None, t1=None, args=None):
        """torchdiffeq options; for the adaptive solvers with the first step of :func:`initial_step` when
        the start ``(t0, y0)`` is given."""
        if not self.adaptive:
            return {"step_size": self.dt}
        if y0 is None:
            return {}
        return {"first_step": initial_step(self.f, t0, y0, t1, args)}

    def _solve_rk(self, y0, ts, args, tableau, on_accept=None) -> rk.Result:
        """One :func:`rk.integrate` solve over the output times ``ts`` (a tensor), from the first step of
        :func:`initial_step`; records the RHS evaluations (the initial rate included) and accepted steps."""
        with torch.no_grad():
            first = initial_step(self.f, ts[0], y0, ts[-1], args)
            res = rk.integrate(lambda t, y: self.f(t, y, args), y0, ts, tableau, self.rtol, self.atol, first,
                               self.max_steps, on_accept)
        self.nfe, self.steps = res.nfe + 1, res.steps
        return res

    def __call__(self, y0, ts, args):
        """Forward-only solve (no autograd graph): ``(ys, accepted steps, ok)``."""
        tableau = FORWARD_TABLEAUS.get(self.method)
        if tableau is not None:
            ts = torch.as_tensor(ts, dtype=y0.dtype, device=y0.device)
            res = self._solve_rk(y0, ts, args, tableau)
            if not res.ok:
                return y0[None].expand(len(ts), *y0.shape), self.steps, False
            return res.ys, self.steps, True
        with torch.no_grad():
            try:
                ys = self.differentiable(y0, ts, args)
            except AssertionError:  # torchdiffeq asserts on step-size underflow (e.g. NaN in the RHS)
                return y0[None].expand(len(ts), *y0.shape), self.steps, False
        ok = bool(torch.isfinite(ys[-1]).all())
        return ys, self.steps, ok

    def differentiable(self, y0, ts, args):
        ts = torch.as_tensor(ts, dtype=y0.dtype, device=y0.device)
        self.nfe = self.steps = 0

        def counted(t, y, a):
            self.nfe += 1
            return self.f(t, y, a)

        def rhs(t, y):
            return counted(t, y, args)

        def count_step(t0, y, dt):
            self.steps += 1

        # torchdiffeq reports steps through callbacks looked up on the function: accepted steps of the adaptive
        # solvers, every step of the fixed-step ones
        setattr(rhs, "callback_accept_step" if self.adaptive else "callback_step", count_step)

        if self.adjoint == "backsolve":
            # the adjoint-state ODE is solved backwards in time for y and the parameters' gradients (tensors
            # inside tuples too: the folded coefficients of the field kernels, State.resolve_unbound)
            params = tuple(a for a in _flatten(args)[0] if isinstance(a, torch.Tensor) and a.requires_grad)
            return torchdiffeq.odeint_adjoint(rhs, y0, ts, rtol=self.rtol, atol=self.atol, method=self.method,
                                              options=self._options(y0, ts[0], ts[-1], args),
                                              adjoint_options={}, adjoint_params=params)
        if self.adjoint == "checkpoint":
            return _checkpointed(counted, y0, ts, args, self)
        return torchdiffeq.odeint(rhs, y0, ts, rtol=self.rtol, atol=self.atol, method=self.method,
                                  options=self._options(y0, ts[0], ts[-1], args))


def _flatten(args) -> tuple[tuple, list]:
    """The arguments with tuples spliced in, and the length of each tuple (None for a plain argument)."""
    flat, sizes = [], []
    for a in args:
        if isinstance(a, tuple):
            flat += a
            sizes.append(len(a))
        else:
            flat.append(a)
            sizes.append(None)
    return tuple(flat), sizes


def _unflatten(flat, sizes) -> tuple:
    """Inverse of :func:`_flatten`."""
    out, i = [], 0
    for n in sizes:
        if n is None:
            out.append(flat[i])
            i += 1
        else:
            out.append(tuple(flat[i:i + n]))
            i += n
    return tuple(out)


def _checkpointed(f, y0, ts, args, integ):
    """Discretise-then-optimise with one checkpoint per accepted solver step.

    The forward pass runs without an autograd graph and keeps, per accepted step, its start time, size and start
    state (|y| numbers per step instead of the recorded graph of the step's RHS evaluations); the backward pass
    replays the steps last to first, each from its stored state with its stored size, and pulls the cotangent
    back through it with a vector–Jacobian product. Memory: one step's graph plus the stored states (flat in the
    horizon, measured in benchmarks/results/adjoint_memory.md); time: about one extra forward.

    Dopri5 and Bosh3 step with :mod:`neuralmag.backends.torch.rk` (whose steps end exactly on the output times),
    and the replay is :func:`rk.step`, the same arithmetic; the other solvers step with torchdiffeq.
    """
    # the autograd Functions below see tensors only as direct arguments: tensors inside tuples (the folded
    # coefficients of the field kernels, State.resolve_unbound) are passed flat and regrouped for f
    flat, sizes = _flatten(args)

    def regroup(a):
        return _unflatten(a, sizes)

    def f(t, y, a, f=f):
        return f(t, y, regroup(a))

    args = flat
    tableau = FORWARD_TABLEAUS.get(integ.method)
    if tableau is not None:
        return _checkpointed_rk(f, regroup, y0, ts, args, integ, tableau)

    def odeint(y, t_a, t_b, a, first_step=None):
        options = dict(integ._options())
        if integ.adaptive and first_step is not None:
            options["first_step"] = first_step
        return torchdiffeq.odeint(lambda t, yy: f(t, yy, a), y, torch.stack([t_a, t_b]).to(y.dtype),
                                  rtol=integ.rtol, atol=integ.atol, method=integ.method, options=options)[-1]

    class Recorder:  # torchdiffeq calls func.callback_accept_step(t0, y0, dt) after every accepted step
        def __init__(self, a):
            self.a, self.steps = a, []

        def __call__(self, t, y):
            return f(t, y, self.a)

        def callback_accept_step(self, t0, y, dt):
            self.steps.append((t0.detach(), dt.detach(), y.detach()))
            integ.steps += 1

    class PerStep(torch.autograd.Function):
        @staticmethod
        def forward(ctx, y0, *a):
            ys, tape, y = [y0], [], y0
            for i in range(len(ts) - 1):
                if integ.adaptive:
                    rec = Recorder(a)
                    y = torchdiffeq.odeint(rec, y, ts[i:i + 2], rtol=integ.rtol, atol=integ.atol, method=integ.method,
                                           options=integ._options(y, ts[i], ts[i + 1], regroup(a)))[-1]
                    tape.append(rec.steps)
                else:  # fixed steps: the interval itself is replayed (fixed-step solvers are deterministic)
                    tape.append([(ts[i], None, y)])
                    y = odeint(y, ts[i], ts[i + 1], a)
                    integ.steps += max(1, math.ceil(float((ts[i + 1] - ts[i]) / integ.dt) - 1e-9))
                ys.append(y)
            ctx.tape, ctx.a = tape, a
            return torch.stack(ys)

        @staticmethod
        def backward(ctx, grad_ys):
            a = ctx.a
            need = [i for i, x in enumerate(a) if ctx.needs_input_grad[1 + i]]
            grad_a = [None] * len(a)
            grad_y = grad_ys[-1]
            for i in reversed(range(len(ts) - 1)):
                steps = ctx.tape[i]
                for k in reversed(range(len(steps))):
                    t_k, dt_k, y_k = steps[k]
                    t_end = ts[i + 1] if k == len(steps) - 1 else t_k + dt_k  # the last step is interpolated
                    with torch.enable_grad():
                        y_in = y_k.detach().requires_grad_(True)
                        a_in = tuple(x.detach().requires_grad_(True) if j in need else x for j, x in enumerate(a))
                        y_out = odeint(y_in, t_k, t_end, a_in, dt_k)
                        g = torch.autograd.grad(y_out, (y_in, *[a_in[j] for j in need]), grad_y,
                                                allow_unused=True)
                    grad_y = g[0]
                    for j, gj in zip(need, g[1:]):
                        if gj is not None:
                            grad_a[j] = gj if grad_a[j] is None else grad_a[j] + gj
                grad_y = grad_y + grad_ys[i]
            return (grad_y, *grad_a)

    if not torch.is_grad_enabled():  # a plain forward (e.g. LLGSolver.step): no tape needed
        return PerStep.forward(types.SimpleNamespace(), y0, *args)
    return PerStep.apply(y0, *args)


def _checkpointed_rk(f, regroup, y0, ts, args, integ, tableau):
    """:func:`_checkpointed` for the solvers of :mod:`neuralmag.backends.torch.rk`: the forward pass is one
    :func:`rk.integrate` over all output times, recording ``(t, h, y)`` of every accepted step; the backward pass
    replays each step with :func:`rk.step` (the steps ending on an output time end there exactly, so no
    interpolation enters). ``args`` are flat, ``regroup(args)`` are those of ``integ.f``."""
    ts = torch.as_tensor(ts, dtype=y0.dtype, device=y0.device)
    times = [float(t) for t in ts]

    class PerStep(torch.autograd.Function):
        @staticmethod
        def forward(ctx, y0, *a):
            tape = []
            res = integ._solve_rk(y0, ts, regroup(a), tableau, on_accept=lambda t, h, y, t_end: tape.append((t, h, y, t_end)))
            if not res.ok:
                raise AssertionError("step-size underflow, non-finite values or too many steps")
            ctx.tape, ctx.a = tape, a
            return res.ys

        @staticmethod
        def backward(ctx, grad_ys):
            a = ctx.a
            need = [i for i, x in enumerate(a) if ctx.needs_input_grad[1 + i]]
            grad_a = [None] * len(a)
            # step k ends on output time i: ends[k] = i (integrate sets the end time to ts[i] exactly)
            index = {t: i for i, t in enumerate(times)}
            ends = {k: index.get(t_end) for k, (_, _, _, t_end) in enumerate(ctx.tape)}
            grad_y = grad_ys[-1]
            for k in reversed(range(len(ctx.tape))):
                t, h, y_k, _ = ctx.tape[k]
                with torch.enable_grad():
                    y_in = y_k.detach().requires_grad_(True)
                    a_in = tuple(x.detach().requires_grad_(True) if j in need else x for j, x in enumerate(a))
                    y_out = rk.step(lambda tt, yy: f(tt, yy, a_in), t, y_in, h, tableau, ts.dtype)
                    g = torch.autograd.grad(y_out, (y_in, *[a_in[j] for j in need]), grad_y, allow_unused=True)
                grad_y = g[0]
                for j, gj in zip(need, g[1:]):
                    if gj is not None:
                        grad_a[j] = gj if grad_a[j] is None else grad_a[j] + gj
                # the state at the start of step k is the output at time ts[i] if the step before ended there
                i = ends.get(k - 1) if k > 0 else 0
                if i is not None and i < len(times) - 1:
                    grad_y = grad_y + grad_ys[i]
            return (grad_y, *grad_a)

    if not torch.is_grad_enabled():
        return PerStep.forward(types.SimpleNamespace(), y0, *args)
    return PerStep.apply(y0, *args)
