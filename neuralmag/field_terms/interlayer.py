r"""Interlayer exchange (RKKY) between two node layers across a spacer that is not discretised magnetically."""

from __future__ import annotations

from neuralmag.field_terms.field_term import FieldTerm
from neuralmag.forms.symbolic import Variable, dA

__all__ = ["InterlayerExchangeField"]


class InterlayerExchangeField(FieldTerm):
    r"""Bilinear and biquadratic coupling of the node layers ``layer1`` and ``layer2`` (z indices) of a 3D mesh:

    .. math::
        E = -\int_A J_1\, \mathbf{m}_1\cdot\mathbf{m}_2 + J_2\, (\mathbf{m}_1\cdot\mathbf{m}_2)^2 \,\mathrm{d}A,

    a surface form (``nm.dA``) over the xy extent, with :math:`J_1, J_2` in J/m² (positive: ferromagnetic
    coupling). The nodal rule makes it :math:`E = -\sum_n A_n (J_1 c_n + J_2 c_n^2)` with
    :math:`c_n = \mathbf{m}_{1,n}\cdot\mathbf{m}_{2,n}` and the lumped nodal area :math:`A_n`; the field on layer 1 is
    :math:`\mathbf{h}_{1,n} = A_n (J_1 + 2J_2 c_n)\,\mathbf{m}_{2,n} / (\mu_0 M_n)` with the 3D lumped mass
    :math:`M_n` (and symmetric on layer 2), zero elsewhere.

    Args:
        layer1, layer2: node indices along z of the two coupled layers.
        J1, J2: couplings (J/m²): numbers, arrays of the xy cell shape ``(nx, ny)``, or callables of state
            attributes (dynamic). Stored as ``state.<name>_J1`` and ``state.<name>_J2``.

    Registering adds ``h_<name>`` and ``E_<name>``.
    """

    default_name = "interlayer"
    quadrature_degree = "nodal"

    def __init__(self, layer1: int = 0, layer2: int = 1, J1=0.0, J2=0.0):
        if layer1 == layer2:
            raise ValueError("The two coupled layers must differ.")
        self.surface_unknowns = {"m1": int(layer1), "m2": int(layer2)}
        self.J1, self.J2 = J1, J2
        self.name = self.default_name

    def e_expr(self, m, dim):
        m1, m2 = Variable("m1", "nn", (3,)), Variable("m2", "nn", (3,))
        J1, J2 = Variable(f"{self.name}_J1", "cc"), Variable(f"{self.name}_J2", "cc")
        return -(J1 * m1.dot(m2) + J2 * m1.dot(m2) ** 2) * dA(dim)

    def register(self, state, name: str | None = None) -> "InterlayerExchangeField":
        name = name or self.default_name
        setattr(state, f"{name}_J1", self.J1)
        setattr(state, f"{name}_J2", self.J2)
        return super().register(state, name)
