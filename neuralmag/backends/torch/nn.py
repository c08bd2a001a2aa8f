"""Neural-network primitives of the PyTorch backend (``state.backend.nn``).

The learned operators in :mod:`neuralmag.learned` are written once, as pure functions of a parameter
dictionary, against this small interface; :mod:`neuralmag.backends.jax.nn` has the same functions, so a network
trained with PyTorch runs unchanged on JAX. Layout is channels-first (``N, C, H, W``) and weights use PyTorch's
layout: ``(C_out, C_in, kh, kw)`` for convolutions, ``(C_in, C_out, kh, kw)`` for transposed convolutions and
``(out, in)`` for dense layers.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["conv2d", "conv_transpose2d", "avg_pool2d", "linear", "elu", "relu", "pad2d", "asarray"]


def asarray(x, like=None):
    """``x`` (array-like) as a tensor with the dtype and device of ``like`` (when given)."""
    if like is None:
        return torch.as_tensor(x)
    return torch.as_tensor(x, dtype=like.dtype, device=like.device)


def conv2d(x, w, b=None, stride: int = 1, padding: int = 0, impl: str | None = None):
    """2D cross-correlation, ``out[n,o,i,j] = b[o] + Σ_{c,a,b} w[o,c,a,b] x[n,c,s i+a-p, s j+b-p]`` (zero padding).
    ``impl`` is accepted for symmetry with the JAX backend and ignored."""
    return F.conv2d(x, w, b, stride=stride, padding=padding)


def conv_transpose2d(x, w, b=None, stride: int = 1, padding: int = 0, output_padding: int = 0,
                     impl: str | None = None):
    """Transposed convolution (the adjoint of :func:`conv2d` with the same ``w``, ``stride`` and ``padding``)."""
    return F.conv_transpose2d(x, w, b, stride=stride, padding=padding, output_padding=output_padding)


def avg_pool2d(x, k: int):
    """Mean over non-overlapping ``k × k`` windows (``H`` and ``W`` must be multiples of ``k``)."""
    return F.avg_pool2d(x, k)


def linear(x, w, b=None):
    """Dense layer ``x wᵀ + b`` over the last axis."""
    return F.linear(x, w, b)


def elu(x):
    """Exponential linear unit, ``x`` for ``x > 0`` and ``eˣ − 1`` otherwise."""
    return F.elu(x)


def relu(x):
    """``max(x, 0)``."""
    return F.relu(x)


def pad2d(x, top: int, bottom: int, left: int, right: int):
    """Zero padding of the last two axes."""
    return F.pad(x, (left, right, top, bottom))
