"""FFT convolution helpers of the JAX backend (``state.backend.fft``).

The FFT field terms (demagnetisation, Oersted) are written against this small, differentiable interface so
that they stay backend-neutral; :mod:`neuralmag.backends.torch.fft` has the same functions.
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["rfftn", "irfftn", "rfft", "irfft", "fft", "ifft", "crop", "roll", "pad", "permute", "moveaxis", "value_axis_first", "value_axis_last", "spectrum", "real_times"]


def rfftn(x, shape, axes):
    """Real FFT of ``x`` over ``axes``, zero-padded (at the end) to the lengths ``shape`` (one per axis)."""
    return jnp.fft.rfftn(x, s=tuple(shape), axes=tuple(axes))


def irfftn(x, shape, axes):
    """Inverse of :func:`rfftn`: a real array with lengths ``shape`` along ``axes``."""
    return jnp.fft.irfftn(x, s=tuple(shape), axes=tuple(axes))


def rfft(x, n: int, axis: int):
    """Real FFT of ``x`` along ``axis``, zero-padded (at the end) to length ``n``."""
    return jnp.fft.rfft(x, n=n, axis=axis)


def irfft(x, n: int, axis: int):
    """Inverse of :func:`rfft`: a real array of length ``n`` along ``axis``."""
    return jnp.fft.irfft(x, n=n, axis=axis)


def fft(x, n: int, axis: int):
    """Complex FFT of ``x`` along ``axis``, zero-padded (at the end) to length ``n``."""
    return jnp.fft.fft(x, n=n, axis=axis)


def ifft(x, n: int, axis: int):
    """Inverse complex FFT along ``axis`` (length ``n``)."""
    return jnp.fft.ifft(x, n=n, axis=axis)


def crop(x, axis: int, n: int):
    """The first ``n`` entries of ``x`` along ``axis``."""
    return x[(slice(None),) * (axis % x.ndim) + (slice(0, n),)]


def roll(x, shift: int, axis: int):
    """``x`` shifted cyclically by ``shift`` along ``axis`` (``out[i] = x[i - shift]``)."""
    return jnp.roll(x, shift, axis=axis)


def pad(x, axis: int, before: int, after: int):
    """``x`` with ``before`` zeros prepended and ``after`` zeros appended along ``axis``."""
    widths = [(0, 0)] * x.ndim
    widths[axis] = (before, after)
    return jnp.pad(x, widths)


def permute(x, order):
    """``x`` with its axes in the order ``order`` (``out.shape[i] = x.shape[order[i]]``)."""
    return jnp.transpose(x, tuple(order))


def moveaxis(x, source: int, destination: int):
    """``x`` with axis ``source`` moved to position ``destination``, the others in their order."""
    return jnp.moveaxis(x, source, destination)


def value_axis_first(x):
    """``x`` (value axis last) with that axis moved to the front."""
    return jnp.moveaxis(x, -1, 0)


def value_axis_last(x):
    """``x`` (value axis first) with that axis moved to the end."""
    return jnp.moveaxis(x, 0, -1)


def spectrum(c):
    """A real kernel spectrum in the form :func:`real_times` takes (unchanged: XLA fuses the real-complex
    product)."""
    return c


def real_times(c, z):
    """Product of a real array ``c`` (a kernel spectrum) and a complex array ``z`` of the same shape."""
    return c * z
