r"""VTK output: fields as ``.vti`` image data (via pyvista) and ``.pvd`` time series for ParaView.

A mesh of ``n`` cells becomes a ``pyvista.ImageData`` with ``n + 1`` points per axis, ``origin = mesh.origin``
and ``spacing = mesh.dx``: nodal fields are point data, cell fields cell data, both without any interpolation.
A 2D mesh gives an image of ``(nx+1, ny+1, 1)`` points (a single layer of points at ``z = origin[2]``; its
cells are the ``nx * ny`` mesh cells), a 1D mesh ``(nx+1, 1, 1)``. Along periodic axes, where NeuralMag keeps
only ``n`` nodes, the first node layer is repeated at the end so that the image covers the whole domain.

The mesh (``n``, ``dx``, ``origin``, ``pbc``) and the time ``t`` are stored as field data, so that
:func:`read_vti` restores the NeuralMag shapes exactly; ``.vti`` files from elsewhere are read as 3D meshes.

pyvista (and VTK) are imported on first use only.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from neuralmag.io.ovf import field_values
from neuralmag.mesh import Mesh

__all__ = ["write_vti", "read_vti", "read_vti_into", "write_pvd", "read_pvd"]


def _pyvista():
    try:
        import pyvista
    except ImportError as err:  # pragma: no cover - depends on the installation
        raise ImportError("VTK output needs pyvista: pip install pyvista") from err
    return pyvista


def _to_vtk_order(mesh: Mesh, array: np.ndarray, space: str) -> np.ndarray:
    """``(points or cells, components)`` in VTK order (x fastest) from a NeuralMag array."""
    dim = mesh.dim
    spatial, value_shape = array.shape[:dim], array.shape[dim:]
    a = array.reshape(spatial + (-1,))
    if space == "n":  # repeat the first node layer along periodic axes
        for axis in range(dim):
            if mesh.pbc[axis]:
                a = np.concatenate([a, np.take(a, [0], axis=axis)], axis=axis)
    a = a.reshape(a.shape[:dim] + (1,) * (3 - dim) + a.shape[-1:])
    flat = np.ascontiguousarray(a.transpose(2, 1, 0, 3)).reshape(-1, a.shape[-1])
    return flat[:, 0] if value_shape == () else flat


def _from_vtk_order(mesh: Mesh, flat: np.ndarray, space: str) -> np.ndarray:
    dim = mesh.dim
    n3 = tuple(mesh.n) + (1,) * (3 - dim)
    counts = tuple(v + 1 for v in n3) if space == "n" else n3
    if space == "n" and dim < 3:
        counts = counts[:dim] + (1,) * (3 - dim)
    flat = np.asarray(flat)
    components = flat.shape[1:]
    a = flat.reshape(counts[::-1] + (-1,)).transpose(2, 1, 0, 3)
    a = a.reshape(a.shape[:dim] + components)
    if space == "n":
        for axis in range(dim):
            if mesh.pbc[axis]:
                a = np.take(a, range(mesh.n[axis]), axis=axis)
    return np.ascontiguousarray(a)


def _image(mesh: Mesh):
    pv = _pyvista()
    dims = tuple(v + 1 for v in mesh.n) + (1,) * (3 - mesh.dim)
    grid = pv.ImageData(dimensions=dims, spacing=mesh.dx, origin=mesh.origin)
    grid.field_data["nm_n"] = np.array(mesh.n, dtype=np.int64)
    grid.field_data["nm_dx"] = np.array(mesh.dx, dtype=np.float64)
    grid.field_data["nm_origin"] = np.array(mesh.origin, dtype=np.float64)
    grid.field_data["nm_pbc"] = np.array(mesh.pbc, dtype=np.int64)
    return grid


def write_vti(path, state, fields=("m",)) -> Path:
    """Write ``fields`` of ``state`` (attribute names or ``(name, value)`` pairs) to the ``.vti`` file ``path``.

    Values may be Functions, tensors or arrays of nodal or cell shape (dynamic attributes are evaluated).
    ``state.t`` is stored as the field data ``t``. Returns the path written.
    """
    mesh = state.mesh
    grid = _image(mesh)
    grid.field_data["t"] = np.array([float(state.t)])
    for item in ([fields] if isinstance(fields, str) else fields):
        name, value = item if isinstance(item, tuple) else (item, item)
        array, spaces, _ = field_values(state, value)
        flat = _to_vtk_order(mesh, array, spaces[0])
        (grid.point_data if spaces[0] == "n" else grid.cell_data)[name] = flat
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    grid.save(str(path))
    return path


def read_vti(path) -> tuple[dict, dict]:
    """Read a ``.vti`` file: ``(info, fields)``.

    ``info`` has ``"mesh"`` (:class:`~neuralmag.Mesh`) and ``"t"`` (if stored); ``fields`` maps names to NumPy
    arrays in NeuralMag layout (nodal arrays for point data, cell arrays for cell data).
    """
    pv = _pyvista()
    grid = pv.read(str(path))
    fd = grid.field_data
    if "nm_n" in fd.keys():
        mesh = Mesh(tuple(int(v) for v in fd["nm_n"]), tuple(fd["nm_dx"]), tuple(fd["nm_origin"]),
                    tuple(bool(v) for v in fd["nm_pbc"]))
    else:
        n = tuple(max(int(d) - 1, 1) for d in grid.dimensions)
        mesh = Mesh(n, tuple(grid.spacing), tuple(grid.origin))
    info = {"mesh": mesh}
    if "t" in fd.keys():
        info["t"] = float(fd["t"][0])
    fields = {}
    for name in grid.point_data.keys():
        fields[name] = _from_vtk_order(mesh, grid.point_data[name], "n")
    for name in grid.cell_data.keys():
        fields[name] = _from_vtk_order(mesh, grid.cell_data[name], "c")
    return info, fields


def read_vti_into(state, path, fields=("m",)) -> dict:
    """Read ``path`` and assign ``fields`` (default ``m``) to ``state``; returns all arrays of the file.

    The file's mesh must equal ``state.mesh`` (a file written by :func:`write_vti`); ``t`` is not changed.
    """
    info, arrays = read_vti(path)
    if info["mesh"] != state.mesh:
        raise ValueError(f"{path} holds {info['mesh']}, the state has {state.mesh}.")
    for name in ([fields] if isinstance(fields, str) else fields):
        if name not in arrays:
            raise KeyError(f"{path} has no field {name!r}; it has {sorted(arrays)}.")
        setattr(state, name, arrays[name])
    return arrays


def write_pvd(path, entries) -> Path:
    """Write a ParaView collection ``path`` of ``(time, file)`` pairs (files relative to the .pvd's folder)."""
    root = ET.Element("VTKFile", type="Collection", version="0.1", byte_order="LittleEndian")
    collection = ET.SubElement(root, "Collection")
    for t, file in entries:
        ET.SubElement(collection, "DataSet", timestep=repr(float(t)), group="", part="0", file=str(file))
    ET.indent(root)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text('<?xml version="1.0"?>\n' + ET.tostring(root, encoding="unicode") + "\n")
    os.replace(tmp, path)  # never a half-written collection
    return path


def read_pvd(path) -> list[tuple[float, str]]:
    """The ``(time, file)`` entries of a ``.pvd`` collection."""
    root = ET.parse(path).getroot()
    return [(float(ds.get("timestep", 0.0)), ds.get("file")) for ds in root.iter("DataSet")]
