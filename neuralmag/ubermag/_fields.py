r"""Transfer between discretisedfield's cells and NeuralMag's nodes (NumPy, float64).

A discretisedfield mesh of ``n`` cells becomes a NeuralMag :class:`~neuralmag.Mesh` with the *same cells*
(``n + 1`` nodes per non-periodic axis, ``n`` along a periodic one). Materials stay on the cells unchanged;
only the magnetisation (and other vector fields that NeuralMag keeps on the nodes, such as an applied field)
crosses between the two spaces:

* **cell → node** (:func:`cells_to_nodes`): the weighted mean of the (up to) eight cells around a node,
  :math:`\mathbf{v}_n = \sum_{c\ni n} w_c \mathbf{v}_c / \sum_{c\ni n} w_c`. For ``m`` the weights are 1 in
  magnetic cells (:math:`M_s > 0`) and 0 in empty ones, so empty cells are ignored; an applied field uses
  :math:`w_c = M_s` (this is exactly the nodal field whose Zeeman energy equals that of the cell-wise field
  with NeuralMag's lumped nodal mass).
* **node → cell** (:func:`nodes_to_cells`): the mean of the eight corner nodes of a cell (the cell average of
  the multilinear interpolant), renormalised for ``m``.

Round trips are exact for uniform fields and, away from boundaries and region interfaces, for fields linear
in the coordinates; everything else is smoothed over one cell (see ``docs/user_guide/ubermag.md``).
"""

from __future__ import annotations

import itertools

import numpy as np

__all__ = ["node_sum", "cells_to_nodes", "nodes_to_cells", "magnetic_nodes", "cell_directions_to_nodes"]


def node_sum(cells: np.ndarray, pbc=(False, False, False)) -> np.ndarray:
    """Sum of the values of the cells adjacent to each node (leading three axes are the cell axes)."""
    y = np.asarray(cells, dtype=float)
    for axis in range(3):
        if pbc[axis]:
            y = y + np.roll(y, 1, axis=axis)  # node i lies between cells i - 1 and i
        else:
            pad_lo = [(0, 0)] * y.ndim
            pad_hi = [(0, 0)] * y.ndim
            pad_lo[axis] = (1, 0)
            pad_hi[axis] = (0, 1)
            y = np.pad(y, pad_lo) + np.pad(y, pad_hi)
    return y


def nodes_to_cells(nodes: np.ndarray, pbc=(False, False, False)) -> np.ndarray:
    """Mean of the eight corner nodes of every cell (leading three axes are the node axes)."""
    x = np.asarray(nodes, dtype=float)
    for axis in range(3):
        if pbc[axis]:
            x = 0.5 * (x + np.roll(x, -1, axis=axis))
        else:
            lo = [slice(None)] * x.ndim
            hi = [slice(None)] * x.ndim
            lo[axis] = slice(None, -1)
            hi[axis] = slice(1, None)
            x = 0.5 * (x[tuple(lo)] + x[tuple(hi)])
    return x


def cells_to_nodes(values: np.ndarray, weights: np.ndarray, pbc=(False, False, False)) -> np.ndarray:
    r"""Weighted mean :math:`\sum_{c\ni n} w_c v_c / \sum_{c\ni n} w_c` of cell ``values`` (shape ``n + (k,)`` or
    ``n``) at the nodes; nodes whose adjacent weights all vanish get the unweighted mean."""
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    w = weights.reshape(weights.shape + (1,) * (values.ndim - 3))
    num = node_sum(values * w, pbc)
    den = node_sum(weights, pbc).reshape(num.shape[:3] + (1,) * (values.ndim - 3))
    plain = node_sum(values, pbc) / node_sum(np.ones(weights.shape), pbc).reshape(den.shape)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), plain)


def magnetic_nodes(magnetic_cells: np.ndarray, pbc=(False, False, False)) -> np.ndarray:
    """Boolean nodal mask: nodes touching at least one magnetic cell."""
    return node_sum(np.asarray(magnetic_cells, dtype=float), pbc) > 0


def cell_directions_to_nodes(m_cells: np.ndarray, magnetic: np.ndarray, pbc=(False, False, False)) -> np.ndarray:
    """Unit nodal directions from cell magnetisation directions: the mean over the adjacent magnetic cells,
    normalised. Where that mean vanishes (e.g. antiparallel neighbours) the first adjacent magnetic cell (in
    ``x, y, z`` corner order) is taken. Nodes without magnetic cells get zero."""
    norm = np.linalg.norm(m_cells, axis=-1, keepdims=True)
    unit = np.where(norm > 0, m_cells / np.where(norm > 0, norm, 1.0), 0.0) * magnetic[..., None]
    nodes = node_sum(unit, pbc)
    length = np.linalg.norm(nodes, axis=-1)
    mag_nodes = magnetic_nodes(magnetic, pbc)
    bad = mag_nodes & (length < 1e-12)
    if bad.any():
        for idx in zip(*np.nonzero(bad)):
            nodes[idx] = _first_adjacent(unit, magnetic, idx, pbc)
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
