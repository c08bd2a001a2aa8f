"""Pointwise vector algebra on nodal fields (components in the last axis), backend-neutral."""

from __future__ import annotations

__all__ = ["dot", "cross", "normalize", "relative_torque"]


def dot(a, b):
    return (a * b).sum(-1)


def cross(backend, a, b):
    ax, ay, az = a[..., 0], a[..., 1], a[..., 2]
    bx, by, bz = b[..., 0], b[..., 1], b[..., 2]
    return backend.stack([ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx], -1)


def normalize(backend, m):
    """``m / |m|`` where ``|m| > 0``; zero vectors (non-magnetic nodes) stay zero."""
    norm = backend.sqrt(dot(m, m))
    return m / (norm + (norm == 0))[..., None]


def relative_torque(backend, m, h):
    r""":math:`|\mathbf{m}\times\mathbf{h}| / |\mathbf{h}|` per node (0 where h vanishes)."""
    t = backend.sqrt(dot(*(cross(backend, m, h),) * 2))
    hn = backend.sqrt(dot(h, h))
    return t / (hn + (hn == 0))
