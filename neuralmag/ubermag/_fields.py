r"""Transfer between discretisedfield's cells and NeuralMag's nodes (NumPy, float64).

A discretisedfield mesh of ``n`` cells becomes a NeuralMag :class:`~neuralmag.Mesh` with the *same cells*
(``n + 1`` nodes per non-periodic axis, ``n`` along a periodic one). Materials stay on the cells unchanged;
only the magnetisation (and other vector fields that NeuralMag keeps on the nodes, such as an applied field)
crosses between the two spaces:

* **cell → node** (:func:`neuralmag.io.ovf.cells_to_nodes`): the weighted mean of the (up to) eight cells
  around a node,
  :math:`\mathbf{v}_n = \sum_{c\ni n} w_c \mathbf{v}_c / \sum_{c\ni n} w_c`. For ``m`` the weights are 1 in
  magnetic cells (:math:`M_s > 0`) and 0 in empty ones, so empty cells are ignored; an applied field uses
  :math:`w_c = M_s` (this is exactly the nodal field whose Zeeman energy equals that of the cell-wise field
  with NeuralMag's lumped nodal mass; nodes without magnetic cells get 0).
* **node → cell** (:func:`neuralmag.io.ovf.nodes_to_cells`): the mean of the eight corner nodes of a cell (the
  cell average of the multilinear interpolant), renormalised for ``m``.

The plain transfers are those of :mod:`neuralmag.io.ovf` (OVF files are cell-centred too); this module adds the
direction mapping of ``m`` that ignores empty cells.

Round trips are exact for uniform fields and, away from boundaries and region interfaces, for fields linear
in the coordinates; everything else is smoothed over one cell (see ``docs/user_guide/ubermag.md``).
"""

from __future__ import annotations

import itertools

import numpy as np

from neuralmag.io.ovf import node_sum
from neuralmag.mesh import Mesh

__all__ = ["magnetic_nodes", "cell_directions_to_nodes"]


def magnetic_nodes(mesh: Mesh, magnetic_cells: np.ndarray) -> np.ndarray:
    """Boolean nodal mask: nodes touching at least one magnetic cell."""
    return node_sum(mesh, np.asarray(magnetic_cells, dtype=float)) > 0


def cell_directions_to_nodes(mesh: Mesh, m_cells: np.ndarray, magnetic: np.ndarray) -> np.ndarray:
    """Unit nodal directions from cell magnetisation directions: the mean over the adjacent magnetic cells,
    normalised. Where that mean vanishes (e.g. antiparallel neighbours) the first adjacent magnetic cell (in
    ``x, y, z`` corner order) is taken. Nodes without magnetic cells get zero."""
    norm = np.linalg.norm(m_cells, axis=-1, keepdims=True)
    unit = np.where(norm > 0, m_cells / np.where(norm > 0, norm, 1.0), 0.0) * magnetic[..., None]
    nodes = node_sum(mesh, unit)
    length = np.linalg.norm(nodes, axis=-1)
    mag_nodes = magnetic_nodes(mesh, magnetic)
    bad = mag_nodes & (length < 1e-12)
    if bad.any():
        for idx in zip(*np.nonzero(bad)):
            nodes[idx] = _first_adjacent(unit, magnetic, idx, mesh.pbc)
        length = np.linalg.norm(nodes, axis=-1)
    return np.where(length[..., None] > 0, nodes / np.where(length > 0, length, 1.0)[..., None], 0.0)


def _first_adjacent(unit, magnetic, node, pbc):
    n = magnetic.shape
    for offset in itertools.product((-1, 0), repeat=3):
        cell = []
        for axis in range(3):
            c = node[axis] + offset[axis]
            if pbc[axis]:
                c %= n[axis]
            elif not 0 <= c < n[axis]:
                break
            cell.append(c)
        else:
            if magnetic[tuple(cell)]:
                return unit[tuple(cell)]
    return np.zeros(3)
