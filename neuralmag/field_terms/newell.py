r"""The demagnetisation tensor of cuboid cells (NumPy, float64).

The cell-averaged demagnetisation tensor of Newell, Williams and Dunlop (J. Geophys. Res. 98, 9551 (1993)):
:math:`N_{ij}(\mathbf{R})` is minus the average over a target cell of the field of a uniformly (unit)
magnetised source cell of the same size whose centre is displaced by :math:`-\mathbf{R}`, i.e. the field of
cell :math:`c'` averaged over cell :math:`c` is
:math:`\mathbf{h}_c = -N(\mathbf{r}_c - \mathbf{r}_{c'})\,\mathbf{M}_{c'}`.

Near field (:math:`|\mathbf{R}| \le` :func:`switch_radius`): the exact formula, a sixth-order difference
(second difference along each axis) of Newell's functions :math:`f` (diagonal) and :math:`g` (off-diagonal),
evaluated once on the grid of cell offsets. The difference cancels :math:`\sim (R/\Delta x)^6` of the magnitude
of the function values, so it loses digits far away.

Far field (beyond :func:`switch_radius`, ``p = 6`` geometric-mean cell sizes by default): the exact kernel is
the dipole kernel integrated against the *tent* function (the convolution of two boxes,
:math:`\prod_k (\Delta x_k - |s_k|)_+`). A ``q``-point Gauss rule per axis for the tent weight (``q**3``
point dipoles) approximates it with relative error :math:`\approx C_q (\Delta x_{max}/R)^{2q}`; ``q`` drops
from 8 near the switch to 3 beyond 70 cells and 2 beyond 900 cells, keeping the far field within ~1e-12.
(A single point dipole, ``q = 1``, is wrong by ~2e-5 at 10 cells for cubic cells and ~4e-3 for 1:5 flat ones.)
Measured against the Newell formula in 50-digit arithmetic, the kernel is accurate to ~5e-11 relative for
cells of aspect ratio up to 1:10 (3e-10 for 1:20).

Symmetry: diagonal components are even in every coordinate; :math:`N_{xy}` is odd in x and y and even in z,
:math:`N_{xz}` odd in x and z, :math:`N_{yz}` odd in y and z. Only the octant of non-negative offsets is
computed; the rest is mirrored. Hence the discrete Fourier transforms of all six components are real.

Components are stored in the order ``xx, yy, zz, xy, xz, yz`` along the *first* axis (each component
contiguous).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "COMPONENTS", "ODD_AXES", "switch_radius", "newell_f", "newell_g", "newell_tensor", "dipole_tensor",
    "octant", "near_far_octant", "real_space_kernel", "kernel_spectrum", "real_spectrum", "assemble",
    "octant_counts", "check_images", "fft_size", "padded_shape", "fft_axes",
]

COMPONENTS = ("xx", "yy", "zz", "xy", "xz", "yz")
#: for each component, the coordinate axes in which it is odd
ODD_AXES = ((), (), (), (0, 1), (0, 2), (1, 2))

# Gauss rules for the weight 1 - |t| on [-1, 1] (q nodes, exact up to degree 2q - 1), computed from the
# moments in 60-digit arithmetic: {q: (nodes, weights)}
_TENT_RULES = {
    1: ((0.0,), (1.0,)),
    2: ((-0.408248290463863, 0.408248290463863), (0.5, 0.5)),
    3: ((-0.6324555320336759, 0.0, 0.6324555320336759),
        (0.20833333333333334, 0.5833333333333334, 0.20833333333333334)),
    4: ((-0.7509251433044474, -0.26222984265274796, 0.26222984265274796, 0.7509251433044474),
        (0.09886630457987562, 0.4011336954201244, 0.4011336954201244, 0.09886630457987562)),
    5: ((-0.8214405997383816, -0.44992035245984197, 0.0, 0.44992035245984197, 0.8214405997383816),
        (0.05165825776549062, 0.2394732407054574, 0.41773700305810396, 0.2394732407054574,
         0.05165825776549062)),
    6: ((-0.865738294978819, -0.5766148082484873, -0.1942636767750389, 0.1942636767750389,
         0.5766148082484873, 0.865738294978819),
        (0.029496561655309346, 0.14748123370527286, 0.32302220463941783, 0.32302220463941783,
         0.14748123370527286, 0.029496561655309346)),
    8: ((-0.9164986017818234, -0.7301261104488862, -0.464700844889639, -0.15462908084026114,
         0.15462908084026114, 0.464700844889639, 0.7301261104488862, 0.9164986017818234),
        (0.011529448606035851, 0.062272586069543355, 0.1575842337133804, 0.2686137316110404,
         0.2686137316110404, 0.1575842337133804, 0.062272586069543355, 0.011529448606035851)),
}
#: (from distance R / max(dx), nodes per axis): relative error of the far field below ~1e-12 (measured
#: against the Newell formula in 50-digit arithmetic for cubic, flat and elongated cells)
_FAR_ORDERS = ((900.0, 2), (70.0, 3), (25.0, 4), (12.0, 5), (6.0, 6), (0.0, 8))
#: the far field is never used closer than this many times the largest cell size
_MIN_FAR = 3.0

# ---------------------------------------------------------------------------------------------- Newell f, g
def _safe(d):
    """Denominator with zeros replaced by 1 (used where the prefactor of the term vanishes there)."""
    return np.where(d != 0, d, 1.0)


def newell_f(x, y, z):
    r"""Newell's :math:`f(x, y, z)`: :math:`N_{xx}` is its sixth-order difference (even in x, y and z)."""
    x, y, z = np.abs(x), np.abs(y), np.abs(z)
    x2, y2, z2 = x * x, y * y, z * z
    r = np.sqrt(x2 + y2 + z2)
    result = (2.0 * x2 - y2 - z2) * r / 6.0
    # every term's prefactor vanishes where its denominator does
    result = result + 0.5 * y * (z2 - x2) * np.arcsinh(y / _safe(np.sqrt(x2 + z2)))
    result = result + 0.5 * z * (y2 - x2) * np.arcsinh(z / _safe(np.sqrt(x2 + y2)))
    result = result - x * y * z * np.arctan(y * z / _safe(x * r))
    return result


