r"""Time integration of the Landau–Lifshitz–Gilbert equation.

.. math::
    \frac{\partial\mathbf{m}}{\partial t} = -\frac{\gamma}{1+\alpha^2}\,\mathbf{m}\times\mathbf{h}
        - \frac{\alpha\gamma}{1+\alpha^2}\,\mathbf{m}\times(\mathbf{m}\times\mathbf{h})
        + \sum_i \boldsymbol{\tau}_i

with the total effective field :math:`\mathbf{h}` = ``state.h`` (A/m, see :class:`~neuralmag.TotalField`),
:math:`\gamma` = ``state.material.gamma`` (default :data:`GAMMA`, m/(A s)), :math:`\alpha` =
``state.material.alpha`` and the torques ``state.tau_<name>`` of registered torque terms (1/s).

The right-hand side is itself a generated kernel (the LLG torque as a linear form with the nodal rule:
cell-wise :math:`\alpha, \gamma` enter as the :math:`M_s`-weighted average of the adjacent cells), and the
whole dependency graph is resolved into one pure function of ``(t, m, parameters...)``. The backend's
integrator (diffrax for JAX, torchdiffeq for PyTorch) works in scaled time :math:`t/t_s` (``scale_t``).
"""

from __future__ import annotations

from dataclasses import dataclass

from neuralmag.common import named_function
from neuralmag.field_terms.field_term import FieldTerm
from neuralmag.forms.ir import MU0
from neuralmag.forms.symbolic import Variable, dV
from neuralmag.functions import VectorFunction
from neuralmag.solvers.vector import normalize, relative_torque

__all__ = ["LLGSolver", "LLGTorque", "Solution", "SolverError", "GAMMA"]

#: gyromagnetic ratio times μ0 (m/(A s)) used when ``state.material.gamma`` is not set
GAMMA = 2.2110128e5


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
        gamma = Variable("material__gamma", "c" * dim)
        Ms = Variable("material__Ms", "c" * dim)
        h = Variable(self.field, "n" * dim, (3,))
        if self.precession:
            alpha = Variable("material__alpha", "c" * dim)
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


def _sum(*values):
    total = values[0]
    for v in values[1:]:
        total = total + v
    return total


