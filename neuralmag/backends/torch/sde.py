r"""Stochastic (Stratonovich) integration for the PyTorch backend: a seeded stochastic Heun scheme.

Solves :math:`\mathrm{d}y = f(t, y)\,\mathrm{d}t + g(t, y)\circ\mathrm{d}W` on a fixed grid
:math:`t_0 < t_1 < \dots`. With :math:`h = t_{k+1} - t_k` and the Brownian increment
:math:`\Delta W \sim \mathcal{N}(0, h)` (one independent component per entry of ``y``, drawn from a
``torch.Generator`` seeded deterministically), one step of

* ``"Heun"`` (predictor–corrector, the same scheme as ``diffrax.Heun`` for SDEs) is

  .. math::
      \tilde y = y_k + f(t_k, y_k) h + g(t_k, y_k)\Delta W, \quad
      y_{k+1} = y_k + \tfrac12\left[f(t_k, y_k) + f(t_{k+1}, \tilde y)\right] h
                    + \tfrac12\left[g(t_k, y_k) + g(t_{k+1}, \tilde y)\right]\Delta W,

* ``"EulerHeun"`` (as ``diffrax.EulerHeun``): :math:`\tilde y = y_k + g(t_k, y_k)\Delta W`,
  :math:`y_{k+1} = y_k + f(t_k, y_k) h + \frac12\left[g(t_k, y_k) + g(t_k, \tilde y)\right]\Delta W`.

Both converge to the Stratonovich solution. The loop is plain autograd-differentiable.
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["SOLVERS", "SDEIntegrator", "noise_seed", "nodal_sum"]

SOLVERS = ("Heun", "EulerHeun")
ADJOINTS = ("checkpoint", "backsolve", "direct")


def noise_seed(seed) -> int:
    """A 64-bit ``torch.Generator`` seed derived from the non-negative integer tuple ``seed``."""
    values = [int(v) for v in seed]
    if any(v < 0 for v in values):
        raise ValueError(f"Seeds must be non-negative integers, got {values}.")
    return int(np.random.SeedSequence(values).generate_state(1, np.uint64)[0])


def nodal_sum(x, pbc):
    """Sum of the cell values ``x`` (cell axes first) over the cells adjacent to each node (see the JAX one)."""
    for axis, periodic in enumerate(pbc):
        if periodic:
            x = x + torch.roll(x, 1, dims=axis)
        else:
            shape = list(x.shape)
            shape[axis] = 1
            zero = torch.zeros(shape, dtype=x.dtype, device=x.device)
            p = torch.cat([zero, x, zero], dim=axis)
            n = p.shape[axis]
            x = p.narrow(axis, 0, n - 1) + p.narrow(axis, 1, n - 1)
    return x


class SDEIntegrator:
    """Integrates ``dy = drift(t, y, args) dt + diffusion(t, y, dW, args)`` (Stratonovich) on a fixed grid.

    Args:
        drift: ``drift(t, y, args)``.
        diffusion: ``diffusion(t, y, dW, args)``, linear in ``dW`` (same shape as ``y``).
        solver: ``"Heun"`` or ``"EulerHeun"``.
        adjoint: accepted for symmetry with the JAX backend; gradients are plain backpropagation.
    """

    def __init__(self, drift, diffusion, solver="Heun", adjoint="direct"):
        if solver not in SOLVERS:
            raise ValueError(f"Unknown stochastic solver {solver!r}; valid: {', '.join(SOLVERS)}.")
        if adjoint not in ADJOINTS:
            raise ValueError(f"Unknown adjoint {adjoint!r}; valid: {', '.join(ADJOINTS)}.")
        self.drift, self.diffusion, self.solver = drift, diffusion, solver

    def __call__(self, y0, grid, save_index, args, seed):
        """``(ys, num_steps, ok)`` with ``ys[i]`` the solution at ``grid[save_index[i]]``."""
        with torch.no_grad():
            ys = self.differentiable(y0, grid, save_index, args, seed)
        return ys, len(grid) - 1, bool(torch.isfinite(ys).all())

    def differentiable(self, y0, grid, save_index, args, seed):
        grid = np.asarray(grid, dtype=float)
        save = set(int(i) for i in save_index)
        order = [int(i) for i in save_index]
        generator = torch.Generator(device=y0.device)
        generator.manual_seed(noise_seed(seed))
        times = torch.as_tensor(grid, dtype=y0.dtype, device=y0.device)
        f, g = self.drift, self.diffusion
        saved = {}
        y = y0
        if 0 in save:
            saved[0] = y
        for k in range(len(grid) - 1):
            t0, t1 = times[k], times[k + 1]
            h = float(grid[k + 1] - grid[k])
            dw = math.sqrt(h) * torch.randn(y0.shape, generator=generator, dtype=y0.dtype, device=y0.device)
            f0 = f(t0, y, args)
            g0 = g(t0, y, dw, args)
            if self.solver == "Heun":
                pred = y + f0 * h + g0
                y = y + 0.5 * (f0 + f(t1, pred, args)) * h + 0.5 * (g0 + g(t1, pred, dw, args))
            else:
                pred = y + g0
                y = y + f0 * h + 0.5 * (g0 + g(t0, pred, dw, args))
            if k + 1 in save:
                saved[k + 1] = y
        return torch.stack([saved[i] for i in order])
