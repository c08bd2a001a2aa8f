r"""Demagnetisation field of a thin film predicted by a U-Net (NeuralMAG, Cai, Li & Wang 2024).

A drop-in replacement of :class:`~neuralmag.DemagField` with ``grid="cell"`` for single-layer films: the FFT
convolution with the Newell tensor, :math:`O(N\log N)`, is replaced by the :math:`O(N)` network of
:mod:`neuralmag.learned.unet`, trained on NeuralMag's own FFT fields (``demos/unet_demag/``).

On the mesh cells :math:`c`, with the cell average :math:`\bar{\mathbf{m}}_c` of the :math:`2^d` corner values
and :math:`\mathbf{M}_c = M_{s,c}\rho_c\bar{\mathbf{m}}_c` (A/m),

.. math::
    \mathbf{h}_c = M_\mathrm{ref}\,\mathrm{UNet}\big(\mathbf{M}/M_\mathrm{ref},\ [M_s\rho > 0]\big)_c,
    \qquad M_\mathrm{ref} = \max_c M_{s,c}\rho_c,

whose out-of-plane component is :math:`h_{z,c} = -M_{z,c} + M_\mathrm{ref}\,y_{z,c}` (local thin-film term plus
the learned non-local correction) and which is projected onto the odd functions of :math:`\mathbf{M}`, as the
exact field (:func:`neuralmag.learned.unet.predict`). The nodal field is the
:math:`M_s\rho`-weighted mean of the adjacent cells, :math:`\mathbf{h}_n = \sum_{c\ni n} M_{s,c}\rho_c
\mathbf{h}_c / \sum_{c\ni n} M_{s,c}\rho_c`, as for the FFT term on the cell grid, and the energy is

.. math::
    E = -\frac{\mu_0}{2}\sum_c V\,\mathbf{M}_c\cdot\mathbf{h}_c = -\frac{\mu_0}{2}\int M_s\rho\,\mathbf{m}\cdot
    \mathbf{h}\,\mathrm{d}V

(the second form with the lumped nodal mass, exactly). Unlike the FFT term, the network is not a symmetric linear
operator, so :math:`\mathbf{h}_n` is only approximately :math:`-\frac{1}{\mu_0 M_n}\partial E/\partial\mathbf{m}_n`.

Meshes: a 2D film ``nm.Mesh((nx, ny), (dx, dy, t))`` or a 3D mesh with one cell layer
``nm.Mesh((nx, ny, 1), (dx, dy, t))`` (two node layers that get the same field), not periodic, whose cell aspect
ratio ``dx : dy : t`` is the one the network was trained on (the demag tensor depends only on it, so any cell
size with that ratio is exact for the network). Grids of any size are zero padded to multiples of 16.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neuralmag.field_terms.demag import CellGrid
from neuralmag.field_terms.field_term import FieldTerm
from neuralmag.forms.ir import MU0

__all__ = ["UNetDemagField"]


class UNetDemagField(FieldTerm):
    r"""Thin-film demagnetisation field from a trained U-Net (see :mod:`neuralmag.field_terms.unet_demag`).

    Args:
        weights: path of a ``.npz`` weight file written by :func:`neuralmag.learned.unet.save` (e.g. by
            ``demos/unet_demag/train.py``); ``None`` uses the pretrained checkpoint shipped with NeuralMag
            (:func:`neuralmag.learned.unet.default_weights`).

    Registering under ``name`` (default ``"demag"``, as :class:`~neuralmag.DemagField`) adds ``h_<name>`` (A/m,
    nodal), ``E_<name>`` (J), ``e_<name>`` (J/m³, cell-wise) and the network parameters ``<name>_unet`` (a dict
    of tensors in the state's dtype, a constant leaf of resolved functions). Material: ``state.material.Ms``
    (A/m, cell-wise) and the region density ``state.rho``. Works with both backends and both precisions.

    Raises:
        ValueError: at registration, for a mesh that is not a single-layer, non-periodic film with the trained
            cell aspect ratio.
    """

    default_name = "demag"

    def __init__(self, weights=None):
        from neuralmag.learned import unet

        self.weights = Path(weights) if weights is not None else unet.default_weights()
        if not self.weights.exists():
            hint = " (the pretrained checkpoint is missing from the package data)" if weights is None else ""
            raise FileNotFoundError(f"U-Net weight file {self.weights} not found{hint}.")
        self.params, self.metadata = unet.load(self.weights)

    @property
    def cell_size(self) -> tuple:
        """Cell edges ``(dx, dy, dz)`` (m) of the training data."""
        return tuple(float(v) for v in self.metadata["cell_size"])

    def check_mesh(self, mesh) -> None:
        """Raise ``ValueError`` unless ``mesh`` is a non-periodic single-layer film with the trained aspect ratio."""
        if mesh.dim == 3 and mesh.n[2] != 1:
            raise ValueError(f"UNetDemagField predicts the field of a single-layer film; the 3D mesh has "
                             f"{mesh.n[2]} cell layers (use one cell layer, or a 2D mesh of thickness dx[2]).")
        if mesh.dim not in (2, 3):
            raise ValueError(f"UNetDemagField needs a 2D film mesh nm.Mesh((nx, ny), (dx, dy, thickness)) or a 3D "
                             f"mesh with one cell layer; got a {mesh.dim}D mesh.")
        if any(mesh.pbc):
            raise ValueError("UNetDemagField does not support periodic boundary conditions (it was trained on "
                             "isolated samples); use nm.DemagField for periodic meshes.")
        trained = np.array(self.cell_size)
        ratio, trained_ratio = np.array(mesh.dx) / mesh.dx[0], trained / trained[0]
        if not np.allclose(ratio, trained_ratio, rtol=1e-6):
            raise ValueError(
                f"UNetDemagField weights {self.weights.name} were trained on cells of {_nm(trained)} nm "
                f"(dx : dy : dz = {_ratio(trained_ratio)}); the mesh has cells of {_nm(mesh.dx)} nm "
                f"({_ratio(ratio)}). The demag tensor depends only on the cell aspect ratio: use cells "
                f"{_ratio(trained_ratio)} times any size, or train a network for this geometry "
                "(demos/unet_demag/).")

    def register(self, state, name: str | None = None) -> "UNetDemagField":
        from neuralmag.learned import unet

        name = name or self.default_name
        self.name = name
        mesh = state.mesh
        self.check_mesh(mesh)
        dim, layered = mesh.dim, mesh.dim == 3
        params_name = f"{name}_unet"
        setattr(state, params_name, {key: state.tensor(value) for key, value in self.params.items()})
        grid = CellGrid(state)
        conv, volume = grid.conv, grid.volume
        backend, nn = state.backend, state.backend.nn

        def magnetisation(m, Ms, rho):
            """Cell weights Ms rho and cell magnetisation M_c (A/m)."""
            weight = Ms * rho
            return weight, weight[..., None] * grid.from_nodes(m)

        def cell_field(weight, M, params, value_first=False):
            """Cell field h_c (A/m) from the network; cell arrays of the mesh shape, the vector axis last
            (``value_first``: first, as the network returns it)."""
            if layered:  # one cell layer: the film is the (nx, ny) slice
                weight, M = weight[:, :, 0], M[:, :, 0]
            m_ref = backend.max(weight)
            m_ref = m_ref + (m_ref == 0)  # an empty sample has no field; avoids 0/0
            mask = weight / (weight + (weight == 0))  # 1 where Ms rho > 0 (also for partial densities)
            x = backend.stack([M[..., 0] / m_ref, M[..., 1] / m_ref, M[..., 2] / m_ref, mask], 0)[None]
            y = unet.predict(params, x, nn)[0]
            if value_first:
                h = m_ref * y[:3]
                return h[..., None] if layered else h
            h = m_ref * backend.stack([y[0], y[1], y[2]], -1)
            return h[:, :, None] if layered else h

        def field(m, Ms, rho, params):
            weight, M = magnetisation(m, Ms, rho)
            return grid.to_nodes(cell_field(weight, M, params, value_first=True), weight)

        def energy(m, Ms, rho, params):
            weight, M = magnetisation(m, Ms, rho)
            return (-0.5 * MU0 * volume) * conv.total(M * cell_field(weight, M, params))

        def energy_density(m, Ms, rho, params):
            weight, M = magnetisation(m, Ms, rho)
            return (-0.5 * MU0) * backend.sum(M * cell_field(weight, M, params), [dim])

        self._set_functions(state, name, ["m", "material__Ms", "rho", params_name], (
            ("h", field, "Demagnetisation field (A/m) at the nodes, predicted by the U-Net."),
            ("E", energy, "Demagnetisation energy (J) of the U-Net field."),
            ("e", energy_density, "Demagnetisation energy density (J/m^3) per cell (U-Net)."),
        ))
        return self


def _nm(dx) -> str:
    return " × ".join(f"{v * 1e9:.4g}" for v in dx)


def _ratio(r) -> str:
    return " : ".join(f"{v:.4g}" for v in r)

