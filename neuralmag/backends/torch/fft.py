"""FFT convolution helpers of the PyTorch backend (``state.backend.fft``).

The FFT field terms (demagnetisation, Oersted) are written against this small, differentiable interface so
that they stay backend-neutral; :mod:`neuralmag.backends.jax.fft` has the same functions. Every function is
out of place, so autograd can differentiate through it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["rfftn", "irfftn", "rfft", "irfft", "fft", "ifft", "crop", "roll", "pad", "permute", "moveaxis", "value_axis_first", "value_axis_last", "spectrum", "real_times"]


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


def value_axis_first(x):
    """``x`` (value axis last, a nodal field) with that axis moved to the front, as a contiguous tensor: whole
    component planes for the FFT convolution."""
    return torch.movedim(x, -1, 0).contiguous()


def value_axis_last(x):
    """``x`` (value axis first) with that axis moved to the end, as a contiguous tensor: the layout of nodal
    fields, so that the arithmetic that follows runs on contiguous memory."""
    return torch.movedim(x, 0, -1).contiguous()


def spectrum(c):
    """A real kernel spectrum in the form :func:`real_times` takes: complex, with zero imaginary part.

    Eager PyTorch multiplies two complex tensors of the same shape about 6x faster than it scales the
    real/imaginary view ``view_as_real(z)`` by ``c[..., None]`` (broadcasting along the trailing length-2
    axis) and 1.5x faster than ``c * z`` with a real ``c``, which promotes ``c`` on every call (256^2 film,
    float32: 250 / 44 / 30 us per product; benchmarks page). The price is twice the kernel's memory."""
    return c.to(torch.complex128 if c.dtype == torch.float64 else torch.complex64)


def real_times(c, z):
    """Product of a kernel spectrum ``c`` (from :func:`spectrum`; a real array works too) and a complex
    array ``z`` of the same shape."""
    return c * z
