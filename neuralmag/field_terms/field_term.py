r"""Base class of all field terms.

A term is defined by its energy :math:`E[\mathbf{m}] = \int e\,\rho\,\mathrm{d}V`, written in the form language
as ``e_expr(m, dim)``, or (for fields that are not energy gradients, e.g. torques written as fields) by the
linear form of its field, ``l_expr(m, v, dim)``:

.. math::
    \int \mu_0 M_s\,\mathbf{h}\cdot\mathbf{v}\,\mathrm{d}V = L(\mathbf{v}) \quad\text{for all test functions } \mathbf{v},

which for an energy is :math:`L(\mathbf{v}) = -\delta E[\mathbf{m}; \mathbf{v}]`. The form compiler generates
the nodal field (mass-lumped), the total energy and the cell energy density.

Registering under a name adds three dynamic attributes to the state::

    nm.ExchangeField().register(state, "exchange")
    state.h_exchange   # nodal field (A/m), a VectorFunction
    state.E_exchange   # total energy (J)
    state.e_exchange   # cell-averaged energy density (J/m^3), a CellFunction
"""

from __future__ import annotations

from neuralmag.forms.compiler import load_kernels

__all__ = ["FieldTerm"]


class FieldTerm:
    """Base class: subclasses define ``default_name`` and ``e_expr(m, dim)`` (or ``l_expr(m, v, dim)``).

    Attributes:
        default_name: name used by :meth:`register` when none is given.
        quadrature_degree: per-axis polynomial degree integrated exactly by Gauss quadrature; ``None``
            integrates polynomial forms exactly; ``"nodal"`` uses the mass-lumped corner rule (local terms).
    """

    default_name: str | None = None
    #: attribute prefix of the generated field; torque terms (see :mod:`neuralmag.field_terms.torques`) use "tau"
    field_prefix: str = "h"
    quadrature_degree: int | str | None = None
    e_expr = None
    l_expr = None

    def kernels(self, state) -> dict:
        """Generated kernels ``{"h", "E", "e"}`` for the mesh and backend of ``state`` (cached)."""
        return load_kernels(self, state.mesh.dim, state.backend.name, state.mesh.pbc)

    def register(self, state, name: str | None = None) -> "FieldTerm":
        """Add ``h_<name>``, ``E_<name>`` and ``e_<name>`` (energies only) as dynamic attributes of ``state``."""
        name = name or self.default_name
        if not name:
            raise ValueError(f"{type(self).__name__} has no default_name; pass a name to register().")
        dim = state.mesh.dim
        outputs = {"h": ("n" * dim, (3,)), "e": ("c" * dim, ()), "E": None}
        for kind, kernel in self.kernels(state).items():
            kernel.nm_output = outputs[kind]  # read back as a Function (kernels are per dimension)
            setattr(state, f"{self.field_prefix if kind == 'h' else kind}_{name}", kernel)
        return self

