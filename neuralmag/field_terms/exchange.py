r"""Exchange energy."""

from neuralmag.field_terms.field_term import FieldTerm
from neuralmag.forms.symbolic import N, Variable, dV

__all__ = ["ExchangeField"]


class ExchangeField(FieldTerm):
    r"""Heisenberg exchange.

    .. math::
        E = \int_\Omega A \, \left( |\partial_x \mathbf{m}|^2 + |\partial_y \mathbf{m}|^2
            + |\partial_z \mathbf{m}|^2 \right) \mathrm{d}V,
        \qquad \mathbf{h} = \frac{2}{\mu_0 M_s} \nabla\cdot(A \nabla \mathbf{m})

    Material: ``state.material.A`` (J/m, cell-wise), ``state.material.Ms`` (A/m). Free (Neumann) boundaries
    and exact interface conditions between cells of different ``A`` follow from the weak form.
    """

    default_name = "exchange"

    @staticmethod
    def e_expr(m, dim):
        A = Variable("material__A", "c" * dim)
        return A * (m.diff(N.x).dot(m.diff(N.x)) + m.diff(N.y).dot(m.diff(N.y)) + m.diff(N.z).dot(m.diff(N.z))) * dV(dim)
