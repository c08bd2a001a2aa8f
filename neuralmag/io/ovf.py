r"""OVF 2.0 files (OOMMF / mumax3) and the mapping between NeuralMag's nodes and OVF's cells.

OVF stores one value per *cell* of a rectangular grid (at the cell centre), NeuralMag stores the magnetisation
on the *nodes*. The two are mapped as follows (NumPy, float64; also available as :func:`nodes_to_cells` and
:func:`cells_to_nodes`):

* **node → cell** (writing nodal fields): the value of a cell is the mean of its :math:`2^{d}` corner nodes
  (:math:`d` = mesh dimension). This is the exact cell average of the multilinear interpolant of the nodes
  only for multilinear fields; in general it is the value of the interpolant at the cell centre.
* **cell → node** (reading into a nodal field): the value of a node is the mean of the cells that contain it
  (:math:`2^{d}` inside the mesh, fewer on boundaries and edges; along periodic axes every node has two
  neighbouring cells). With ``weights`` (e.g. :math:`M_s`) it is the weighted mean, so that empty cells
  (``weights == 0``) do not pull the magnetisation of boundary nodes towards zero.

Neither round trip is the identity in general. Exact are: a uniform field survives node → cell → node and
cell → node → cell everywhere; a field linear in :math:`x, y, z` survives node → cell → node at the interior
nodes and cell → node → cell in the cells that do not touch a (non-periodic) boundary; otherwise node → cell →
node smooths with the stencil :math:`[\frac14, \frac12, \frac14]` per axis. Writing cell values to OVF and
reading them back is exact (binary-8 bit for bit, text with 17 significant digits).

Format (OVF 2.0, ``math.nist.gov/oommf/doc/userguide20a3/userguide/Data_block.html``): a text header
``# OOMMF OVF 2.0`` / ``# Segment count: 1`` / ``# Begin: Segment`` / ``# Begin: Header`` with ``title``,
``meshtype: rectangular``, ``meshunit``, ``x/y/zmin``, ``x/y/zmax``, ``valuedim``, ``valuelabels``,
``valueunits``, ``x/y/zbase`` (centre of the first cell), ``x/y/znodes`` (cells per axis) and
``x/y/zstepsize``; then the data block ``# Begin: Data Text`` (one cell per line) or ``# Begin: Data Binary 8``
(the check value 123456789012345.0 as a little-endian float64, then the values as little-endian float64), in
both cases with the components of a cell together and x running fastest, then y, then z. The reader also
accepts ``Binary 4`` (check value 1234567.0, float32) and OOMMF's OVF 1.0 rectangular files (big-endian,
``valuemultiplier``); only the first segment of a file is read.

1D and 2D NeuralMag meshes are written as 3D grids with one cell along the missing axes (of size ``dx[1]``,
``dx[2]`` — the sample thickness); the reader always returns 3D arrays.
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import numpy as np

from neuralmag.functions import Function
from neuralmag.mesh import Mesh

__all__ = ["write_ovf", "read_ovf", "nodes_to_cells", "cells_to_nodes", "node_sum", "field_values"]

_CHECK8 = 123456789012345.0
_CHECK4 = 1234567.0


# ---------------------------------------------------------------------------------------- node <-> cell mapping
def nodes_to_cells(mesh: Mesh, values) -> np.ndarray:
    """Cell values from nodal ``values`` (shape ``mesh.shape("n"*dim) + value_shape``): mean of the corners."""
    v = np.asarray(values, dtype=np.float64)
    _check_spatial(mesh, v, "n")
    for axis in range(mesh.dim):
        if mesh.pbc[axis]:
            v = 0.5 * (v + np.roll(v, -1, axis=axis))
        else:
            lo = (slice(None),) * axis + (slice(None, -1),)
            hi = (slice(None),) * axis + (slice(1, None),)
            v = 0.5 * (v[lo] + v[hi])
    return v


def cells_to_nodes(mesh: Mesh, values, weights=None) -> np.ndarray:
    """Nodal values from cell ``values``: the (``weights``-weighted) mean of the cells around each node.

    ``weights`` is a cell array (e.g. ``Ms``); nodes whose cells all have weight 0 get 0.
    """
    v = np.asarray(values, dtype=np.float64)
    _check_spatial(mesh, v, "c")
    extra = v.ndim - mesh.dim
    w = np.ones(mesh.n) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != tuple(mesh.n):
        raise ValueError(f"weights must be a cell array of shape {mesh.n}, got {w.shape}.")
    w = w.reshape(w.shape + (1,) * extra)
    num, den = node_sum(mesh, v * w), node_sum(mesh, w)
    safe = np.where(den == 0, 1.0, den)
    return np.where(den == 0, 0.0, num / safe)


def node_sum(mesh: Mesh, c: np.ndarray) -> np.ndarray:
    """Sum over the cells adjacent to each node of the cell array ``c`` (per axis: cells i-1 and i, zero outside
    the mesh; trailing value axes kept)."""
    for axis in range(mesh.dim):
        if mesh.pbc[axis]:
            c = c + np.roll(c, 1, axis=axis)
        else:
            pad = [(0, 0)] * c.ndim
            pad[axis] = (1, 1)
            p = np.pad(c, pad)
            lo = (slice(None),) * axis + (slice(None, -1),)
            hi = (slice(None),) * axis + (slice(1, None),)
            c = p[lo] + p[hi]
    return c


def _check_spatial(mesh: Mesh, v: np.ndarray, space: str) -> None:
    shape = mesh.shape(space * mesh.dim)
    if v.shape[: mesh.dim] != shape:
        kind = "nodal" if space == "n" else "cell"
        raise ValueError(f"Expected {kind} values of spatial shape {shape} for {mesh}, got shape {v.shape}.")


def field_values(state, value):
    """``(array, spaces, value_shape)`` of a field: an attribute name, a Function or a tensor/array.

    Plain arrays are recognised by their spatial shape, nodal first (on a fully periodic mesh, where nodal and
    cell arrays have the same shape, they count as nodal).
    """
    if isinstance(value, str):
        value = getattr(state, value)
    if isinstance(value, Function):
        if len(set(value.spaces)) != 1:
            raise ValueError(f"Mixed nodal/cell functions (spaces {value.spaces!r}) cannot be written.")
        return value.numpy(), value.spaces, tuple(value.shape)
    array = np.asarray(state.to_numpy(value))
    mesh = state.mesh
    for space in ("n", "c"):
        spaces = space * mesh.dim
        shape = mesh.shape(spaces)
        if array.shape[: mesh.dim] == shape:
            return array, spaces, array.shape[mesh.dim:]
    raise ValueError(f"A field needs a nodal {mesh.shape('n' * mesh.dim)} or cell {mesh.n} spatial shape, "
                     f"got an array of shape {array.shape}.")


# ---------------------------------------------------------------------------------------- writing
def write_ovf(path, state_or_mesh, values, cell: bool | None = None, fmt: str = "binary8", title: str | None = None,
              units: str | list = "", labels: list | None = None, desc: str | list | None = None) -> Path:
    """Write a cell field to an OVF 2.0 file.

    Args:
        path: output file (its directory is created).
        state_or_mesh: a :class:`~neuralmag.State` (then ``values`` may be an attribute name and the file
            records ``state.t``) or a :class:`~neuralmag.Mesh`.
        values: an attribute name, a Function, a tensor or an array of nodal or cell values.
        cell: ``True`` if ``values`` are cell values (written as they are), ``False`` if nodal (mapped to the
            cells by :func:`nodes_to_cells`); ``None`` decides from the Function's spaces or the array shape.
        fmt: ``"binary8"`` (little-endian float64, exact) or ``"text"`` (17 significant digits, exact).
        title, units, labels: the header's ``Title``, ``valueunits`` (one string for all components or one per
            component) and ``valuelabels`` (default ``<title>_x`` ... for 3 components).
        desc: ``Desc`` line(s); a state adds ``Total simulation time: <t> s`` (the mumax3 convention).

    Returns the path written.
    """
    if fmt not in ("binary8", "text"):
        raise ValueError(f"Unknown OVF data format {fmt!r}; valid values are: 'binary8', 'text'.")
    if isinstance(state_or_mesh, Mesh):
        mesh, state = state_or_mesh, None
        if isinstance(values, str):
            raise TypeError("Writing an attribute by name needs a State, not a Mesh.")
    else:
        state, mesh = state_or_mesh, state_or_mesh.mesh
    if title is None:
        title = values if isinstance(values, str) else "field"
    if state is not None:
        array, spaces, value_shape = field_values(state, values)
        is_cell = spaces[0] == "c" if cell is None else cell
    else:
        array = np.asarray(values.numpy() if isinstance(values, Function) else values)
        if cell is None:
            if isinstance(values, Function):
                cell = values.spaces[0] == "c"
            else:
                cell = array.shape[: mesh.dim] == tuple(mesh.n) and mesh.shape("n" * mesh.dim) != tuple(mesh.n)
        is_cell = cell
    cells = np.asarray(array, dtype=np.float64) if is_cell else nodes_to_cells(mesh, array)
    _check_spatial(mesh, cells, "c")
    value_shape = cells.shape[mesh.dim:]
    valuedim = math.prod(value_shape)
    n3 = tuple(mesh.n) + (1,) * (3 - mesh.dim)
    cells = cells.reshape(n3 + (valuedim,))
    data = np.ascontiguousarray(cells.transpose(2, 1, 0, 3)).reshape(-1, valuedim)  # x fastest

    if labels is None:
        labels = ([f"{title}_{c}" for c in "xyz"] if valuedim == 3
                  else [title] if valuedim == 1 else [f"{title}_{i}" for i in range(valuedim)])
    if isinstance(units, str):
        units = [units or "1"] * valuedim
    if len(labels) != valuedim or len(units) != valuedim:
        raise ValueError(f"labels and units need {valuedim} entries (valuedim).")
    descs = [] if desc is None else [desc] if isinstance(desc, str) else list(desc)
    if state is not None:
        descs.append(f"Total simulation time: {float(state.t)!r} s")

    origin, dx = mesh.origin, mesh.dx
    lines = ["# OOMMF OVF 2.0", "#", "# Segment count: 1", "#", "# Begin: Segment", "# Begin: Header", "#",
             f"# Title: {title}", "# meshtype: rectangular", "# meshunit: m", "#"]
    for k, c in enumerate("xyz"):
        lines.append(f"# {c}min: {origin[k]!r}")
    for k, c in enumerate("xyz"):
        lines.append(f"# {c}max: {origin[k] + n3[k] * dx[k]!r}")
    lines += ["#", f"# valuedim: {valuedim}", "# valuelabels: " + " ".join(_token(s) for s in labels),
              "# valueunits: " + " ".join(_token(s) for s in units), "#"]
    lines += [f"# Desc: {d}" for d in descs]
    for k, c in enumerate("xyz"):
        lines.append(f"# {c}base: {origin[k] + 0.5 * dx[k]!r}")
    for k, c in enumerate("xyz"):
        lines.append(f"# {c}nodes: {n3[k]}")
    for k, c in enumerate("xyz"):
        lines.append(f"# {c}stepsize: {dx[k]!r}")
    lines += ["# End: Header", "#"]
    block = "Data Binary 8" if fmt == "binary8" else "Data Text"
    lines.append(f"# Begin: {block}")

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    buf.write(("\n".join(lines) + "\n").encode("ascii"))
    if fmt == "binary8":
        buf.write(np.array([_CHECK8], dtype="<f8").tobytes())
        buf.write(data.astype("<f8").tobytes())
        buf.write(b"\n")
    else:
        np.savetxt(buf, data, fmt="%.17g")
    buf.write(f"# End: {block}\n# End: Segment\n".encode("ascii"))
    path.write_bytes(buf.getvalue())
    return path


def _token(s: str) -> str:
    """A header list entry; entries with spaces are braced (Tcl list syntax, as OOMMF writes them)."""
    s = str(s)
    return "{" + s + "}" if (" " in s or not s) else s


# ---------------------------------------------------------------------------------------- reading
def read_ovf(path) -> tuple[dict, np.ndarray]:
    """Read the first segment of an OVF 2.0 (or OVF 1.0 rectangular) file.

    Returns ``(info, values)``: ``values`` is a float64 array of shape ``(xnodes, ynodes, znodes, valuedim)``
    (without the last axis when ``valuedim`` is 1) indexed ``[ix, iy, iz]``; ``info`` holds the header entries
    (lower-case keys, numbers converted) plus ``"n"``, ``"dx"``, ``"origin"`` (the lower corner, ``xmin``...),
    ``"mesh"`` (an :class:`~neuralmag.Mesh` of the same cells), ``"version"``, ``"format"`` (``"text"``,
    ``"binary4"`` or ``"binary8"``) and ``"t"`` if a ``Desc`` line gives the total simulation time.
    """
    raw = Path(path).read_bytes()
    pos, header, version, fmt = 0, {}, None, None
    descs = []
    while True:
        end = raw.find(b"\n", pos)
        if end < 0:
            raise ValueError(f"{path}: no data block found (not an OVF file?).")
        line = raw[pos:end].decode("latin-1").strip()
        pos = end + 1
        if version is None:
            if re.match(r"#\s*OOMMF\s+OVF\s+2\.0", line, re.I):
                version = 2
            elif re.match(r"#\s*OOMMF:?\s+(rectangular mesh v1\.0|OVF 1\.0)", line, re.I):
                version = 1
            elif line:
                raise ValueError(f"{path}: not an OVF 1.0/2.0 file (first line {line!r}).")
            continue
        if not line.startswith("#"):
            if line:
                raise ValueError(f"{path}: unexpected line {line!r} in the header.")
            continue
        body = line[1:].split("##")[0].strip()  # '##' starts a comment
        if ":" not in body:
            continue
        key, value = (s.strip() for s in body.split(":", 1))
        key = key.lower()
        if key == "begin" and value.lower().startswith("data"):
            fmt = value.lower().split(None, 1)[1].replace(" ", "")
            break
        if key in ("begin", "end", "segment count"):
            continue
        if key == "desc":
            descs.append(value)
        header[key] = value
    if header.get("meshtype", "rectangular").lower() != "rectangular":
        raise ValueError(f"{path}: only rectangular OVF meshes are supported, got {header['meshtype']!r}.")

    def num(key, default=None):
        if key not in header:
            if default is None:
                raise ValueError(f"{path}: header entry {key!r} missing.")
            return default
        return float(header[key])

    n = tuple(int(num(f"{c}nodes")) for c in "xyz")
    dx = tuple(num(f"{c}stepsize") for c in "xyz")
    base = tuple(num(f"{c}base", 0.0) if f"{c}base" in header else None for c in "xyz")
    origin = tuple(num(f"{c}min") if f"{c}min" in header else (base[k] or 0.0) - 0.5 * dx[k]
                   for k, c in enumerate("xyz"))
    valuedim = int(num("valuedim")) if "valuedim" in header else 3
    count = math.prod(n) * valuedim

    if fmt == "text":
        stop = raw.find(b"# End: Data", pos)
        if stop < 0:
            stop = raw.lower().find(b"# end: data", pos)
        text = raw[pos: stop if stop >= 0 else len(raw)].decode("latin-1")
        text = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
        data = np.array(text.split(), dtype=np.float64)
    elif fmt in ("binary8", "binary4"):
        size = 8 if fmt == "binary8" else 4
        dtype = np.dtype(("<" if version == 2 else ">") + ("f8" if size == 8 else "f4"))
        check = np.frombuffer(raw, dtype=dtype, count=1, offset=pos)[0]
        if check != (_CHECK8 if size == 8 else _CHECK4):
            raise ValueError(f"{path}: wrong binary check value {check!r} (corrupt file or wrong byte order).")
        if len(raw) < pos + size * (count + 1):
            raise ValueError(f"{path}: the data block is truncated.")
        data = np.frombuffer(raw, dtype=dtype, count=count, offset=pos + size).astype(np.float64)
    else:
        raise ValueError(f"{path}: unknown OVF data format {fmt!r}.")
    if data.size != count:
        raise ValueError(f"{path}: expected {count} values ({n} cells x {valuedim}), found {data.size}.")
    if version == 1 and "valuemultiplier" in header:
        data = data * float(header["valuemultiplier"])
    values = data.reshape(n[2], n[1], n[0], valuedim).transpose(2, 1, 0, 3)
    if valuedim == 1:
        values = values[..., 0]

    info = {}
    for key, value in header.items():
        try:
            info[key] = int(value) if re.fullmatch(r"[+-]?\d+", value) else float(value)
        except ValueError:
            info[key] = value
    if descs:
        info["desc"] = descs
        for d in descs:
            match = re.search(r"Total simulation time:\s*([-+0-9.eE]+)", d)
            if match:
                info["t"] = float(match.group(1))
    info.update(version=version, format=fmt, n=n, dx=dx, origin=origin, valuedim=valuedim,
                mesh=Mesh(n, dx, origin))
    return info, np.ascontiguousarray(values)
