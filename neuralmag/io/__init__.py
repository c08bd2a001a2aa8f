"""File input/output: VTK (``.vti``/``.pvd``), OVF 2.0 and checkpoints.

* :func:`write_vti` / :func:`read_vti`: fields as VTK image data (pyvista), ``.pvd`` time series.
* :func:`write_ovf` / :func:`read_ovf`: OVF 2.0 (text and binary-8) for OOMMF / mumax3 tools, with the
  node ↔ cell mapping :func:`nodes_to_cells` / :func:`cells_to_nodes`.
* :func:`save` / :func:`load` (also ``state.save(path)`` / ``nm.State.load(path)``): ``.npz`` checkpoints.

pyvista is imported only when VTK files are read or written.
"""

from neuralmag.io.checkpoint import load, save
from neuralmag.io.ovf import cells_to_nodes, nodes_to_cells, read_ovf, write_ovf
from neuralmag.io.vtk import read_pvd, read_vti, write_pvd, write_vti

__all__ = ["write_vti", "read_vti", "write_pvd", "read_pvd", "write_ovf", "read_ovf", "nodes_to_cells",
           "cells_to_nodes", "save", "load"]