def newell_g(x, y, z):
    r"""Newell's :math:`g(x, y, z)`: :math:`N_{xy}` is its sixth-order difference (odd in x and y, even in z)."""
    z = np.abs(z)
    x2, y2, z2 = x * x, y * y, z * z
    r = np.sqrt(x2 + y2 + z2)
    result = -x * y * r / 3.0
    result = result + x * y * z * np.arcsinh(z / _safe(np.sqrt(x2 + y2)))
    result = result + y / 6.0 * (3.0 * z2 - y2) * np.arcsinh(x / _safe(np.sqrt(y2 + z2)))
    result = result + x / 6.0 * (3.0 * z2 - x2) * np.arcsinh(y / _safe(np.sqrt(x2 + z2)))
    result = result - z * z2 / 6.0 * np.arctan(x * y / _safe(z * r))
    result = result - 0.5 * z * y2 * np.arctan(x * z / _safe(y * r))
    result = result - 0.5 * z * x2 * np.arctan(y * z / _safe(x * r))
    return result


def _second_differences(values):
    """Second difference along each of the three axes (shrinks each axis by 2)."""
    v = values[:-2] - 2.0 * values[1:-1] + values[2:]
    v = v[:, :-2] - 2.0 * v[:, 1:-1] + v[:, 2:]
    return v[:, :, :-2] - 2.0 * v[:, :, 1:-1] + v[:, :, 2:]


def newell_tensor(counts, dx):
    """Exact Newell tensor on the offsets ``(i dx, j dy, k dz)``, ``0 <= i < counts[0]`` etc.

    Returns an array of shape ``(6,) + counts``. Each Newell function is evaluated once per grid point.
    """
    dx = np.asarray(dx, dtype=np.float64)
    axes = [np.arange(-1, c + 1, dtype=np.float64) * d for c, d in zip(counts, dx)]
    x, y, z = np.meshgrid(*axes, indexing="ij", sparse=True)
    scale = -1.0 / (4.0 * math.pi * float(np.prod(dx)))
    out = np.empty((6,) + tuple(counts))
    out[0] = _second_differences(newell_f(x, y, z)) * scale
    out[1] = _second_differences(newell_f(y, x, z)) * scale
    out[2] = _second_differences(newell_f(z, y, x)) * scale
    out[3] = _second_differences(newell_g(x, y, z)) * scale
    out[4] = _second_differences(newell_g(x, z, y)) * scale
    out[5] = _second_differences(newell_g(y, z, x)) * scale
    return out


