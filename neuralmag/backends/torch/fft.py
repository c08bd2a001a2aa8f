"""FFT convolution helpers of the PyTorch backend (``state.backend.fft``).

The FFT field terms (demagnetisation, Oersted) are written against this small, differentiable interface so
that they stay backend-neutral; :mod:`neuralmag.backends.jax.fft` has the same functions. Every function is
out of place, so autograd can differentiate through it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["rfftn", "irfftn", "rfft", "irfft", "fft", "ifft", "crop", "roll", "pad", "permute", "moveaxis", "real_times"]


def rfftn(x, shape, axes):
    """Real FFT of ``x`` over ``axes``, zero-padded (at the end) to the lengths ``shape`` (one per axis)."""
    return torch.fft.rfftn(x, s=tuple(shape), dim=tuple(axes))


def irfftn(x, shape, axes):
    """Inverse of :func:`rfftn`: a real array with lengths ``shape`` along ``axes``."""
    return torch.fft.irfftn(x, s=tuple(shape), dim=tuple(axes))


def rfft(x, n: int, axis: int):
    """Real FFT of ``x`` along ``axis``, zero-padded (at the end) to length ``n``."""
    return torch.fft.rfft(x, n=n, dim=axis)


def irfft(x, n: int, axis: int):
    """Inverse of :func:`rfft`: a real array of length ``n`` along ``axis``."""
    return torch.fft.irfft(x, n=n, dim=axis)


def fft(x, n: int, axis: int):
    """Complex FFT of ``x`` along ``axis``, zero-padded (at the end) to length ``n``."""
    return torch.fft.fft(x, n=n, dim=axis)


def ifft(x, n: int, axis: int):
    """Inverse complex FFT along ``axis`` (length ``n``)."""
    return torch.fft.ifft(x, n=n, dim=axis)


def crop(x, axis: int, n: int):
    """The first ``n`` entries of ``x`` along ``axis``."""
    return x[(slice(None),) * (axis % x.ndim) + (slice(0, n),)]


def roll(x, shift: int, axis: int):
    """``x`` shifted cyclically by ``shift`` along ``axis`` (``out[i] = x[i - shift]``)."""
    return torch.roll(x, shift, dims=axis)


def pad(x, axis: int, before: int, after: int):
    """``x`` with ``before`` zeros prepended and ``after`` zeros appended along ``axis``."""
    axis = axis % x.ndim
    widths = [0, 0] * (x.ndim - axis)  # F.pad lists the last axis first
    widths[-2:] = [before, after]
    return F.pad(x, widths)


def permute(x, order):
    """``x`` with its axes in the order ``order`` (``out.shape[i] = x.shape[order[i]]``)."""
    return x.permute(tuple(order))


def moveaxis(x, source: int, destination: int):
    """``x`` with axis ``source`` moved to position ``destination``, the others in their order."""
    return torch.movedim(x, source, destination)


def real_times(c, z):
    """Product of a real array ``c`` (a kernel spectrum) and a complex array ``z`` of the same shape.

    ``c * z`` would first convert ``c`` to a complex copy (type promotion, one more pass over memory per
    product); here the real and imaginary parts of ``z`` (a view) are scaled directly."""
    return torch.view_as_complex(torch.view_as_real(z) * c.unsqueeze(-1))
