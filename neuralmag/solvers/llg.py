r"""Time integration of the Landau–Lifshitz–Gilbert equation.

.. math::
    \frac{\partial\mathbf{m}}{\partial t} = -\frac{\gamma}{1+\alpha^2}\,\mathbf{m}\times\mathbf{h}
        - \frac{\alpha\gamma}{1+\alpha^2}\,\mathbf{m}\times(\mathbf{m}\times\mathbf{h})
        + \sum_i \boldsymbol{\tau}_i

with the total effective field :math:`\mathbf{h}` = ``state.h`` (A/m, see :class:`~neuralmag.TotalField`),
:math:`\gamma` = ``state.material.gamma`` (default :data:`GAMMA`, m/(A s)), :math:`\alpha` =
``state.material.alpha`` and the torques ``state.tau_<name>`` of registered torque terms (1/s).

The right-hand side is itself a generated kernel (the LLG torque as a linear form with the nodal rule:
cell-wise :math:`\alpha, \gamma` enter as the :math:`M_s`-weighted average of the adjacent cells; they may
also be given per node, as a nodal :class:`~neuralmag.Function`, and then enter at each node as given), and the
whole dependency graph is resolved into one pure function of ``(t, m, parameters...)``. The backend's
integrator (diffrax for JAX, torchdiffeq for PyTorch) works in scaled time :math:`t/t_s` (``scale_t``).

With a registered :class:`~neuralmag.ThermalField` the solver integrates the stochastic LLG equation (a
Stratonovich SDE) instead, with fixed steps: diffrax ``MultiTerm(ODETerm, ControlTerm)`` with a Brownian path
seeded by ``jax.random`` keys (JAX, ``neuralmag.backends.jax.sde``) or a seeded stochastic Heun scheme (PyTorch,
``neuralmag.backends.torch.sde``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from neuralmag.common import named_function, sum_of
from neuralmag.field_terms.field_term import FieldTerm
from neuralmag.forms.ir import MU0
from neuralmag.forms.symbolic import Variable, dV
from neuralmag.solvers.vector import cross, dot, normalize

__all__ = ["LLGSolver", "LLGTorque", "Solution", "SolverError", "GAMMA", "SDE_SOLVERS"]

#: gyromagnetic ratio times μ0 (m/(A s)) used when ``state.material.gamma`` is not set
GAMMA = 2.2110128e5

#: fixed-step Stratonovich solvers of the stochastic LLG equation (with a registered ThermalField)
SDE_SOLVERS = ("Heun", "EulerHeun")


class SolverError(RuntimeError):
    """The integration failed (NaN/Inf or step-size underflow); the state keeps its last good values."""


class LLGTorque(FieldTerm):
    r"""The LLG right-hand side without spin torques as a generated kernel.

    With ``precession=False`` only the damping term with :math:`\alpha = 1` is kept,
    :math:`\partial_t\mathbf{m} = -\frac{\gamma}{2}\mathbf{m}\times(\mathbf{m}\times\mathbf{h})`, the fastest
    energy descent per unit time, used by :meth:`LLGSolver.relax`.
    """

    default_name = "llg"
    field_prefix = "dmdt"
    quadrature_degree = "nodal"

    def __init__(self, precession: bool = True, field: str = "h"):
        self.precession = precession
        self.field = field

    def l_expr(self, m, v, dim):
        gamma = self.coefficient("material__gamma", dim)
        Ms = Variable("material__Ms", "c" * dim)
        h = Variable(self.field, "n" * dim, (3,))
        if self.precession:
            alpha = self.coefficient("material__alpha", dim)
            torque = -gamma / (1 + alpha**2) * (m.cross(h) + alpha * m.cross(m.cross(h)))
        else:
            torque = -gamma / 2 * m.cross(m.cross(h))
        # weighted by μ0 Ms so that the lumped-mass division returns the Ms-weighted nodal average
        return MU0 * Ms * torque.dot(v) * dV(dim)


@dataclass
class Solution:
    """Result of :meth:`LLGSolver.solve`: times ``ts`` (s) and magnetisations ``ys[i]`` at ``ts[i]``."""

    ts: object
    ys: object


class LLGSolver:
    """Integrates the LLG equation for ``state``.

    Args:
        state: the :class:`~neuralmag.State`; needs ``state.h`` (e.g. from :class:`~neuralmag.TotalField`),
            ``state.material.Ms`` and ``state.material.alpha``.
        parameters: names of state attributes :meth:`solve` differentiates with respect to (e.g. ``"angles"``,
            a material map, or ``"m"`` for the initial magnetisation).
        solver: ``"Dopri5"`` (default), ``"Tsit5"``, ``"Dopri8"``, ``"Bosh3"``, implicit ``"Kvaerno3/5"`` (JAX), or
            fixed-step ``"RK4"``, ``"Heun"``, ``"Euler"``, ``"Midpoint"`` (give ``dt`` in seconds). With a
            thermal field only the Stratonovich solvers ``"Heun"`` (default) and ``"EulerHeun"``.
        rtol, atol: tolerances of the adaptive step-size controller (m is dimensionless).
        adjoint: gradient method of :meth:`solve`: ``"checkpoint"`` (discretise-then-optimise with
            checkpointing, default), ``"backsolve"`` (adjoint-state ODE solved backwards in time: constant memory
            in the horizon, but it reconstructs m by integrating the damped LLG backwards, where decaying modes
            grow: the backward pass therefore restarts from stored forward states every ``backsolve_interval``
            seconds, see :meth:`_backsolve_grid` and benchmarks/results/adjoint_memory.md) or ``"direct"``
            (plain backpropagation).
        scale_t: internal time unit (s).
        dt: step size (s) of the fixed-step solvers; required with a thermal field, where every output
            interval is split into equal steps of at most ``dt``.
        seed: seed (a non-negative integer) of the thermal noise; ``None`` draws one from the OS (readable as
            ``llg.seed``). Ignored without a thermal field.

    Thermal noise (a :class:`~neuralmag.ThermalField` registered before the solver is created): :meth:`step`
    integrates the stochastic LLG equation. The ``k``-th successful :meth:`step` call of a solver draws its
    Brownian path from ``(seed, k)`` (``llg.noise_counter`` = ``k``), so the same seed and the same sequence of
    calls reproduce the trajectory exactly (per backend and device), and every call draws fresh noise.
    :meth:`solve` uses one fixed realisation per seed and ``ts`` (it is a pure function) and does not advance
    the counter. :meth:`relax` stays deterministic.
    """

    def __init__(self, state, parameters=None, solver: str | None = None, rtol: float = 1e-5, atol: float = 1e-5,
                 adjoint: str = "checkpoint", dt: float | None = None, scale_t: float = 1e-9,
                 seed: int | None = None, backsolve_interval: float | None = 1e-11):
        self.backsolve_interval = backsolve_interval
        # a thermal term registered as <name> adds noise_<name>, sigma_<name> and xi_<name> (ThermalField)
        noises = [n for n in state.attributes() if n.startswith("noise_")
                  and f"sigma_{n[6:]}" in state and f"xi_{n[6:]}" in state]
        if len(noises) > 1:
            raise ValueError(f"At most one thermal term per state; found {', '.join(noises)}.")
        #: name of the registered thermal noise kernel (``"noise_thermal"``) or None (deterministic LLG)
        self.noise = noises[0] if noises else None
        if self.noise is not None:
            solver = solver or "Heun"
            if solver not in SDE_SOLVERS:
                raise ValueError(f"With a thermal field the LLG solver needs a fixed-step Stratonovich solver; got "
                                 f"{solver!r}, valid: {', '.join(SDE_SOLVERS)}.")
            if dt is None:
                raise ValueError("The stochastic LLG equation (a ThermalField is registered) is integrated with fixed "
                                 "steps: give the step size in seconds, e.g. nm.LLGSolver(state, dt=1e-13).")
            if seed is None:
                seed = int(np.random.SeedSequence().entropy % 2**63)
            if int(seed) != seed or seed < 0:
                raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
            seed = int(seed)
        self.seed = seed
        self.state = state
        if self.noise is not None and "thermal_noise_steps" not in state:
            state.thermal_noise_steps = 0
        self.parameters = list(parameters or [])
        self.solver, self.rtol, self.atol, self.adjoint = solver or "Dopri5", rtol, atol, adjoint
        self.scale_t = scale_t
        self.dt = dt
        if "h" not in state:
            raise ValueError("LLGSolver needs the total field state.h; register e.g. nm.TotalField('exchange', ...).")
        if "material__alpha" not in state:
            raise ValueError("LLGSolver needs the damping state.material.alpha.")
        if "material__gamma" not in state:
            state.material.gamma = GAMMA
        LLGTorque().register(state, "llg")
        dmdt = named_function("dmdt", ["dmdt_llg", *registered_torques(state)], sum_of)
        dmdt.nm_output = ("n" * state.mesh.dim, (3,))
        state.dmdt = dmdt
        self._integrators = {}
        self.num_steps = 0

    # ------------------------------------------------------------------ building blocks
    @property
    def noise_counter(self) -> int:
        """Number of stochastic ``step`` calls so far; kept as ``state.thermal_noise_steps`` so that
        ``state.save`` / ``nm.State.load`` resume a thermal run with the same noise (given the same ``seed``)."""
        return int(self.state.thermal_noise_steps) if "thermal_noise_steps" in self.state else 0

    @noise_counter.setter
    def noise_counter(self, value: int) -> None:
        self.state.thermal_noise_steps = int(value)

    def _inputs(self):
        return ["t", "m"] + [p for p in self.parameters if p != "m"]

    def _integrator(self, target: str, adjoint: str | None = None, tolerance: float | None = None):
        """Integrator of ``dm/dt = state.<target>`` for the current dependency structure (cached)."""
        rtol, atol = (self.rtol, self.atol) if tolerance is None else (tolerance, tolerance)
        key = (target, adjoint or self.adjoint, self.state.structure_version, rtol, atol)
        if key not in self._integrators:
            f, constants = self.state.resolve_unbound(target, self._inputs())
            scale = self.scale_t

            def rhs(tau, y, args):
                return scale * f(tau * scale, y, *args)

            dt = None if self.dt is None else self.dt / scale
            solver = "Heun" if self.solver == "EulerHeun" else self.solver  # deterministic targets (relax)
            integ = self.state.backend.ode.Integrator(rhs, solver, rtol, atol, adjoint or self.adjoint, dt)
            self._integrators = {k: v for k, v in self._integrators.items() if k[2] == key[2]}
            self._integrators[key] = (integ, constants)
        return self._integrators[key]

    def _times(self, ts):
        return self.state.tensor(ts) / self.scale_t

    def _sde_integrator(self, adjoint: str):
        """Integrator of the stochastic LLG equation (drift ``state.dmdt``, diffusion ``state.<noise>``)."""
        key = ("sde", adjoint, self.state.structure_version)
        if key not in self._integrators:
            state, scale = self.state, self.scale_t
            inputs = self._inputs()
            f, f_constants = state.resolve_unbound("dmdt", inputs)
            g, g_constants = state.resolve_unbound(self.noise, inputs + ["xi" + self.noise[len("noise"):]])
            n_params, n_f = len(inputs) - 2, len(f_constants)
            root = math.sqrt(scale)  # W(t) = sqrt(t_s) W(t / t_s)

            def drift(tau, y, args):
                return scale * f(tau * scale, y, *args[:n_params], *args[n_params:n_params + n_f])

            def diffusion(tau, y, dw, args):
                return root * g(tau * scale, y, *args[:n_params], dw, *args[n_params + n_f:])

            sde = state.backend.sde
            integ = sde.SDEIntegrator(drift, diffusion, self.solver, adjoint)
            self._integrators = {k: v for k, v in self._integrators.items() if k[2] == key[2]}
            self._integrators[key] = (integ, f_constants + g_constants)
        return self._integrators[key]

    def _grid(self, ts):
        """Scaled step grid through the output times ``ts`` (s): each interval in equal steps of at most ``dt``;
        returns ``(grid, index)`` with ``grid[index[i]] == ts[i] / scale_t``."""
        ts = np.asarray(ts, dtype=float).reshape(-1) / self.scale_t
        if len(ts) < 2 or np.any(np.diff(ts) <= 0):
            raise ValueError("The stochastic LLG solver needs at least two strictly increasing output times.")
        h = self.dt / self.scale_t
        pieces, index = [ts[:1]], [0]
        for a, b in zip(ts[:-1], ts[1:]):
            n = max(1, math.ceil((b - a) / h - 1e-9))
            pieces.append(np.linspace(a, b, n + 1)[1:])
            index.append(index[-1] + n)
        return np.concatenate(pieces), index

    # ------------------------------------------------------------------ stepping
    def step(self, dt: float, target: str = "dmdt", tolerance: float | None = None) -> None:
        """Advance ``state.m`` and ``state.t`` by ``dt`` seconds.

        Raises:
            SolverError: on NaN/Inf or a failed integration; ``state.m`` and ``state.t`` are left unchanged.
        """
        state = self.state
        adjoint = state.backend.ode.FORWARD_ADJOINT  # no gradient flows through step()
        stochastic = self.noise is not None and target == "dmdt"
        if stochastic:
            integ, constants = self._sde_integrator(adjoint)
        else:
            integ, constants = self._integrator(target, adjoint, tolerance)
        t0 = float(state.t)
        params = state.values([p for p in self.parameters if p != "m"])
        m0 = state.m.tensor
        args = (*params, *state.values(constants))
        if stochastic:
            grid, index = self._grid([t0, t0 + dt])
            ys, steps, ok = integ(m0, grid, index, args, (self.seed, 0, self.noise_counter))
        else:
            ys, steps, ok = integ(m0, self._times([t0, t0 + dt]), args)
        m1 = ys[-1]
        finite = bool(state.backend.all_finite(m1))
        if not bool(ok) or not finite:
            raise SolverError(
                f"LLG integration failed between t = {t0:.6e} s and t = {t0 + dt:.6e} s (step dt = {dt:.3e} s): "
                + ("NaN/Inf in m" if not finite else "step-size underflow or too many steps")
                + "; state.m and state.t keep their values at the start of the step."
            )
        self.num_steps += int(steps)
        if stochastic:  # a deterministic step must not create state.thermal_noise_steps (new attribute -> recompile)
            self.noise_counter += 1
        state.assign_m(normalize(state.backend, m1))
        state.t = t0 + dt

    def run(self, t_end: float, dt: float, loggers=(), progress: bool = True) -> None:
        """Step until ``state.t`` reaches ``t_end`` in steps of ``dt`` (s), calling ``logger.log(state)`` for every
        logger after each step. A tqdm progress bar shows the simulated time and steps/s (``progress=False``
        switches it off)."""
        from tqdm.auto import tqdm

        state = self.state
        remaining = t_end - float(state.t)
        n = max(0, math.ceil(remaining / dt - 1e-9))
        with tqdm(total=n, disable=not progress, unit="step", desc="LLG", leave=False) as bar:
            for _ in range(n):
                self.step(min(dt, t_end - float(state.t)))
                for logger in loggers:
                    logger.log(state)
                bar.set_postfix_str(f"t = {float(state.t) * 1e9:.4f} ns", refresh=False)
                bar.update()

    def solve(self, ts, *params) -> Solution:
        """Integrate from ``ts[0]`` and return :class:`Solution` with ``m`` at every ``ts[i]``.

        ``params`` are the values of the solver's ``parameters`` (in order); the result is differentiable with
        respect to them (``jax.grad`` / ``torch.autograd``) by the chosen ``adjoint``. ``state`` is not changed.
        """
        if len(params) != len(self.parameters):
            raise TypeError(f"solve() takes values for the parameters {self.parameters}, got {len(params)}.")
        state = self.state
        values = dict(zip(self.parameters, params))
        m0 = values.pop("m", state.m.tensor)
        if self.noise is not None:
            integ, constants = self._sde_integrator(self.adjoint)
            grid, index = self._grid(state.to_numpy(ts))
            ys = integ.differentiable(m0, grid, index, (*values.values(), *state.values(constants)),
                                      (self.seed, 1, 0))
            return Solution(ts, ys)
        integ, constants = self._integrator("dmdt")
        times, keep = self._backsolve_grid(ts)
        ys = integ.differentiable(m0, self._times(times), (*values.values(), *state.values(constants)))
        return Solution(ts, ys if keep is None else ys[keep])

    def _backsolve_grid(self, ts):
        """Output times refined to intervals of at most ``backsolve_interval`` for the backsolve adjoint.

        The adjoint-state ODE reconstructs m by integrating the damped LLG backwards, where the modes that
        decay forwards (stiff exchange modes) grow; both diffrax and torchdiffeq restart that backward
        integration from the stored forward state at every output time, so short intervals keep it accurate.
        Returns ``(times, indices of ts in times)``, or ``(ts, None)`` when no refinement applies."""
        if self.adjoint != "backsolve" or not self.backsolve_interval:
            return ts, None
        try:
            t = np.asarray(self.state.to_numpy(ts), dtype=float)
        except Exception:  # traced times (jit over ts, or differentiating w.r.t. them): no refinement possible
            warnings.warn("LLGSolver.solve with adjoint='backsolve' got traced output times: the backward pass cannot "
                          "restart every backsolve_interval and may be inaccurate over long horizons (damped modes "
                          "grow backwards). Pass concrete times (e.g. close over ts instead of jitting over them).",
                          stacklevel=3)
            return ts, None
        times, keep = [t[0]], [0]
        for t0, t1 in zip(t[:-1], t[1:]):
            n = max(1, int(np.ceil((t1 - t0) / self.backsolve_interval - 1e-9)))
            times += list(np.linspace(t0, t1, n + 1)[1:])
            keep.append(len(times) - 1)
        return self.state.tensor(np.array(times)), np.asarray(keep)

    def relax(self, tol: float = 1e-4, dt: float = 1e-11, max_time: float = 1e-7) -> dict:
        r"""Damping-only integration (:math:`\alpha=1`, no precession) until the torque relative to the largest
        field, :math:`\max_n |\mathbf{m}_n\times\mathbf{h}_n| / \max_n |\mathbf{h}_n|`, is below ``tol``;
        ``state.t`` is restored.

        The torque is normalised by the largest field, not node by node: where the field nearly vanishes at a
        node (e.g. next to a vortex core) the per-node ratio stays O(1) in the relaxed state, and the
        relaxation would run to ``max_time``. The integration tolerance is ``tol / 100``: with a looser one the
        stiff exchange modes stay excited at the tolerance level, which puts a floor under the reachable
        torque.
        Returns ``{"time": simulated time (s), "torque": final torque, "steps": solver steps}``.
        """
        state = self.state
        if "dmdt_relax" not in state:
            LLGTorque(precession=False).register(state, "relax")
        t_start = float(state.t)
        steps0 = self.num_steps
        elapsed, torque = 0.0, max_torque(state)
        while torque > tol and elapsed < max_time:
            self.step(dt, target="dmdt_relax", tolerance=min(self.rtol, tol / 100))
            elapsed += dt
            torque = max_torque(state)
        state.t = t_start
        return {"time": elapsed, "torque": torque, "steps": self.num_steps - steps0}


def registered_torques(state) -> list:
    """Names of the torques ``tau_<name>`` of the torque terms registered on ``state`` (names with ``__`` are
    parts of a term, e.g. the coefficients of a split kernel, ``tau_<name>__coefficients``)."""
    return [n for n in state.attributes() if n.startswith("tau_") and "__" not in n]


def max_torque(state) -> float:
    r""":math:`\max_n |\mathbf{m}_n\times\mathbf{h}_n| / \max_n |\mathbf{h}_n|` (0 where h vanishes)."""
    be, m, h = state.backend, state.m.tensor, state.h.tensor
    torque = be.max(be.sqrt(dot(*(cross(be, m, h),) * 2)))
    field = be.max(be.sqrt(dot(h, h)))
    return float(torque / field) if float(field) > 0 else 0.0
