r"""Spin-transfer and spin–orbit torques, added by :class:`~neuralmag.LLGSolver` to the LLG right-hand side.

Each torque is a generated kernel like a field term, given as the linear form of the torque
:math:`\boldsymbol{\tau}` (1/s) weighted by :math:`\mu_0 M_s` so that the lumped mass returns the nodal torque:
:math:`\int \mu_0 M_s \boldsymbol{\tau}\cdot\mathbf{v}\,\mathrm{d}V`. Registering as ``name`` adds the dynamic
attribute ``state.tau_<name>``; an :class:`~neuralmag.LLGSolver` created afterwards includes every
``tau_*`` attribute. All torques are written in the Landau–Lifshitz form of the LLG equation (the Gilbert
form with the torque, solved for :math:`\partial_t\mathbf{m}`), as in mumax3.
"""

from __future__ import annotations

from neuralmag.field_terms.field_term import FieldTerm
from neuralmag.forms.ir import MU0
from neuralmag.forms.symbolic import N, Variable, dV

__all__ = ["ZhangLiTorque", "SlonczewskiTorque", "MU_B", "E_CHARGE", "HBAR"]

MU_B = 9.2740100783e-24  # Bohr magneton (J/T)
E_CHARGE = 1.602176634e-19  # elementary charge (C)
HBAR = 1.054571817e-34  # reduced Planck constant (J s)


class ZhangLiTorque(FieldTerm):
    r"""Zhang–Li spin-transfer torque of a current density :math:`\mathbf{j}` (A/m²) in the bulk:

    .. math::
        \boldsymbol{\tau} = -\frac{1+\xi\alpha}{1+\alpha^2}\,\mathbf{m}\times\left(\mathbf{m}\times
            (\mathbf{u}\cdot\nabla)\mathbf{m}\right) - \frac{\xi-\alpha}{1+\alpha^2}\,\mathbf{m}\times
            (\mathbf{u}\cdot\nabla)\mathbf{m},
        \qquad \mathbf{u} = \frac{\mu_B P}{e M_s (1+\xi^2)}\,\mathbf{j}

    (mumax3's convention; :math:`\mathbf{u}` is the drift velocity in m/s). State attributes: ``j``
    (cell-wise current density, shape ``(3,)`` per cell or one vector for all, may be dynamic, e.g.
    ``lambda t: ...``), ``material.P`` (polarisation), ``material.xi`` (non-adiabaticity),
    ``material.alpha``, ``material.Ms``.
    """

    default_name = "zhangli"
    field_prefix = "tau"

    def __init__(self, current: str = "j"):
        self.current = current

    def l_expr(self, m, v, dim):
        c = "c" * dim
        Ms, alpha = Variable("material__Ms", c), self.coefficient("material__alpha", dim)
        P, xi = Variable("material__P", c), Variable("material__xi", c)
        j = Variable(self.current, c, (3,))
        u = MU_B * P / (E_CHARGE * Ms * (1 + xi**2)) * j
        u_grad_m = u.dot(N.i) * m.diff(N.x) + u.dot(N.j) * m.diff(N.y) + u.dot(N.k) * m.diff(N.z)
        torque = (-(1 + xi * alpha) / (1 + alpha**2) * m.cross(m.cross(u_grad_m))
                  - (xi - alpha) / (1 + alpha**2) * m.cross(u_grad_m))
        return MU0 * Ms * torque.dot(v) * dV(dim)


class SlonczewskiTorque(FieldTerm):
    r"""Slonczewski spin-transfer torque of a current :math:`j` (A/m², perpendicular to a free layer of thickness
    :math:`d`) polarised along the unit vector :math:`\mathbf{p}`, and spin–orbit torques of the same form:

    .. math::
        \boldsymbol{\tau} = \frac{\beta}{1+\alpha^2}\Big[(\epsilon - \alpha\epsilon')\,
            \mathbf{m}\times(\mathbf{p}\times\mathbf{m}) - (\epsilon' - \alpha\epsilon)\,\mathbf{m}\times\mathbf{p}
            \Big], \qquad \beta = \frac{\gamma\hbar j}{\mu_0 e M_s d},

    with the damping-like efficiency :math:`\epsilon` and field-like efficiency :math:`\epsilon'`. With
    ``angular=True`` (Slonczewski's angular dependence, mumax3's convention)
    :math:`\epsilon = P\Lambda^2 / \left((\Lambda^2+1) + (\Lambda^2-1)\,\mathbf{m}\cdot\mathbf{p}\right)`;
    otherwise :math:`\epsilon` = ``material.eta_dl`` is constant (spin–orbit torque with
    :math:`\epsilon = \theta_{SH}/2`-type efficiencies). State attributes: ``j`` (scalar current density per
    cell, may be dynamic), ``material.p`` (polarisation direction), ``material.d`` (free-layer thickness, m),
    ``material.eta_fl`` (:math:`\epsilon'`), ``material.eta_dl`` or, with ``angular=True``, ``material.P`` and
    ``material.Lambda``; ``material.alpha``, ``material.gamma``, ``material.Ms``.
    """

    default_name = "slonczewski"
    field_prefix = "tau"
    quadrature_degree = "nodal"

    def __init__(self, angular: bool = False, current: str = "j"):
        self.angular = angular
        self.current = current

    def l_expr(self, m, v, dim):
        c = "c" * dim
        Ms = Variable("material__Ms", c)
        alpha, gamma = self.coefficient("material__alpha", dim), self.coefficient("material__gamma", dim)
        p, d = Variable("material__p", c, (3,)), Variable("material__d", c)
        eps_fl = Variable("material__eta_fl", c)
        if self.angular:
            P, lam = Variable("material__P", c), Variable("material__Lambda", c)
            eps = P * lam**2 / ((lam**2 + 1) + (lam**2 - 1) * m.dot(p))
        else:
            eps = Variable("material__eta_dl", c)
        beta = gamma * HBAR * Variable(self.current, c) / (MU0 * E_CHARGE * Ms * d)
        torque = beta / (1 + alpha**2) * ((eps - alpha * eps_fl) * m.cross(p.cross(m))
                                          - (eps_fl - alpha * eps) * m.cross(p))
        return MU0 * Ms * torque.dot(v) * dV(dim)
