"""Backends: everything that touches JAX or PyTorch lives below this package.

Each backend package (``neuralmag.backends.jax``, ``neuralmag.backends.torch``) exposes a ``backend`` object
with the small array interface the core needs (tensor creation, conversion, a few reductions, ``jit``) and
the code printer that turns the backend-neutral kernel IR of :mod:`neuralmag.forms` into source.

Backends are imported lazily by :func:`get_backend`, so ``import neuralmag`` never imports a framework
that the script does not use.
"""

from __future__ import annotations

import importlib

import numpy as np

__all__ = ["AVAILABLE_BACKENDS", "get_backend", "to_numpy"]

AVAILABLE_BACKENDS = ("jax", "torch")


def get_backend(name: str):
    """Return the backend object for ``name`` (``"jax"`` or ``"torch"``), importing it on first use."""
    if name not in AVAILABLE_BACKENDS:
        raise ValueError(f"Unknown backend {name!r}; valid values are: {', '.join(map(repr, AVAILABLE_BACKENDS))}.")
    try:
        module = importlib.import_module(f"neuralmag.backends.{name}")
    except ImportError as err:  # the framework itself is missing
        raise ImportError(
            f"The {name!r} backend needs the {name} package; install it with `pip install neuralmag[{name}]`."
        ) from err
    return module.backend


def to_numpy(x):
    """``x`` — a NumPy array, a number, or a tensor of a framework that is already imported (detached from any
    autograd graph, moved to the host) — as a NumPy array. Imports no framework."""
    import sys

    for name in AVAILABLE_BACKENDS:
        if name in sys.modules:
            backend = get_backend(name)
            if backend.is_tensor(x):
                return backend.to_numpy(x)
    return np.asarray(x)
