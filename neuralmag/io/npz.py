"""``.npz`` files of named arrays with one JSON metadata entry (checkpoints, network weights).

Written atomically (a temporary file renamed into place, so an interrupted write never leaves a truncated file)
and read without unpickling anything: the metadata is a JSON string, every other entry a plain array.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

__all__ = ["write_npz", "read_npz"]


def write_npz(path, arrays: dict, metadata: dict, key: str = "__metadata__", compressed: bool = False) -> Path:
    """Write ``arrays`` (NumPy) and ``metadata`` (JSON-serialisable, stored under ``key``) to ``path``."""
    if key in arrays:
        raise ValueError(f"{key!r} is reserved for the metadata entry.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:  # a file object: np.savez would append ".npz" to another suffix
        (np.savez_compressed if compressed else np.savez)(f, **{key: np.array(json.dumps(metadata))}, **arrays)
    os.replace(tmp, path)
    return path


def read_npz(path, key: str = "__metadata__") -> tuple[dict, dict]:
    """``(arrays, metadata)`` from a file written by :func:`write_npz` (metadata ``{}`` when absent)."""
    with np.load(path, allow_pickle=False) as data:
        metadata = json.loads(str(data[key][()])) if key in data.files else {}
        arrays = {k: np.array(data[k]) for k in data.files if k != key}
    return arrays, metadata
