r"""Checkpoints: :meth:`State.save` / :meth:`State.load` as a NumPy ``.npz`` archive (no pickle).

The archive holds the mesh (``n``, ``dx``, ``origin``, ``pbc``), the backend name, the dtype and every
*value* attribute of the state — Functions (with their spaces and value shape), backend tensors, NumPy
arrays and numbers — including ``m``, ``t``, ``dx``, ``rho`` and the materials, stored with their exact bits.
Dynamic attributes (callables: field terms, ``state.h``, the LLG right-hand side, user lambdas) cannot be
stored; their names are listed in the file and :func:`load` warns about them, so that the script re-creates
them (re-register the field terms, create the solver) after loading. Other values (strings, objects) are
skipped and listed likewise.

Restoring is exact: a run stopped after a step, saved, loaded into a fresh state (terms re-registered, same
solver settings) and continued gives bit-identical ``m`` to the uninterrupted run.

Layout: the entry ``__meta__`` is a JSON string (format, version, mesh, backend, dtype, and per attribute its
kind and array key); the values are the arrays ``a0``, ``a1``, ...
"""

from __future__ import annotations

import numbers
import warnings
from pathlib import Path

import numpy as np

from neuralmag.functions import Function, VectorFunction
from neuralmag.io.npz import read_npz, write_npz
from neuralmag.mesh import Mesh

__all__ = ["save", "load"]

FORMAT = "neuralmag-checkpoint"
VERSION = 1


def save(state, path, exclude=()) -> Path:
    """Write a checkpoint of ``state`` to ``path`` (exactly this name; ``.npz`` is not appended).

    ``exclude``: attribute names not to store (e.g. a large demag kernel that registering recomputes).
    The file is written to a temporary name and renamed, so an interrupted save never leaves half a file.
    """
    mesh = state.mesh
    meta = {
        "format": FORMAT, "version": VERSION, "backend": state.backend.name, "dtype": state.dtype_name,
        "mesh": {"n": list(mesh.n), "dx": list(mesh.dx), "origin": list(mesh.origin), "pbc": list(mesh.pbc)},
        "attributes": [], "dynamic": [], "skipped": [],
    }
    arrays = {}
    for name in state.attributes():
        if name in exclude:
            continue
        if state.is_dynamic(name):
            meta["dynamic"].append(name)
            continue
        value = state._attrs[name]
        key = f"a{len(arrays)}"
        if isinstance(value, Function):
            entry = {"kind": "function", "spaces": value.spaces, "shape": list(value.shape)}
            arrays[key] = value.numpy()
        elif isinstance(value, np.ndarray) or state.backend.is_tensor(value):
            entry = {"kind": "tensor" if state.backend.is_tensor(value) else "array"}
            arrays[key] = np.asarray(state.to_numpy(value))
        elif isinstance(value, numbers.Number):
            pytype = next((t.__name__ for t in (bool, int, float, complex) if type(value) is t), None)
            entry = {"kind": "number", "type": pytype}
            arrays[key] = np.asarray(value)
        else:
            meta["skipped"].append({"name": name, "type": type(value).__name__})
            continue
        entry.update(name=name, key=key)
        meta["attributes"].append(entry)
    return write_npz(path, arrays, meta, key="__meta__")


def load(path, backend: str | None = None, dtype: str | None = None, device=None, warn: bool = True):
    """A new :class:`~neuralmag.State` from the checkpoint ``path``.

    ``backend`` and ``dtype`` default to those of the saved state (give others to convert). With ``warn``, a
    ``UserWarning`` names the dynamic attributes of the saved state, which must be re-created.
    """
    from neuralmag.state import State

    arrays, meta = read_npz(path, key="__meta__")
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not a NeuralMag checkpoint.")
    if meta.get("version", 0) > VERSION:
        raise ValueError(f"{path} has checkpoint version {meta['version']}; this NeuralMag reads <= {VERSION}.")

    mesh = Mesh(**{k: tuple(v) for k, v in meta["mesh"].items()})
    state = State(mesh, backend=backend or meta["backend"], dtype=dtype or meta["dtype"], device=device)
    m_entry = None
    # materials before m (setting m checks it against Ms), m last
    for entry in sorted(meta["attributes"], key=lambda e: (e["name"] == "m", not e["name"].startswith("material"))):
        name, value = entry["name"], arrays[entry["key"]]
        kind = entry["kind"]
        if kind == "function":
            if name == "m":
                m_entry = entry
            value = Function(state, entry["spaces"], tuple(entry["shape"]), tensor=value)
            if tuple(entry["shape"]) == (3,):
                value = VectorFunction(state, entry["spaces"], tensor=value.tensor)
        elif kind == "tensor":
            value = state.tensor(value)
        elif kind == "number":
            value = value[()]
            if entry.get("type") in ("bool", "int", "float", "complex"):
                value = {"bool": bool, "int": int, "float": float, "complex": complex}[entry["type"]](value)
        setattr(state, name, value)
    if m_entry is not None:
        # setting m normalises it; the saved m is already normalised and must keep its exact bits
        state.assign_m(arrays[m_entry["key"]])

    if warn and (meta["dynamic"] or meta["skipped"]):
        parts = []
        if meta["dynamic"]:
            parts.append("dynamic attributes (re-register the field terms / re-create the solver or callables): "
                         + ", ".join(meta["dynamic"]))
        if meta["skipped"]:
            parts.append("values that could not be stored: "
                         + ", ".join(f"{s['name']} ({s['type']})" for s in meta["skipped"]))
        warnings.warn(f"The checkpoint {path} does not restore " + "; ".join(parts) + ".", stacklevel=3)
    return state