def dipole_tensor(x, y, z, dx, q=3):
    r"""Far-field approximation of the Newell tensor at offsets ``(x, y, z)`` (broadcast arrays, m).

    The exact tensor is the dipole kernel averaged with the tent weight (the overlap of two cells),

    .. math::
        N(\mathbf{R}) = -\frac{V}{4\pi} \int \mathrm{tent}(\mathbf{s})\,
        \left(\frac{3 \mathbf{r}\mathbf{r}^T}{r^5} - \frac{I}{r^3}\right)_{\mathbf{r} = \mathbf{R} + \mathbf{s}}
        \mathrm{d}\mathbf{s},

    here integrated by a ``q``-point Gauss rule per axis (``q**3`` point dipoles; ``q = 1`` is the point
    dipole). Its relative error is about :math:`C_q (\Delta x_{max} / R)^{2q}`. Returns ``(6,) + shape``.
    """
    dx = [float(d) for d in dx]
    x, y, z = (np.asarray(v, dtype=np.float64) for v in (x, y, z))
    nodes, weights = _TENT_RULES[int(q)]
    rule_z = list(zip(nodes, weights))
    in_plane = not np.any(z)
    if in_plane:  # z = 0: the nodes +-t give equal xx, yy, zz, xy and opposite xz, yz contributions
        rule_z = [(t, w if t == 0 else 2.0 * w) for t, w in rule_z if t >= 0]
    shape = np.broadcast_shapes(x.shape, y.shape, z.shape)
    out = np.zeros((6,) + shape)
    prefactor = -float(np.prod(dx)) / (4.0 * math.pi)
    for tx, wx in zip(nodes, weights):
        rx = x + tx * dx[0]
        for ty, wy in zip(nodes, weights):
            ry = y + ty * dx[1]
            rxy2 = rx * rx + ry * ry
            for tz, wz in rule_z:
                rz = z + tz * dx[2]
                inv_r2 = 1.0 / (rxy2 + rz * rz)
                a = (prefactor * wx * wy * wz) * inv_r2 * np.sqrt(inv_r2)  # w / r^3
                b = 3.0 * a * inv_r2  # 3 w / r^5
                bx, by = b * rx, b * ry
                out[0] += bx * rx - a
                out[1] += by * ry - a
                out[2] += b * rz * rz - a
                out[3] += bx * ry
                if not in_plane:
                    out[4] += bx * rz
                    out[5] += by * rz
    return out


# ---------------------------------------------------------------------------------------------- assembly
def switch_radius(dx, p=6.0) -> float:
    r"""Distance (m) beyond which :func:`octant` uses the far field: ``p`` geometric-mean cell sizes
    :math:`p\,(\Delta x \Delta y \Delta z)^{1/3}`, but at least ``3 max(dx)``.

    The rounding error of the Newell formula grows like :math:`10^{-15} R^6 / V^2`, which is why the switch
    is measured in units of :math:`V^{1/3}`. For ``p = 6`` the kernel is accurate to about 5e-11 relative
    (3e-10 for cells flatter than 1:10), measured against the Newell formula in 50-digit arithmetic.
    """
    return max(float(p) * float(np.prod(dx)) ** (1.0 / 3.0), _MIN_FAR * max(dx))


def octant(counts, dx, p=6.0):
    """Tensor on the non-negative offsets ``0 <= i_k < counts[k]`` (float64, ``(6,) + counts``).

    Exact (Newell) where ``R <= switch_radius(dx, p)``; beyond, :func:`dipole_tensor` with the number of
    nodes per axis chosen by the distance (``_FAR_ORDERS``) to keep its error near 1e-12.
    """
    return near_far_octant(counts, dx, switch_radius(dx, p), newell_tensor, dipole_tensor, ODD_AXES)


