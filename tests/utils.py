"""Helpers shared by tests."""

import numpy as np

import neuralmag as nm


def to_numpy(x):
    """Any tensor, Function or number as a float64 NumPy array."""
    if isinstance(x, nm.Function):
        return x.numpy().astype(np.float64)
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def load_demo(name: str):
    """Import ``demos/<name>.py`` as a module (the demos folder goes on ``sys.path`` for its shared helpers)."""
    import importlib
    import sys
    from pathlib import Path

    demos = str(Path(__file__).resolve().parents[1] / "demos")
    if demos not in sys.path:
        sys.path.insert(0, demos)
    return importlib.import_module(name)
