r"""Field terms and torques in Ubermag's conventions that NeuralMag's own terms do not cover one-to-one.

They are ordinary NeuralMag :class:`~neuralmag.FieldTerm` subclasses (forms compiled to kernels), so they are
differentiable like every other term:

* :class:`UbermagLLG`: the LLG right-hand side with precession and damping switched on or off separately
  (Ubermag's ``Precession`` / ``Damping`` dynamics terms are independent).
* :class:`VelocityZhangLi`: Zhang–Li torque in terms of the drift velocity :math:`\mathbf{u}` (m/s), as Ubermag
  parametrises it (NeuralMag's :class:`~neuralmag.ZhangLiTorque` takes a current density).
* :class:`UbermagSlonczewski`: Slonczewski torque with Ubermag's sign convention for :math:`\epsilon'`.
"""

from __future__ import annotations

from neuralmag.field_terms.field_term import FieldTerm
from neuralmag.field_terms.torques import E_CHARGE, HBAR, AdvectionTorque
from neuralmag.forms.ir import MU0
from neuralmag.forms.symbolic import N, Variable, dV

__all__ = ["UbermagLLG", "VelocityZhangLi", "UbermagSlonczewski"]



class UbermagLLG(FieldTerm):
    r""":math:`\partial_t\mathbf{m} = -\frac{\gamma_0}{1+\alpha^2}\left(p\,\mathbf{m}\times\mathbf{h}
    + \alpha\,\mathbf{m}\times(\mathbf{m}\times\mathbf{h})\right)` with :math:`p = 1` when the system has a
    ``Precession`` term and :math:`p = 0` otherwise (:math:`\alpha = 0` without ``Damping``)."""

    default_name = "ubermag_llg"
    field_prefix = "dmdt"
    quadrature_degree = "nodal"

    def __init__(self, precession: bool = True, field: str = "h"):
        self.precession = bool(precession)
        self.field = field

    def l_expr(self, m, v, dim):
        gamma = self.coefficient("material__gamma", dim)
        alpha = self.coefficient("material__alpha", dim)
        Ms = Variable("material__Ms", "c" * dim)
        h = Variable(self.field, "n" * dim, (3,))
        damping = alpha * m.cross(m.cross(h))
        torque = -gamma / (1 + alpha**2) * ((m.cross(h) + damping) if self.precession else damping)
        return MU0 * Ms * torque.dot(v) * dV(dim)


class VelocityZhangLi(AdvectionTorque):
    r"""Zhang–Li torque of the spin drift velocity :math:`\mathbf{u}` (m/s, state attribute ``zhangli_u``, a
    cell vector or a dynamic attribute) with non-adiabaticity :math:`\beta` (``material.zhangli_beta``):

    .. math::
        \boldsymbol{\tau} = \frac{1+\alpha\beta}{1+\alpha^2}\,\mathbf{m}\times(\mathbf{m}\times
        (\mathbf{u}\cdot\nabla)\mathbf{m}) + \frac{\beta-\alpha}{1+\alpha^2}\,\mathbf{m}\times
        (\mathbf{u}\cdot\nabla)\mathbf{m}.

    This is micromagneticmodel's formula with :math:`\mathbf{u} \to -\mathbf{u}`: in Ubermag (and OOMMF)
    :math:`\mathbf{u}` points along the electron flow and a domain wall moves along :math:`+\mathbf{u}`, as
    micromagnetictests checks, whereas the formula as printed in micromagneticmodel's docstring (and
    :class:`~neuralmag.ZhangLiTorque`, whose :math:`\mathbf{u}` is along the current density) moves it
    along :math:`-\mathbf{u}`.
    """

    default_name = "zhangli"

    def drift(self, dim):
        return -Variable("zhangli_u", "c" * dim, (3,))  # Ubermag's u is along the electron flow (see above)

    def coefficients(self, dim):
        alpha = self.coefficient("material__alpha", dim)
        beta = Variable("material__zhangli_beta", "c" * dim)
        return (1 + alpha * beta) / (1 + alpha**2), (beta - alpha) / (1 + alpha**2)


class UbermagSlonczewski(FieldTerm):
    r"""Slonczewski spin-transfer torque as micromagneticmodel defines it:

    .. math::
        \boldsymbol{\tau} = \gamma_0\beta\frac{\epsilon + \alpha\epsilon'}{1+\alpha^2}\,
        \mathbf{m}\times(\mathbf{m}_p\times\mathbf{m}) - \gamma_0\beta\frac{\epsilon' - \alpha\epsilon}{1+\alpha^2}
        \,\mathbf{m}\times\mathbf{m}_p,\quad \beta = \frac{\hbar J}{\mu_0 e\, t M_s},\quad
        \epsilon = \frac{P\Lambda^2}{(\Lambda^2+1) + (\Lambda^2-1)\,\mathbf{m}\cdot\mathbf{m}_p}

    State attributes: ``slonczewski_J`` (A/m², cell scalar, may be dynamic), ``material.slonczewski_mp``,
    ``material.slonczewski_P``, ``material.slonczewski_Lambda``, ``material.slonczewski_eps_prime`` and
    ``material.slonczewski_t`` (free-layer thickness, m).
    """

    default_name = "slonczewski"
    field_prefix = "tau"
    quadrature_degree = "nodal"

    def l_expr(self, m, v, dim):
        c = "c" * dim
        Ms = Variable("material__Ms", c)
        alpha, gamma = self.coefficient("material__alpha", dim), self.coefficient("material__gamma", dim)
        mp = Variable("material__slonczewski_mp", c, (3,))
        P, lam = Variable("material__slonczewski_P", c), Variable("material__slonczewski_Lambda", c)
        eps_p = Variable("material__slonczewski_eps_prime", c)
        thickness = Variable("material__slonczewski_t", c)
        J = Variable("slonczewski_J", c)
        eps = P * lam**2 / ((lam**2 + 1) + (lam**2 - 1) * m.dot(mp))
        beta = HBAR * J / (MU0 * E_CHARGE * thickness * Ms)
        torque = gamma * beta / (1 + alpha**2) * ((eps + alpha * eps_p) * m.cross(mp.cross(m))
                                                  - (eps_p - alpha * eps) * m.cross(mp))
        return MU0 * Ms * torque.dot(v) * dV(dim)