def near_far_octant(counts, dx, radius, exact, far, odd_axes):
    """A kernel on the non-negative offsets ``0 <= i_k < counts[k]``, shape ``(ncomp,) + counts``.

    ``exact(counts, dx)`` gives the kernel on a box of offsets (used within ``radius``, m), ``far(x, y, z,
    dx, q)`` at scattered offsets with ``q`` quadrature nodes per axis (chosen by ``_FAR_ORDERS``).
    Components odd along an axis (``odd_axes``) are set to exactly zero on that axis' zero plane.
    """
    counts = tuple(int(c) for c in counts)
    dx = tuple(float(d) for d in dx)
    dmax = max(dx)
    near = tuple(min(c, int(math.floor(radius / d)) + 1) for c, d in zip(counts, dx))
    if near == counts:
        return _zero_odd_planes(exact(counts, dx), odd_axes)
    out = np.empty((len(odd_axes),) + counts)
    x, y, z = (np.arange(c, dtype=np.float64)[tuple(slice(None) if k == a else None for a in range(3))] * d
               for k, (c, d) in enumerate(zip(counts, dx)))
    dist = np.sqrt(x * x + y * y + z * z) / dmax  # distance in units of the largest cell size
    upper = np.inf
    for lower, q in _FAR_ORDERS:
        lower = max(lower, radius / dmax)
        if lower >= upper:
            continue
        idx = np.nonzero((dist > lower) & (dist <= upper))
        if idx[0].size:
            out[(slice(None),) + idx] = far(idx[0] * dx[0], idx[1] * dx[1], idx[2] * dx[2], dx, q)
        upper = lower
    box = tuple(slice(0, m) for m in near)
    inside = dist[box] <= radius / dmax
    out[(slice(None),) + box][:, inside] = exact(near, dx)[:, inside]
    return _zero_odd_planes(out, odd_axes)


def _zero_odd_planes(out, odd_axes):
    """Exact zeros on the planes where a component is odd (rounding leaves ~1e-22 in the far field)."""
    for comp, odd in enumerate(odd_axes):
        for axis in odd:
            out[(comp,) + (slice(None),) * axis + (0,)] = 0.0
    return out


def _parity(axis, odd_axes):
    """Sign of each component under x_axis -> -x_axis."""
    return np.array([-1.0 if axis in odd else 1.0 for odd in odd_axes])


def fft_size(n: int) -> int:
    """Smallest 7-smooth integer >= n (sizes the FFT libraries handle fast)."""
    m = max(int(n), 1)
    while True:
        k = m
        for f in (2, 3, 5, 7):
            while k % f == 0:
                k //= f
        if k == 1:
            return m
        m += 1


def padded_shape(n, pbc=None) -> tuple:
    """FFT grid: ``n`` along periodic axes, at least ``2 n - 1`` (zero-padded, 7-smooth) along the others."""
    pbc = tuple(pbc) if pbc is not None else (False,) * len(n)
    return tuple(int(c) if p else fft_size(2 * int(c) - 1) for c, p in zip(n, pbc))


def fft_axes(shape) -> tuple:
    """Mesh axes that are transformed: those of FFT length > 1 (a length-1 DFT is the identity)."""
    return tuple(k for k, size in enumerate(shape) if size > 1)


def check_images(pbc, images) -> tuple:
    """Number of periodic images per mesh axis (0 along non-periodic axes; default 10)."""
    if images is None:
        images = 10
    if np.ndim(images) == 0:
        images = (int(images),) * len(pbc)
    images = tuple(int(i) for i in images)
    if len(images) != len(pbc):
        raise ValueError(f"pbc_images needs one entry per mesh axis ({len(pbc)}); got {images}.")
    if any(i < 0 for i in images):
        raise ValueError(f"pbc_images must be non-negative; got {images}.")
    return tuple(i if p else 0 for i, p in zip(images, pbc))


def _fold(values, axis, n, odd_axes):
    """Sum the periodic images along a periodic axis: non-negative offsets ``0 .. c-1`` -> ``n`` residues.

    Offsets ``-(c-1) .. c-1`` contribute to residue ``offset mod n``, negative ones through the parity of
    each component; for even ``n`` the two end offsets ``+-(c-1)`` count half (see :func:`real_space_kernel`).
    """
    c = values.shape[axis + 1]
    v = np.moveaxis(values, axis + 1, 0)  # (c, ncomp, ...)
    if n % 2 == 0 and c > 1:
        v = v.copy()
        v[-1] *= 0.5
    v = np.pad(v, [(0, -c % n)] + [(0, 0)] * (v.ndim - 1))
    positive = v.reshape((-1, n) + v.shape[1:]).sum(axis=0)  # offsets 0 .. c-1 by residue
    negative = positive.copy()
    negative[0] -= v[0]  # offsets 1 .. c-1 by residue; offset -m has residue -m mod n
    parity = _parity(axis, odd_axes).reshape((len(odd_axes),) + (1,) * (v.ndim - 2))
    negative = negative[(-np.arange(n)) % n] * parity
    return np.moveaxis(positive + negative, 0, axis + 1)


