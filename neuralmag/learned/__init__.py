"""Learned operators: networks that trade accuracy for speed, trained on NeuralMag's own simulations.

- :mod:`neuralmag.learned.unet`: the U-Net demagnetisation surrogate of Cai, Li and Wang (NeuralMAG, 2024),
  used through the field term :class:`neuralmag.UNetDemagField`.
- :mod:`neuralmag.learned.latent`: latent-space reduced-order dynamics (Kovacs et al., 2019),
  :class:`LatentDynamics`.

Networks are pure functions of a parameter dictionary written against ``state.backend.nn``, so weights trained
with PyTorch run on both backends; they are stored as ``.npz`` files (no framework needed to read them).
Submodules are imported on first use, so ``import neuralmag`` imports neither framework.
"""

from __future__ import annotations

import importlib

_LAZY = {"LatentDynamics": "latent", "unet": "unet", "latent": "latent"}

__all__ = ["LatentDynamics", "unet", "latent"]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'neuralmag.learned' has no attribute {name!r}")
    module = importlib.import_module(f"neuralmag.learned.{_LAZY[name]}")
    return module if name == _LAZY[name] else getattr(module, name)
