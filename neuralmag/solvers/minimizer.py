r"""Direct energy minimisation on the unit sphere.

Projected steepest descent with Barzilai–Borwein step sizes (Exl et al., J. Appl. Phys. 115, 17D118 (2014)):

.. math::
    \mathbf{g}_k = \mathbf{m}_k\times(\mathbf{m}_k\times\mathbf{h}_k), \qquad
    \mathbf{m}_{k+1} = \frac{\mathbf{m}_k - \tau_k\mathbf{g}_k}{|\mathbf{m}_k - \tau_k\mathbf{g}_k|},

where :math:`-\mathbf{g}_k` is the component of :math:`\mathbf{h}` perpendicular to :math:`\mathbf{m}` (the
negative energy gradient on the sphere up to the factor :math:`\mu_0 M_s`), and :math:`\tau_k` alternates
between the two BB steps :math:`s\cdot s/s\cdot y` and :math:`s\cdot y/y\cdot y` with
:math:`s = \mathbf{m}_k-\mathbf{m}_{k-1}`, :math:`y = \mathbf{g}_k-\mathbf{g}_{k-1}`.
No time is simulated, so this is usually far faster than :meth:`LLGSolver.relax`.
"""

from __future__ import annotations

from neuralmag.solvers.vector import cross, normalize, relative_torque

__all__ = ["EnergyMinimizer"]


class EnergyMinimizer:
    """Minimises the energy of ``state`` with respect to ``m`` (field ``state.<field>``, default ``h``).

    Args:
        tol: stop when :math:`\\max_n |\\mathbf{m}_n\\times\\mathbf{h}_n|/|\\mathbf{h}_n|` < tol.
        max_iter: iteration limit.
        check_every: iterations between convergence checks (each check synchronises with the device).
    """

    def __init__(self, state, tol: float = 1e-5, max_iter: int = 100_000, field: str = "h", check_every: int = 10):
        self.state, self.tol, self.max_iter, self.field, self.check_every = state, tol, max_iter, field, check_every
        self._compiled = None

    def _iteration(self):
        state = self.state
        if self._compiled is None or self._compiled[0] != state.structure_version:
            be = state.backend
            f, constants = state.resolve_unbound(self.field, ["m"])

            def iterate(m, m_prev, g_prev, tau0, first, odd, *values):
                h = f(m, *values)
                g = cross(be, m, cross(be, m, h))
                s, y = m - m_prev, g - g_prev
                ss, sy, yy = (s * s).sum(), (s * y).sum(), (y * y).sum()
                bb1 = ss / (sy + (sy == 0))
                bb2 = sy / (yy + (yy == 0))
                tau = abs(bb1) * (1 - odd) + abs(bb2) * odd
                tau = first * tau0 + (1 - first) * tau
                torque = relative_torque(be, m, h).max()
                return normalize(be, m - tau * g), m, g, torque

            self._compiled = (state.structure_version, be.jit(iterate), constants)
        return self._compiled

    def minimize(self) -> dict:
        """Run until converged; updates ``state.m``. Returns ``{"iterations", "torque"}``."""
        state = self.state
        _, iterate, constants = self._iteration()
        values = state.values(constants)
        m = state.m.tensor
        h = getattr(state, self.field).tensor
        hmax = float(state.backend.max(state.backend.sqrt((h * h).sum(-1))))
        tau0 = 1e-2 / hmax if hmax > 0 else 1.0
        m_prev, g_prev = m, m * 0
        torque = float("inf")
        it = 0
        while it < self.max_iter:
            m_new, m_prev, g_prev, torque_t = iterate(m, m_prev, g_prev, tau0, 1.0 if it == 0 else 0.0,
                                                         float(it % 2), *values)
            m = m_new
            it += 1
            if it % self.check_every == 0 or it == 1:
                torque = float(torque_t)
                if torque < self.tol:
                    break
        state.assign_m(m)
        return {"iterations": it, "torque": torque}
