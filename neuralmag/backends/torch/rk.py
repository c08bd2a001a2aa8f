r"""Forward-only adaptive Runge–Kutta integration for the PyTorch backend (no autograd graph).

Why not torchdiffeq here: torchdiffeq keeps the stage derivatives in the *last* axis of one array,
``k[..., i]``, and combines them with ``k[..., :i + 1].matmul(β_i Δt)``, which PyTorch evaluates on the CPU as a
broadcast multiply into a temporary of shape ``(*y.shape, i + 1)`` followed by a strided sum. On a 256² film that
costs 4–12 ms per right-hand-side evaluation (measured: a dummy RHS of 2 ms ran at 14 ms per evaluation inside
``torchdiffeq.odeint``), as much as the micromagnetic RHS itself. Here the stages are the *rows* of a contiguous
``(s, N)`` array and each stage combination is one BLAS vector–matrix product,

.. math::

    \mathbf y_i = \mathbf y_n + \Delta t \sum_{j<i} a_{ij} \mathbf k_j ,\qquad
    \mathbf k_i = \mathbf f(t_n + c_i \Delta t, \mathbf y_i),

so the stepping costs a few passes over memory per stage. Gradient solves (``checkpoint``, ``backsolve``,
``direct`` with autograd) keep using torchdiffeq, whose steps they replay.

Step-size control is torchdiffeq's, so both take the same steps up to rounding: the error ratio

.. math::

    r = \Bigl\lVert \frac{\Delta t \sum_i e_i \mathbf k_i}{a_\mathrm{tol} + r_\mathrm{tol}
        \max(|\mathbf y_n|, |\mathbf y_{n+1}|)} \Bigr\rVert_\mathrm{RMS},\qquad e_i = b_i - \hat b_i ,

accepts the step for :math:`r \le 1`, and the next step is
:math:`\Delta t\,\min(10, \max(0.9\,r^{-1/p}, f_\mathrm{min}))` with :math:`f_\mathrm{min} = 0.2` after a rejection
and 1 after an acceptance (:math:`p` the order of the solution). Output times are hit exactly: a step that would
pass the next output time is shortened to end on it (torchdiffeq steps over it and interpolates), and the step
after such a shortened step starts from the controller's proposal before the shortening.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Tableau:
    """Explicit embedded Runge–Kutta pair: nodes ``c``, stage rows ``a`` (``a[i]`` has ``i`` entries), weights
    ``b`` of the propagated solution (order ``order``) and ``e = b − b̂`` of the error estimate. ``fsal``: the
    last stage is evaluated at the new solution (first-same-as-last, ``a[-1] == b``)."""

    c: tuple
    a: tuple
    b: tuple
    e: tuple
    order: int

    @property
    def fsal(self) -> bool:
        return len(self.a[-1]) == len(self.b) - 1 and tuple(self.a[-1]) == tuple(self.b[:-1]) and self.b[-1] == 0


def _pair(c, a, b, b_hat, order):
    return Tableau(tuple(c), tuple(tuple(r) for r in a), tuple(b), tuple(x - y for x, y in zip(b, b_hat)), order)


#: Dormand–Prince 5(4) (J. R. Dormand, P. J. Prince, J. Comput. Appl. Math. 6, 19 (1980)) with Shampine's
#: embedded weights b̂ (L. F. Shampine, Math. Comp. 46, 135 (1986)), as in torchdiffeq and diffrax.
DOPRI5 = _pair(
    c=(0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1),
    a=((), (1 / 5,), (3 / 40, 9 / 40), (44 / 45, -56 / 15, 32 / 9),
       (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
       (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
       (35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84)),
    b=(35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0),
    b_hat=(1951 / 21600, 0, 22642 / 50085, 451 / 720, -12231 / 42400, 649 / 6300, 1 / 60),
    order=5,
)

#: Bogacki–Shampine 3(2) (P. Bogacki, L. F. Shampine, Appl. Math. Lett. 2, 321 (1989)).
BOSH3 = _pair(
    c=(0, 1 / 2, 3 / 4, 1),
    a=((), (1 / 2,), (0, 3 / 4), (2 / 9, 1 / 3, 4 / 9)),
    b=(2 / 9, 1 / 3, 4 / 9, 0),
    b_hat=(7 / 24, 1 / 4, 1 / 3, 1 / 8),
    order=3,
)

SAFETY, IFACTOR, DFACTOR = 0.9, 10.0, 0.2


@dataclass
class Result:
    """``ys[i]`` the solution at ``ts[i]``; ``ok`` False after a step-size underflow, non-finite values or
    ``max_steps``; ``nfe`` right-hand-side evaluations, ``steps`` accepted steps."""

    ys: torch.Tensor
    nfe: int
    steps: int
    ok: bool


@torch.no_grad()
def integrate(f, y0: torch.Tensor, ts, tableau: Tableau, rtol: float, atol: float, first_step: float,
              max_steps: int = 1_000_000, on_accept=None) -> Result:
    """Integrate ``dy/dt = f(t, y)`` from ``ts[0]`` with adaptive steps and return ``y`` at every ``ts[i]``.

    ``f`` is called with ``t`` as a 0-d tensor of the dtype of ``ts`` (as torchdiffeq does) and ``y`` of the shape
    of ``y0``. ``ts`` must increase strictly. ``on_accept(t, h, y, t_end)``, if given, is called with the start
    time, size, start state and end time of every accepted step (the checkpoint adjoint replays them with
    :func:`step`); ``t_end`` is exactly ``ts[i]`` for a step that ends on an output time.
    """
    t_dtype = ts.dtype if isinstance(ts, torch.Tensor) else y0.dtype
    times = [float(t) for t in ts]
    shape, n, s = y0.shape, y0.numel(), len(tableau.b)
    coeff = [y0.new_tensor(row) for row in tableau.a]
    b, e = y0.new_tensor(tableau.b), y0.new_tensor(tableau.e)
    fsal = tableau.fsal

    def rhs(t, y):
        return f(torch.tensor(t, dtype=t_dtype, device=y0.device), y.view(shape)).reshape(-1)

    stages = y0.new_empty((s, n))
    y, t = y0.reshape(-1), times[0]
    stages[0] = rhs(t, y)
    nfe, steps, tries = 1, 0, 0
    dt = float(first_step)
    out = [y0]
    for t_out in times[1:]:
        while t < t_out:
            if tries >= max_steps:
                return Result(torch.stack(out), nfe, steps, False)
            tries += 1
            # end this step on the output time (stretched by up to 1 % rather than leave a sliver of a step)
            clipped = t + 1.01 * dt >= t_out
            h = t_out - t if clipped else dt
            if not t + h > t:  # step-size underflow
                return Result(torch.stack(out), nfe, steps, False)
            for i in range(1, s):
                y_i = torch.matmul(coeff[i] * h, stages[:i]).add_(y)  # BLAS gemv on the contiguous rows
                stages[i] = rhs(t + tableau.c[i] * h, y_i)
            nfe += s - 1
            y_new = y_i if fsal else torch.matmul(b * h, stages).add_(y)
            scale = torch.maximum(y.abs(), y_new.abs()).mul_(rtol).add_(atol)
            error = torch.matmul(e * h, stages).div_(scale)
            ratio = float(torch.linalg.vector_norm(error)) / math.sqrt(n)
            if not math.isfinite(ratio):  # NaN/Inf in a stage: shrink as far as allowed and retry
                dt = h * DFACTOR
                continue
            if ratio <= 1:
                t_new = t_out if clipped else t + h
                if on_accept is not None:
                    on_accept(t, h, y.view(shape), t_new)
                proposal = dt
                t, y = t_new, y_new
                steps += 1
                if fsal:
                    stages[0] = stages[s - 1]
                else:
                    stages[0] = rhs(t, y)
                    nfe += 1
                dt = h * (IFACTOR if ratio == 0 else min(IFACTOR, max(SAFETY * ratio ** (-1 / tableau.order), 1.0)))
                if clipped:  # a shortened step says nothing against the earlier proposal
                    dt = max(dt, proposal)
            else:
                dt = h * min(IFACTOR, max(SAFETY * ratio ** (-1 / tableau.order), DFACTOR))
        out.append(y.view(shape))
    return Result(torch.stack(out), nfe, steps, bool(torch.isfinite(y).all()))


def step(f, t: float, y: torch.Tensor, h: float, tableau: Tableau, t_dtype=None) -> torch.Tensor:
    """One step of size ``h`` from ``(t, y)``: the propagated solution, differentiable (autograd) with respect
    to ``y`` and whatever ``f`` closes over. Same arithmetic as :func:`integrate` (stages kept in a list, not
    written into a preallocated array, so that autograd may save them)."""
    t_dtype = t_dtype or y.dtype
    stages = []
    for i in range(len(tableau.b)):
        if i == 0:
            y_i = y
        else:
            coeff = y.new_tensor(tableau.a[i]) * h
            y_i = torch.tensordot(coeff, torch.stack(stages), 1) + y
        if i == len(tableau.b) - 1 and tableau.fsal:
            return y_i
        stages.append(f(torch.tensor(t + tableau.c[i] * h, dtype=t_dtype, device=y.device), y_i))
    return torch.tensordot(y.new_tensor(tableau.b) * h, torch.stack(stages), 1) + y
