"""FFT convolution helpers of the PyTorch backend (``state.backend.fft``).

The FFT field terms (demagnetisation, Oersted) are written against this small, differentiable interface so
that they stay backend-neutral; :mod:`neuralmag.backends.jax.fft` has the same functions. Every function is
out of place, so autograd can differentiate through it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["rfftn", "irfftn", "roll", "pad"]


def rfftn(x, shape, axes):
    """Real FFT of ``x`` over ``axes``, zero-padded (at the end) to the lengths ``shape`` (one per axis)."""
    return torch.fft.rfftn(x, s=tuple(shape), dim=tuple(axes))


def irfftn(x, shape, axes):
    """Inverse of :func:`rfftn`: a real array with lengths ``shape`` along ``axes``."""
    return torch.fft.irfftn(x, s=tuple(shape), dim=tuple(axes))


def roll(x, shift: int, axis: int):
    """``x`` shifted cyclically by ``shift`` along ``axis`` (``out[i] = x[i - shift]``)."""
    return torch.roll(x, shift, dims=axis)


def pad(x, axis: int, before: int, after: int):
    """``x`` with ``before`` zeros prepended and ``after`` zeros appended along ``axis``."""
    axis = axis % x.ndim
    widths = [0, 0] * (x.ndim - axis)  # F.pad lists the last axis first
    widths[-2:] = [before, after]
    return F.pad(x, widths)
