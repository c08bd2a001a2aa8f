r"""Interlayer exchange (RKKY) between two node layers across a spacer that is not discretised magnetically."""

from __future__ import annotations

import numpy as np

from neuralmag.common import named_function
from neuralmag.forms.ir import MU0

__all__ = ["InterlayerExchangeField"]


class InterlayerExchangeField:
    r"""Bilinear and biquadratic coupling of the node layers ``layer1`` and ``layer2`` (z indices) of a 3D mesh:

    .. math::
        E = -\int_A J_1\, \mathbf{m}_1\cdot\mathbf{m}_2 + J_2\, (\mathbf{m}_1\cdot\mathbf{m}_2)^2 \,\mathrm{d}A,

    with :math:`J_1, J_2` in J/m² (positive: ferromagnetic coupling), integrated over the xy extent with the
    nodal rule, so :math:`E = -\sum_n A_n (J_1 c_n + J_2 c_n^2)`, :math:`c_n = \mathbf{m}_{1,n}\cdot
    \mathbf{m}_{2,n}`, :math:`A_n` the lumped nodal area. The fields are
    :math:`\mathbf{h}_{1,n} = A_n (J_1 + 2J_2 c_n)\,\mathbf{m}_{2,n} / (\mu_0 M_n)` on layer 1 (and symmetric
    on layer 2), with the 3D lumped mass :math:`M_n` of that node, and zero elsewhere — consistent with
    :math:`\mathbf{h} = -\partial E/\partial\mathbf{m} / (\mu_0 M_n)`.

    Args:
        layer1, layer2: node indices along z of the two coupled layers.
        J1, J2: couplings (J/m²): numbers, arrays of the xy cell shape ``(nx, ny)``, or callables of state
            attributes (dynamic). Stored as ``state.<name>_J1`` and ``state.<name>_J2``.

    Registering adds ``h_<name>`` and ``E_<name>``.
    """

    default_name = "interlayer"

    def __init__(self, layer1: int, layer2: int, J1=0.0, J2=0.0):
        if layer1 == layer2:
            raise ValueError("The two coupled layers must differ.")
        self.layers = (int(layer1), int(layer2))
        self.J1, self.J2 = J1, J2

    def register(self, state, name: str | None = None) -> "InterlayerExchangeField":
        name = name or self.default_name
        mesh = state.mesh
        if mesh.dim != 3:
            raise ValueError("InterlayerExchangeField needs a 3D mesh (the layers are node layers along z).")
        nz = mesh.nodes[2]
        for layer in self.layers:
            if not 0 <= layer < nz:
                raise ValueError(f"Layer index {layer} is outside the {nz} node layers of the mesh.")
        be = state.backend
        pad = be.fft.pad
        iz1, iz2 = self.layers
        cell_area = mesh.dx[0] * mesh.dx[1]
        pbc = mesh.pbc[:2]

        def xy_node_sum(x):
            """Sum over the xy cells adjacent to each node (x has the xy cell shape)."""
            for axis in range(2):
                if pbc[axis]:
                    x = x + be.fft.roll(x, 1, axis)
                else:
                    x = pad(x, axis, 0, 1) + pad(x, axis, 1, 0)
            return x

        def node_weight(J):
            """Σ over adjacent xy cells of J·area/4 (J a number or an (nx, ny) array)."""
            return xy_node_sum(J * state.tensor(np.ones(mesh.n[:2])) * cell_area / 4)

        def nodal_mass(Ms, rho):
            x = Ms * rho * mesh.cell_volume / 8
            for axis in range(3):
                if mesh.pbc[axis]:
                    x = x + be.fft.roll(x, 1, axis)
                else:
                    x = pad(x, axis, 0, 1) + pad(x, axis, 1, 0)
            return x

        def layer_terms(m, J1, J2):
            m1, m2 = m[:, :, iz1], m[:, :, iz2]
            c = (m1 * m2).sum(-1)
            w1, w2 = node_weight(J1), node_weight(J2)
            return m1, m2, c, w1, w2

        def field(m, Ms, rho, J1, J2):
            m1, m2, c, w1, w2 = layer_terms(m, J1, J2)
            mass = nodal_mass(Ms, rho)
            coupling = (w1 + 2 * w2 * c)[..., None]
            h1 = coupling * m2 / _safe(MU0 * mass[:, :, iz1])[..., None]
            h2 = coupling * m1 / _safe(MU0 * mass[:, :, iz2])[..., None]
            return (pad(h1[:, :, None, :], 2, iz1, nz - 1 - iz1)
                    + pad(h2[:, :, None, :], 2, iz2, nz - 1 - iz2))

        def energy(m, J1, J2):
            _, _, c, w1, w2 = layer_terms(m, J1, J2)
            return -(w1 * c + w2 * c**2).sum()

        j1, j2 = f"{name}_J1", f"{name}_J2"
        setattr(state, j1, self.J1)
        setattr(state, j2, self.J2)
        h = named_function(f"h_{name}", ["m", "material__Ms", "rho", j1, j2], field)
        h.nm_output = ("nnn", (3,))
        setattr(state, f"h_{name}", h)
        setattr(state, f"E_{name}", named_function(f"E_{name}", ["m", j1, j2], energy))
        return self


def _safe(x):
    """``x`` with zeros replaced by ones (nodes without magnetic material get zero field)."""
    return x + (x == 0)