class LLGSolver:
    """Integrates the LLG equation for ``state``.

    Args:
        state: the :class:`~neuralmag.State`; needs ``state.h`` (e.g. from :class:`~neuralmag.TotalField`),
            ``state.material.Ms`` and ``state.material.alpha``.
        parameters: names of state attributes :meth:`solve` differentiates with respect to (e.g. ``"angles"``,
            a material map, or ``"m"`` for the initial magnetisation).
        solver: ``"Dopri5"`` (default), ``"Tsit5"``, ``"Dopri8"``, ``"Bosh3"``, implicit ``"Kvaerno3/5"`` (JAX), or
            fixed-step ``"RK4"``, ``"Heun"``, ``"Euler"``, ``"Midpoint"`` (give ``dt`` in seconds).
        rtol, atol: tolerances of the adaptive step-size controller (m is dimensionless).
        adjoint: gradient method of :meth:`solve`: ``"checkpoint"`` (discretise-then-optimise with
            checkpointing, default), ``"backsolve"`` (adjoint-state ODE solved backwards in time: constant memory
            in the horizon) or ``"direct"`` (plain backpropagation).
        scale_t: internal time unit (s).
    """

    def __init__(self, state, parameters=None, solver: str = "Dopri5", rtol: float = 1e-5, atol: float = 1e-5,
                 adjoint: str = "checkpoint", dt: float | None = None, scale_t: float = 1e-9):
        self.state = state
        self.parameters = list(parameters or [])
        self.solver, self.rtol, self.atol, self.adjoint = solver, rtol, atol, adjoint
        self.scale_t = scale_t
        self.dt = dt
        if "h" not in state:
            raise ValueError("LLGSolver needs the total field state.h; register e.g. nm.TotalField('exchange', ...).")
        if "material__alpha" not in state:
            raise ValueError("LLGSolver needs the damping state.material.alpha.")
        if "material__gamma" not in state:
            state.material.gamma = GAMMA
        LLGTorque().register(state, "llg")
        torques = [n for n in state.attributes() if n.startswith("tau_")]
        dmdt = named_function("dmdt", ["dmdt_llg", *torques], _sum)
        dmdt.nm_output = ("n" * state.mesh.dim, (3,))
        state.dmdt = dmdt
        self._integrators = {}
        self.num_steps = 0

    # ------------------------------------------------------------------ building blocks
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
            integ = self.state.backend.ode.Integrator(rhs, self.solver, rtol, atol, adjoint or self.adjoint, dt)
            self._integrators = {k: v for k, v in self._integrators.items() if k[2] == key[2]}
            self._integrators[key] = (integ, constants)
        return self._integrators[key]

    def _times(self, ts):
        return self.state.tensor(ts) / self.scale_t

    # ------------------------------------------------------------------ stepping
    def step(self, dt: float, target: str = "dmdt", tolerance: float | None = None) -> None:
        """Advance ``state.m`` and ``state.t`` by ``dt`` seconds.

        Raises:
            SolverError: on NaN/Inf or a failed integration; ``state.m`` and ``state.t`` are left unchanged.
        """
        state = self.state
        integ, constants = self._integrator(target, "checkpoint" if state.backend.name == "jax" else "direct",
                                            tolerance)
        t0 = float(state.t)
        params = state.values([p for p in self.parameters if p != "m"])
        m0 = state.m.tensor
        ys, steps, ok = integ(m0, self._times([t0, t0 + dt]), (*params, *state.values(constants)))
        m1 = ys[-1]
        finite = bool(state.backend.all_finite(m1))
        if not bool(ok) or not finite:
            raise SolverError(
                f"LLG integration failed between t = {t0:.6e} s and t = {t0 + dt:.6e} s (step dt = {dt:.3e} s): "
                + ("NaN/Inf in m" if not finite else "step-size underflow or too many steps")
                + "; state.m and state.t keep their values at the start of the step."
            )
        self.num_steps += int(steps)
        state.m = VectorFunction(state, tensor=normalize(state.backend, m1))
        state.t = t0 + dt

    def solve(self, ts, *params) -> Solution:
        """Integrate from ``ts[0]`` and return :class:`Solution` with ``m`` at every ``ts[i]``.

        ``params`` are the values of the solver's ``parameters`` (in order); the result is differentiable with
        respect to them (``jax.grad`` / ``torch.autograd``) by the chosen ``adjoint``. ``state`` is not changed.
        """
        if len(params) != len(self.parameters):
            raise TypeError(f"solve() takes values for the parameters {self.parameters}, got {len(params)}.")
        state = self.state
        integ, constants = self._integrator("dmdt")
        values = dict(zip(self.parameters, params))
        m0 = values.pop("m", state.m.tensor)
        ys = integ.differentiable(m0, self._times(ts), (*values.values(), *state.values(constants)))
        return Solution(ts, ys)

    def relax(self, tol: float = 1e-4, dt: float = 1e-11, max_time: float = 1e-7) -> dict:
        r"""Damping-only integration (:math:`\alpha=1`, no precession) until
        :math:`\max_n |\mathbf{m}_n\times\mathbf{h}_n| / |\mathbf{h}_n| <` ``tol``; ``state.t`` is restored.

        The integration tolerance is ``tol / 100``: with a looser one the stiff exchange modes stay excited at
        the tolerance level, which puts a floor under the reachable torque.
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


def max_torque(state) -> float:
    r""":math:`\max_n |\mathbf{m}_n\times\mathbf{h}_n| / |\mathbf{h}_n|` (0 where h vanishes)."""
    return float(state.backend.max(relative_torque(state.backend, state.m.tensor, state.h.tensor)))