def octant_counts(n, pbc, images) -> tuple:
    """Non-negative offsets needed along each of the three axes (``images`` from :func:`check_images`)."""
    counts = [1, 1, 1]
    for k in range(len(n)):
        counts[k] = images[k] * n[k] + n[k] // 2 + 1 if pbc[k] else n[k]
    return tuple(counts)


def assemble(values, n, pbc, odd_axes):
    """Kernel on the FFT grid from its values on the non-negative offsets (``(ncomp,) + octant_counts``).

    Periodic axes: images folded onto the ``n`` residues. Non-periodic axes: offsets ``0 .. n-1`` at the
    start, ``-(n-1) .. -1`` at the end (mirrored with the parity of each component), zeros between.
    """
    n = tuple(int(c) for c in n)
    dim = len(n)
    ncomp = len(odd_axes)
    shape = padded_shape(n, pbc)
    values = values.reshape((ncomp,) + values.shape[1:dim + 1])  # drop the missing axes
    for k in range(dim):
        if pbc[k]:
            values = _fold(values, k, n[k], odd_axes)
    out = np.zeros((ncomp,) + shape)
    mirrored = [k for k in range(dim) if not pbc[k] and n[k] > 1]
    for signs in np.ndindex(*(2,) * len(mirrored)):
        src, dst = [slice(None)] * (dim + 1), [slice(None)] * (dim + 1)
        sign = np.ones(ncomp)
        for k, negative in zip(mirrored, signs):
            if negative:
                src[k + 1], dst[k + 1] = slice(n[k] - 1, 0, -1), slice(shape[k] - n[k] + 1, shape[k])
                sign = sign * _parity(k, odd_axes)
            else:
                src[k + 1], dst[k + 1] = slice(0, n[k]), slice(0, n[k])
        block = values[tuple(src)]
        out[tuple(dst)] = block if np.all(sign == 1) else block * sign.reshape((ncomp,) + (1,) * dim)
    return out


def real_space_kernel(n, dx, pbc=None, p=6.0, images=None):
    r"""The demag tensor on the FFT grid of a mesh (float64, shape ``(6,) + padded_shape(n, pbc)``).

    Args:
        n: cells per mesh axis (1 to 3 numbers); missing axes are one cell of size ``dx[k]``.
        dx: cell size (3 numbers, m).
        pbc: periodic mesh axes. Along a periodic axis of ``n`` cells the entry for offset ``k`` is
            :math:`\sum_{i=-K}^{K} N((k + i n) \Delta x)` with ``k`` the minimal-image offset in
            ``(-n/2, n/2]`` (for even ``n`` the offset ``n/2`` takes half of each of the two end images,
            which keeps the kernel symmetric).
        p: near/far switch distance in geometric-mean cell sizes (see :func:`switch_radius`).
        images: ``K``, the number of periodic images on each side (a number or one per axis; default 10).

    Entry ``j`` along a non-periodic axis holds offset ``j`` for ``j < n`` and ``j - P`` for ``j > P - n``;
    between them (zero padding) it is zero.
    """
    n = tuple(int(c) for c in n)
    pbc = tuple(bool(b) for b in pbc) if pbc is not None else (False,) * len(n)
    images = check_images(pbc, images)
    return assemble(octant(octant_counts(n, pbc, images), dx, p), n, pbc, ODD_AXES)


def kernel_spectrum(n, dx, pbc=None, p=6.0, images=None):
    """Real DFT of :func:`real_space_kernel`: ``(6,) + spectral shape`` (float64).

    ``rfftn`` over :func:`fft_axes` of the padded shape (the last of them is halved); the kernel's parity
    makes the spectrum real up to rounding, and the imaginary part is dropped.
    """
    return real_spectrum(real_space_kernel(n, dx, pbc, p, images))


def real_spectrum(kernel, imaginary=False):
    """``rfftn`` of a kernel ``(ncomp,) + FFT grid`` over :func:`fft_axes`; its real part (or, for kernels
    odd along exactly one axis per component, the imaginary part)."""
    axes = fft_axes(kernel.shape[1:])
    if not axes:
        return np.zeros_like(kernel) if imaginary else kernel
    spectrum = np.fft.rfftn(kernel, axes=tuple(a + 1 for a in axes))
    return np.ascontiguousarray(spectrum.imag if imaginary else spectrum.real)
