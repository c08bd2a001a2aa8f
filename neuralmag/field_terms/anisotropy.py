r"""Magnetocrystalline anisotropies: uniaxial and cubic."""

from __future__ import annotations

from neuralmag.field_terms.field_term import PROJECTED_POINTS, FieldTerm
from neuralmag.forms.symbolic import Variable, dV

__all__ = ["UniaxialAnisotropyField", "CubicAnisotropyField"]


class UniaxialAnisotropyField(FieldTerm):
    r"""Uniaxial anisotropy along the unit axis :math:`\mathbf{e}_u`.

    .. math::
        E = -\int_\Omega K_{u1} (\mathbf{m}\cdot\mathbf{e}_u)^2 + K_{u2} (\mathbf{m}\cdot\mathbf{e}_u)^4
            \,\mathrm{d}V

    Material: ``material.Ku`` (J/m³, :math:`K_{u1}`), ``material.Ku_axis`` (unit vector per cell, or one
    vector for all), with ``second_order=True`` also ``material.Ku2`` (J/m³). Integrated with the nodal
    (mass-lumped) rule, so :math:`\mathbf{h}_n = \frac{2K_{u1}}{\mu_0 M_s}(\mathbf{m}_n\cdot\mathbf{e}_u)
    \mathbf{e}_u + \dots` exactly in uniform material.

    With ``projected=True`` the energy of the interpolant projected onto the unit sphere is integrated with
    ``points`` Gauss points per axis instead (see :class:`~neuralmag.ExchangeField`): at a material interface
    the corner rule gives each node the anisotropy of its adjacent cells regardless of how m turns inside them.
    """

    default_name = "uniaxial"
    quadrature_degree = "nodal"

    def __init__(self, second_order: bool = False, projected: bool = False, points: int = PROJECTED_POINTS):
        self.second_order = second_order
        self._set_projected(projected, points)

    def e_expr(self, m, dim):
        m = self._unit(m)
        Ku = Variable("material__Ku", "c" * dim)
        axis = Variable("material__Ku_axis", "c" * dim, (3,))
        energy = -Ku * m.dot(axis) ** 2
        if self.second_order:
            energy -= Variable("material__Ku2", "c" * dim) * m.dot(axis) ** 4
        return energy * dV(dim)


class CubicAnisotropyField(FieldTerm):
    r"""Cubic anisotropy with unit axes :math:`\mathbf{c}_1, \mathbf{c}_2` and
    :math:`\mathbf{c}_3 = \mathbf{c}_1\times\mathbf{c}_2`, :math:`a_i = \mathbf{m}\cdot\mathbf{c}_i`:

    .. math::
        E = \int_\Omega K_{c1} (a_1^2a_2^2 + a_2^2a_3^2 + a_3^2a_1^2) + K_{c2}\, a_1^2a_2^2a_3^2
            + K_{c3} (a_1^4a_2^4 + a_2^4a_3^4 + a_3^4a_1^4)\,\mathrm{d}V

    Material: ``material.Kc1``, ``material.Kc_axis1``, ``material.Kc_axis2``; ``material.Kc2`` and
    ``material.Kc3`` when ``order`` is 2 or 3 (J/m³). ``projected``, ``points``: as for
    :class:`UniaxialAnisotropyField`.
    """

    default_name = "cubic"
    quadrature_degree = "nodal"

    def __init__(self, order: int = 1, projected: bool = False, points: int = PROJECTED_POINTS):
        if order not in (1, 2, 3):
            raise ValueError(f"order must be 1, 2 or 3, got {order}.")
        self.order = order
        self._set_projected(projected, points)

    def e_expr(self, m, dim):
        m = self._unit(m)
        c1 = Variable("material__Kc_axis1", "c" * dim, (3,))
        c2 = Variable("material__Kc_axis2", "c" * dim, (3,))
        a1, a2, a3 = m.dot(c1), m.dot(c2), m.dot(c1.cross(c2))
        energy = Variable("material__Kc1", "c" * dim) * (a1**2 * a2**2 + a2**2 * a3**2 + a3**2 * a1**2)
        if self.order >= 2:
            energy += Variable("material__Kc2", "c" * dim) * a1**2 * a2**2 * a3**2
        if self.order >= 3:
            energy += Variable("material__Kc3", "c" * dim) * (a1**4 * a2**4 + a2**4 * a3**4 + a3**4 * a1**4)
        return energy * dV(dim)
