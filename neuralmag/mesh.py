"""Regular cuboid meshes."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

__all__ = ["Mesh"]


@dataclass(frozen=True, init=False)
class Mesh:
    r"""A regular grid of ``n`` cuboid cells of size ``dx`` (m).

    Args:
        n: number of cells per axis, 1 to 3 numbers; the mesh dimension ``dim`` is ``len(n)``.
        dx: cell size (m), always 3 numbers: for ``dim < 3`` the unused entries are the thickness of the
            lower-dimensional sample (a 2D thin film of thickness ``dx[2]``, a 1D wire of cross-section
            ``dx[1] * dx[2]``).
        origin: position of the first node (m), 3 numbers.
        pbc: periodic axes, one bool per mesh axis (or one for all). Along a periodic axis node ``n`` is node
            ``0``, so nodal functions have ``n`` instead of ``n + 1`` values there.

    The magnetisation lives on the ``n + 1`` nodes per (non-periodic) axis, material parameters on the cells.
    """

    n: tuple
    dx: tuple
    origin: tuple
    pbc: tuple

    def __init__(self, n, dx, origin=(0.0, 0.0, 0.0), pbc=False):
        n = tuple(n) if hasattr(n, "__len__") else (n,)
        if not all(isinstance(v, numbers.Integral)
                   or (isinstance(v, numbers.Real) and float(v).is_integer()) for v in n):
            raise ValueError(f"Cell counts must be integers; got n={n}.")
        n = tuple(int(v) for v in n)
        if not 1 <= len(n) <= 3:
            raise ValueError(f"A mesh has 1, 2 or 3 axes; got n={n}.")
        if any(v < 1 for v in n):
            raise ValueError(f"Cell counts must be positive; got n={n}.")
        dx = tuple(float(v) for v in dx)
        if len(dx) != 3:
            raise ValueError(f"dx must have 3 entries (the unused ones are the sample thickness); got {dx}.")
        if not all(math.isfinite(v) and v > 0 for v in dx):
            raise ValueError(f"Cell sizes must be positive and finite; got dx={dx}.")
        origin = tuple(float(v) for v in origin)
        if len(origin) != 3:
            raise ValueError(f"origin must have 3 entries; got {origin}.")
        pbc = tuple(bool(p) for p in pbc) if hasattr(pbc, "__len__") else (bool(pbc),) * len(n)
        if len(pbc) != len(n):
            raise ValueError(f"pbc needs one entry per mesh axis ({len(n)}); got {pbc}.")
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "dx", dx)
        object.__setattr__(self, "origin", origin)
        object.__setattr__(self, "pbc", pbc)

    @property
    def dim(self) -> int:
        """Mesh dimension (1, 2 or 3)."""
        return len(self.n)

    @property
    def num_cells(self) -> int:
        return math.prod(self.n)

    @property
    def nodes(self) -> tuple:
        """Number of nodes per axis (``n + 1``, or ``n`` along periodic axes)."""
        return tuple(n if p else n + 1 for n, p in zip(self.n, self.pbc))

    @property
    def num_nodes(self) -> int:
        return math.prod(self.nodes)

    @property
    def cell_volume(self) -> float:
        """Volume of one cell (m³), including the thickness of 1D and 2D meshes."""
        return math.prod(self.dx)

    @property
    def volume(self) -> float:
        return self.cell_volume * self.num_cells

    def shape(self, spaces: str) -> tuple:
        """Array shape of a scalar function on ``spaces`` (one ``"n"``/``"c"`` per axis)."""
        if len(spaces) != self.dim or any(s not in "nc" for s in spaces):
            raise ValueError(f"Spaces must be {self.dim} characters of 'n'/'c' for this mesh; got {spaces!r}.")
        return tuple(nn if s == "n" else nc for s, nn, nc in zip(spaces, self.nodes, self.n))

    def __str__(self) -> str:
        return f"Mesh(n={self.n}, dx={self.dx}, origin={self.origin}, pbc={self.pbc})"
