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
from neuralmag.forms.symbolic import projected

__all__ = ["FieldTerm", "PROJECTED_POINTS"]

#: Gauss points per axis of the terms written for the projected interpolant (``projected=True``)
PROJECTED_POINTS = 3


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

    def _set_projected(self, projected: bool, points: int) -> None:
        """Energy of the projected interpolant m/|m| (:func:`~neuralmag.forms.symbolic.projected`) with ``points``
        Gauss points per axis, for terms that offer ``projected=True``; see :meth:`_unit`."""
        self.projected = projected
        if projected:
            self.quadrature_degree = 2 * int(points) - 1

    def _unit(self, m):
        """``m`` as the energy of a term with ``projected=True`` sees it."""
        return projected(m) if getattr(self, "projected", False) else m

    def coefficient(self, name: str, dim: int, shape=()):
        """The form-language :class:`~neuralmag.Variable` of material coefficient ``name``: per cell, or per
        node for those in :data:`~neuralmag.state.NODAL_MATERIALS` that the state holds on the nodes when the
        term is registered (kernels are generated for either)."""
        from neuralmag.forms.symbolic import Variable

        space = getattr(self, "_coefficient_spaces", {}).get(name, "c")
        return Variable(name, space * dim, shape)

    def _read_coefficient_spaces(self, state) -> None:
        from neuralmag.state import NODAL_MATERIALS

        self._coefficient_spaces = {n: state.spaces_of(n)[0] for n in NODAL_MATERIALS if n in state}

    def kernels(self, state) -> dict:
        """Generated kernels ``{"h", "E", "e"}`` for the mesh and backend of ``state`` (cached)."""
        return load_kernels(self, state.mesh.dim, state.backend.name, state.mesh.pbc)

    def register(self, state, name: str | None = None) -> "FieldTerm":
        """Add ``h_<name>``, ``E_<name>`` and ``e_<name>`` (energies only) as dynamic attributes of ``state``."""
        name = name or self.default_name
        if not name:
            raise ValueError(f"{type(self).__name__} has no default_name; pass a name to register().")
        self.name = name  # forms may name attributes after the registered name (e.g. J1 of <name>)
        self._read_coefficient_spaces(state)
        if getattr(self, "surface_unknowns", None):
            return self._register_surface(state, name)
        dim = state.mesh.dim
        outputs = {"h": ("n" * dim, (3,)), "e": ("c" * dim, ()), "E": None}
        kernels = self.kernels(state)
        for kind, kernel in kernels.items():
            if kind not in outputs:
                continue  # the parts h_coefficients / h_apply of a split field kernel, wired below
            attr = f"{self.field_prefix if kind == 'h' else kind}_{name}"
            if kind == "h" and "h_coefficients" in kernels:
                kernel = self._split_field(state, attr, kernels["h_coefficients"], kernels["h_apply"])
            kernel.nm_output = outputs[kind]  # read back as a Function (kernels are per dimension)
            setattr(state, attr, kernel)
        return self

    @staticmethod
    def _split_field(state, attr: str, coefficients, apply):
        """A field kernel printed in two parts (:func:`~neuralmag.forms.ir.split_coefficients`, PyTorch): the
        coefficients become the dynamic attribute ``<attr>__coefficients`` of the cell fields, and ``attr``
        applies them. A resolved function whose inputs the coefficients do not depend on computes them once
        (:meth:`~neuralmag.State.resolve`)."""
        from neuralmag.common import named_function

        names = apply.__code__.co_varnames[: apply.__code__.co_argcount]
        setattr(state, f"{attr}__coefficients", coefficients)
        params = list(names[:-1]) + [f"{attr}__coefficients"]
        field = named_function(attr, params, apply)
        field.__doc__, field.source = apply.__doc__, getattr(apply, "source", None)
        return field


    @staticmethod
    def _set_functions(state, name: str, params: list, functions) -> None:
        """Hand-written terms (FFT, network): set ``<kind>_<name>`` for each ``(kind, impl, doc)`` of
        ``functions`` as a dynamic attribute with parameter names ``params`` (``impl(*values)``), read back as a
        nodal vector (``h``), a cell scalar (``e``) or a plain value (``E``)."""
        from neuralmag.common import named_function

        dim = state.mesh.dim
        outputs = {"h": ("n" * dim, (3,)), "e": ("c" * dim, ()), "E": None}
        for kind, impl, doc in functions:
            func = named_function(f"{kind}_{name}", params, impl)
            func.__doc__, func.nm_output = doc, outputs[kind]
            setattr(state, f"{kind}_{name}", func)

    def _register_surface(self, state, name: str) -> "FieldTerm":
        r"""Surface terms (``nm.dA``): the layer unknowns ``u`` are the node layers ``m[:, :, iz]`` named in
        ``surface_unknowns``; the field on layer ``iz`` is :math:`L_u / (\mu_0 M_n)` with the 3D lumped mass
        :math:`M_n`, zero on every other node."""
        from neuralmag.common import named_function
        from neuralmag.field_terms.demag import FFTConvolution
        from neuralmag.forms.ir import MU0

        mesh = state.mesh
        if mesh.dim != 3:
            raise ValueError(f"{type(self).__name__} needs a 3D mesh (its layers are node layers along z).")
        nz = mesh.nodes[2]
        layers = dict(self.surface_unknowns)
        for u, iz in layers.items():
            if not 0 <= iz < nz:
                raise ValueError(f"Layer {u} = {iz} is outside the {nz} node layers of the mesh.")
        kernels = self.kernels(state)
        conv = FFTConvolution(state)
        pad = state.backend.fft.pad

        def args_of(kernel):
            return kernel.__code__.co_varnames[: kernel.__code__.co_argcount]

        def call(kernel, values, traces):
            return kernel(*[traces[a] if a in traces else values[a] for a in args_of(kernel)])

        def wired(kind, extra, impl):
            needed = {a for k in kinds[kind] for a in args_of(kernels[k])} - set(layers)
            params = sorted(needed | {"m"} | set(extra))
            return named_function(f"{kind}_{name}", params, lambda *v: impl(dict(zip(params, v)))), params

        def field(values):
            m = values["m"]
            traces = {u: m[:, :, iz] for u, iz in layers.items()}
            mass = conv.node_sum(values["material__Ms"] * values["rho"] * mesh.cell_volume / 8)
            h = 0
            for u, iz in layers.items():
                layer_mass = MU0 * mass[:, :, iz]
                hu = call(kernels[f"L_{u}"], values, traces) / (layer_mass + (layer_mass == 0))[..., None]
                h = h + pad(hu[:, :, None, :], 2, iz, nz - 1 - iz)
            return h

        def energy(values):
            m = values["m"]
            return call(kernels["E"], values, {u: m[:, :, iz] for u, iz in layers.items()})

        kinds = {"h": [f"L_{u}" for u in layers], "E": ["E"]}
        h, _ = wired("h", ("material__Ms", "rho"), field)
        h.nm_output = ("nnn", (3,))
        setattr(state, f"{self.field_prefix}_{name}", h)
        setattr(state, f"E_{name}", wired("E", (), energy)[0])
        return self
