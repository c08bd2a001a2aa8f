r"""Zeeman energy of an applied field."""

from __future__ import annotations

import inspect

from neuralmag.common import named_function
from neuralmag.field_terms.field_term import FieldTerm
from neuralmag.forms.ir import MU0
from neuralmag.forms.symbolic import Variable, dV
from neuralmag.functions import Function, VectorFunction

__all__ = ["ExternalField"]


class ExternalField(FieldTerm):
    r"""Applied field :math:`\mathbf{h}` (A/m).

    .. math::
        E = -\mu_0 \int_\Omega M_s\, \mathbf{m}\cdot\mathbf{h}\,\mathrm{d}V

    Args:
        h: a constant vector (3 numbers), a nodal :class:`~neuralmag.VectorFunction` / tensor, or a callable
            whose parameters are state attributes (e.g. ``lambda t: ...`` for pulses and ramps,
            ``lambda angles: ...`` for inverse problems) returning either shape, or a tuple of three
            components (numbers or tensors), e.g. ``lambda t: (0, 0, H0 * torch.sin(w * t))``.

    Registering as ``name`` adds ``state.h_<name>_applied`` (the applied field on all nodes) and the usual
    ``h_<name>`` (equal to the applied field where :math:`M_s \rho > 0`, zero elsewhere), ``E_<name>``
    (J) and ``e_<name>`` (J/m³). The integrals use the nodal (mass-lumped) rule, so the field is exactly
    the applied field and consistent with the energy. Material: ``state.material.Ms``.
    """

    default_name = "external"
    quadrature_degree = "nodal"

    def __init__(self, h=(0.0, 0.0, 0.0)):
        self.h = h
        self.name = self.default_name

    def e_expr(self, m, dim):
        Ms = Variable("material__Ms", "c" * dim)
        h = Variable(f"h_{self.name}_applied", "n" * dim, (3,))
        return -MU0 * Ms * m.dot(h) * dV(dim)

    def register(self, state, name: str | None = None) -> "ExternalField":
        self.name = name or self.default_name
        applied = f"h_{self.name}_applied"
        if callable(self.h) and not isinstance(self.h, Function):
            zeros = VectorFunction(state).tensor
            params = list(inspect.signature(self.h).parameters)

            def applied_field(*args):
                # (3,) results are broadcast to every node; nodal results pass through; a tuple or list of
                # components (numbers, scalar or nodal tensors) is stacked
                value = self.h(*args)
                if isinstance(value, (tuple, list)):
                    value = state.backend.stack([zeros[..., 0] + v for v in value], -1)
                return zeros + value

            func = named_function(applied, params, applied_field)
            func.nm_output = ("n" * state.mesh.dim, (3,))
            setattr(state, applied, func)
        elif isinstance(self.h, Function) or getattr(self.h, "ndim", 1) > 1:
            setattr(state, applied, VectorFunction(state, tensor=state.tensor(self.h)))
        else:
            setattr(state, applied, VectorFunction(state).fill(self.h))
        return super().register(state, self.name)
