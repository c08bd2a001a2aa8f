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
