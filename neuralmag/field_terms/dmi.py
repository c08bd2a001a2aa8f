r"""Dzyaloshinskii–Moriya interactions, all built from Lifshitz invariants

.. math::
    L^{(k)}_{ij} = m_i \partial_k m_j - m_j \partial_k m_i .

Sign conventions follow Cortés-Ortuño et al., New J. Phys. 20, 113015 (2018) (and Ubermag); the natural
boundary condition of interfacial DMI is :math:`2A\,\partial_{\mathbf{n}}\mathbf{m} = D\,(\hat{\mathbf{z}}
\times\mathbf{n})\times\mathbf{m}` on a boundary with outward normal :math:`\mathbf{n}`.
"""

from __future__ import annotations

import sympy as sp
from sympy.vector import Vector, curl

from neuralmag.field_terms.field_term import FieldTerm
from neuralmag.forms.symbolic import N, Variable, dV

__all__ = ["LifshitzInvariantField", "InterfaceDMIField", "BulkDMIField", "D2dDMIField"]

_AXIS = {"x": 0, "y": 1, "z": 2}
_COORD = (N.x, N.y, N.z)
_UNIT = (N.i, N.j, N.k)


def _component(m, i: int):
    return m.dot(_UNIT[i])


def lifshitz(m, i: int, j: int, k: int):
    r""":math:`L^{(k)}_{ij} = m_i \partial_k m_j - m_j \partial_k m_i` (axes as 0, 1, 2)."""
    mi, mj = _component(m, i), _component(m, j)
    return mi * mj.diff(_COORD[k]) - mj * mi.diff(_COORD[k])


class LifshitzInvariantField(FieldTerm):
    r"""A sum of Lifshitz invariants, each given as ``"ijk"`` (optionally ``"-ijk"``) for :math:`L^{(k)}_{ij}`:

    .. math::
        E = -\int_\Omega D \sum_{(ijk)} \pm L^{(k)}_{ij} \,\mathrm{d}V

    ``LifshitzInvariantField("zxx", "zyy")`` is interfacial DMI, ``("zxy", "xyz", "yzx")`` bulk DMI.
    Material: ``material.D`` (J/m², cell-wise; the attribute can be renamed with ``parameter``).
    """

    default_name = "lifshitz"

    def __init__(self, *invariants: str, parameter: str = "material__D"):
        if not invariants:
            raise ValueError("Give at least one invariant, e.g. LifshitzInvariantField('zxx', 'zyy').")
        self.invariants = []
        for inv in invariants:
            sign, axes = (-1, inv[1:]) if inv.startswith("-") else (1, inv)
            if len(axes) != 3 or any(a not in _AXIS for a in axes) or axes[0] == axes[1]:
                raise ValueError(f"Invariants are three axis letters 'ijk' with i != j, got {inv!r}.")
            self.invariants.append((sign, *(_AXIS[a] for a in axes)))
        self.parameter = parameter

    def e_expr(self, m, dim):
        D = Variable(self.parameter, "c" * dim)
        return -D * sum(sign * lifshitz(m, i, j, k) for sign, i, j, k in self.invariants) * dV(dim)


class InterfaceDMIField(FieldTerm):
    r"""Interfacial DMI (crystal class :math:`C_{nv}`) with interface normal :math:`\mathbf{n}` (default z):

    .. math::
        E = \int_\Omega D \left[ (\mathbf{m}\cdot\nabla)(\mathbf{m}\cdot\mathbf{n})
            - (\mathbf{m}\cdot\mathbf{n})\,\nabla\cdot\mathbf{m} \right] \mathrm{d}V,

    for :math:`\mathbf{n} = \hat{\mathbf{z}}`: :math:`D(L^{(x)}_{xz} + L^{(y)}_{yz})`. Material:
    ``material.D`` (J/m²).
    """

    default_name = "dmi"

    def __init__(self, normal=(0.0, 0.0, 1.0)):
        norm = sum(float(c) ** 2 for c in normal) ** 0.5
        if norm == 0:
            raise ValueError("The interface normal must be non-zero.")
        self.normal = tuple(float(c) / norm for c in normal)

    def e_expr(self, m, dim):
        D = Variable("material__D", "c" * dim)
        n = sum((sp.nsimplify(c) * u for c, u in zip(self.normal, _UNIT) if c != 0), Vector.zero)
        mn = m.dot(n)
        m_grad_mn = sum(_component(m, k) * mn.diff(_COORD[k]) for k in range(3))
        div_m = sum(_component(m, k).diff(_COORD[k]) for k in range(3))
        return D * (m_grad_mn - mn * div_m) * dV(dim)


class BulkDMIField(FieldTerm):
    r"""Bulk DMI (crystal class T, B20 materials):

    .. math::
        E = \int_\Omega D\, \mathbf{m}\cdot(\nabla\times\mathbf{m})\,\mathrm{d}V

    Material: ``material.D`` (J/m²).
    """

    default_name = "dmi"

    @staticmethod
    def e_expr(m, dim):
        D = Variable("material__D", "c" * dim)
        return D * m.dot(curl(m)) * dV(dim)


class D2dDMIField(FieldTerm):
    r"""DMI of crystal class :math:`D_{2d}` with its axis along z (default):

    .. math::
        E = \int_\Omega D\, \mathbf{m}\cdot\left(\partial_x\mathbf{m}\times\hat{\mathbf{x}}
            - \partial_y\mathbf{m}\times\hat{\mathbf{y}}\right)\mathrm{d}V

    and along ``axis`` = x or y the same with :math:`(x, y)` replaced by :math:`(y, z)` or :math:`(z, x)`
    (cyclic). Material: ``material.D`` (J/m²).
    """

    default_name = "dmi"
    #: the two in-plane axes (coordinate, unit vector) of each D2d axis, in cyclic order
    _PLANE = {"x": ((N.y, N.j), (N.z, N.k)), "y": ((N.z, N.k), (N.x, N.i)), "z": ((N.x, N.i), (N.y, N.j))}

    def __init__(self, axis: str = "z"):
        if axis not in self._PLANE:
            raise ValueError(f"axis must be 'x', 'y' or 'z', got {axis!r}.")
        self.axis = axis

    def e_expr(self, m, dim):
        D = Variable("material__D", "c" * dim)
        (a, ea), (b, eb) = self._PLANE[self.axis]
        return D * m.dot(m.diff(a).cross(ea) - m.diff(b).cross(eb)) * dV(dim)
