r"""Stochastic (Stratonovich) integration for the JAX backend with diffrax.

Solves :math:`\mathrm{d}y = f(t, y)\,\mathrm{d}t + g(t, y)\circ\mathrm{d}W` with ``diffrax.MultiTerm(ODETerm,
ControlTerm)``: the diffusion is given as the linear map ``diffusion(t, y, dW, args)`` (a
``lineax.FunctionLinearOperator``), the steps are a fixed grid (``diffrax.StepTo``) with a Stratonovich solver
(``diffrax.Heun`` or ``diffrax.EulerHeun``), and the Brownian path ``W`` (one independent component per entry
of ``y``) is seeded by a ``jax.random`` key: by default a :class:`GridBrownianPath` (the increment over grid step
``k`` drawn from ``fold_in(key, k)``: exact Brownian increments on the grid at the cost of one normal draw per
step), or, with ``brownian="tree"``, a ``diffrax.VirtualBrownianTree`` (queryable at any time, but measured
80x slower per step and 3x slower to compile for a 128-node LLG problem on CPU). The whole solve is one
``jax.jit``-compiled function per grid length.
"""

from __future__ import annotations

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax
import numpy as np

from neuralmag.backends.jax.ode import ADJOINTS

__all__ = ["SOLVERS", "SDEIntegrator", "GridBrownianPath", "noise_key", "nodal_sum"]

SOLVERS = {"Heun": diffrax.Heun, "EulerHeun": diffrax.EulerHeun}


def noise_key(seed):
    """``jax.random`` key of the integer tuple ``seed`` (e.g. ``(seed, stream, counter)``), each entry folded in."""
    key = jax.random.PRNGKey(0)
    for value in seed:
        value = int(value)
        if value < 0:
            raise ValueError(f"Seeds must be non-negative integers, got {value}.")
        while True:  # 32-bit chunks, so that any non-negative Python int is accepted
            key = jax.random.fold_in(key, value & 0xFFFFFFFF)
            value >>= 32
            if not value:
                break
    return key


def nodal_sum(x, pbc):
    """Sum of the cell values ``x`` (cell axes first) over the cells adjacent to each node.

    Along a non-periodic axis node ``i`` of ``n + 1`` touches cells ``i - 1`` and ``i``; along a periodic axis
    the ``n`` nodes touch cells ``i - 1 (mod n)`` and ``i``.
    """
    for axis, periodic in enumerate(pbc):
        if periodic:
            x = x + jnp.roll(x, 1, axis=axis)
        else:
            pad = [(0, 0)] * x.ndim
            pad[axis] = (1, 1)
            p = jnp.pad(x, pad)
            lo = [slice(None)] * x.ndim
            hi = [slice(None)] * x.ndim
            lo[axis], hi[axis] = slice(0, -1), slice(1, None)
            x = p[tuple(lo)] + p[tuple(hi)]
    return x


class GridBrownianPath(diffrax.AbstractBrownianPath):
    """Brownian motion sampled on the fixed step grid ``grid``: the increment over ``[grid[k], grid[k + 1]]`` is
    ``sqrt(grid[k + 1] - grid[k]) * normal(fold_in(key, k))``, independent between steps and reproducible (so
    recomputation in checkpointed backpropagation sees the same path). Only whole grid steps may be queried,
    which is what fixed-step solvers on this grid (``diffrax.StepTo(grid)``) do."""

    grid: jax.Array
    key: jax.Array
    shape: jax.ShapeDtypeStruct = eqx.field(static=True)
    levy_area: type = eqx.field(static=True, default=diffrax.BrownianIncrement)

    @property
    def t0(self):
        return self.grid[0]

    @property
    def t1(self):
        return self.grid[-1]

    def evaluate(self, t0, t1=None, left=True, use_levy=False):
        del left
        if t1 is None:
            raise NotImplementedError("GridBrownianPath only returns increments over grid steps.")
        k = jnp.searchsorted(self.grid, 0.5 * (t0 + t1)) - 1  # the step whose midpoint this is
        h = t1 - t0
        z = jax.random.normal(jax.random.fold_in(self.key, k), self.shape.shape, self.shape.dtype)
        dw = jnp.sign(h) * jnp.sqrt(jnp.abs(h)) * z
        return diffrax.BrownianIncrement(dt=h, W=dw) if use_levy else dw


class SDEIntegrator:
    """Integrates ``dy = drift(t, y, args) dt + diffusion(t, y, dW, args)`` (Stratonovich) on a fixed grid.

    Args:
        drift: ``drift(t, y, args)``.
        diffusion: ``diffusion(t, y, dW, args)``, linear in ``dW`` (same shape as ``y``).
        solver: ``"Heun"`` (stochastic Heun, 2 drift and 2 diffusion evaluations per step) or ``"EulerHeun"``.
        adjoint: gradient method of :meth:`differentiable` (``"checkpoint"``, ``"backsolve"``, ``"direct"``).
        brownian: ``"grid"`` (:class:`GridBrownianPath`, default) or ``"tree"`` (``diffrax.VirtualBrownianTree``
            with tolerance half the smallest step; between its nodes an exact Brownian bridge).
    """

    def __init__(self, drift, diffusion, solver="Heun", adjoint="checkpoint", brownian="grid"):
        if brownian not in ("grid", "tree"):
            raise ValueError(f"Unknown Brownian path {brownian!r}; valid: 'grid', 'tree'.")
        if solver not in SOLVERS:
            raise ValueError(f"Unknown stochastic solver {solver!r}; valid: {', '.join(SOLVERS)}.")
        if adjoint not in ADJOINTS:
            raise ValueError(f"Unknown adjoint {adjoint!r}; valid: {', '.join(ADJOINTS)}.")
        cls = SOLVERS[solver]
        adjoint_obj = ADJOINTS[adjoint]()

        def solve(y0, grid, ts, args, key, tol):
            structure = jax.ShapeDtypeStruct(y0.shape, y0.dtype)
            if brownian == "tree":
                path = diffrax.VirtualBrownianTree(grid[0], grid[-1], tol=tol, shape=structure, key=key)
            else:
                path = GridBrownianPath(grid, key, structure)

            def noise(t, y, a):
                return lineax.FunctionLinearOperator(lambda dw: diffusion(t, y, dw, a), structure)

            terms = diffrax.MultiTerm(diffrax.ODETerm(drift), diffrax.ControlTerm(noise, path))
            sol = diffrax.diffeqsolve(
                terms, cls(), grid[0], grid[-1], None, y0, args, saveat=diffrax.SaveAt(ts=ts),
                stepsize_controller=diffrax.StepTo(grid), adjoint=adjoint_obj, max_steps=grid.shape[0] - 1,
                throw=False,
            )
            return sol.ys, sol.stats["num_steps"], sol.result == diffrax.RESULTS.successful

        self._solve = jax.jit(solve)

    def _run(self, y0, grid, save_index, args, seed):
        grid = np.asarray(grid, dtype=float)
        tol = 0.5 * float(np.min(np.diff(grid)))
        g = jnp.asarray(grid, dtype=y0.dtype)
        ts = g[np.asarray(save_index)]
        return self._solve(y0, g, ts, tuple(args), noise_key(seed), tol)

    def __call__(self, y0, grid, save_index, args, seed):
        """``(ys, num_steps, ok)`` with ``ys[i]`` the solution at ``grid[save_index[i]]``."""
        return self._run(y0, grid, save_index, args, seed)

    def differentiable(self, y0, grid, save_index, args, seed):
        """Same as calling, for use inside ``jax.grad`` (returns ``ys`` only)."""
        return self._run(y0, grid, save_index, args, seed)[0]
