r"""Oersted field (issue 4): analytic cuboid kernel, FFT convolution, infinite wire, energy consistency.

References: the kernel at touching and nearby cells from adaptive numerical integration of the Biot–Savart
double cell average (scipy ``nquad``, tolerance 1e-12; values stored below), the field of a long straight
wire :math:`I / (2\pi\rho)`, a direct O(N^2) sum over cell pairs, and autodiff of the energy.
"""

import itertools

import numpy as np
import pytest

import neuralmag as nm
from neuralmag.field_terms import newell
from neuralmag.field_terms.oersted import (OerstedField, oersted_exact, oersted_far, oersted_octant,
                                           oersted_real_space_kernel)
from tests.utils import energy_and_gradient, to_numpy

MU0 = 4e-7 * np.pi
MS = 8e5

# G(i dx, j dy, k dz) for dx = (1, 1.3, 0.7) by scipy.integrate.nquad of
# V * int tent(s) (R + s) / (4 pi |R + s|^3) ds over the 8 octants of s (epsrel 1e-12)
NQUAD_DX = (1.0, 1.3, 0.7)
NQUAD = {
    (1, 0, 0): (0.06753417349283898, 0.0, 0.0),
    (1, 1, 1): (0.014026714687883288, 0.01643148998595763, 0.010858605961899668),
    (2, 1, 0): (0.01110001508848077, 0.0067519221112125275, 0.0),
}


def test_kernel_touching_cells():
    exact = oersted_exact((3, 3, 3), NQUAD_DX)
    for idx, values in NQUAD.items():
        np.testing.assert_allclose(exact[(slice(None),) + idx], values, rtol=1e-12, atol=1e-16)
    assert np.all(exact[:, 0, 0, 0] == 0)


@pytest.mark.parametrize("dx", [(1.0, 1.0, 1.0), (1.0, 1.0, 0.2), (1.0, 2.0, 3.0)])
def test_kernel_near_far(dx):
    """The exact formula and the far-field quadrature agree just beyond the switch (both ~1e-10 there)."""
    counts = (30, 30, 20)
    radius = newell.switch_radius(dx)
    box = tuple(min(c, int(1.5 * radius / d) + 1) for c, d in zip(counts, dx))
    exact = oersted_exact(box, dx)
    x, y, z = np.meshgrid(*[np.arange(c) * d for c, d in zip(box, dx)], indexing="ij")
    far = oersted_far(x, y, z, dx, 8)
    r = np.sqrt(x**2 + y**2 + z**2)
    shell = (r > radius) & (r <= 1.5 * radius)
    assert shell.sum() > 10
    assert np.max(np.abs(exact - far).max(axis=0)[shell] / np.abs(far).max(axis=0)[shell]) < 1e-9
    # the assembled octant switches between the two
    octant = oersted_octant(counts, dx)
    np.testing.assert_allclose(octant[(slice(None),) + tuple(slice(0, c) for c in box)][:, shell], far[:, shell],
                               rtol=0, atol=1e-9 * np.abs(far).max())


def test_kernel_parity_and_spectrum():
    kernel = oersted_real_space_kernel((5, 4, 3), (1.0, 1.3, 0.7))
    P = kernel.shape[1:]
    for comp in range(3):
        for axis in range(3):
            neg = (-np.arange(P[axis])) % P[axis]
            sign = -1 if axis == comp else 1
            np.testing.assert_array_equal(np.take(kernel[comp], neg, axis=axis), sign * kernel[comp])
    spectrum = np.fft.rfftn(kernel, axes=(1, 2, 3))
    assert np.abs(spectrum.real).max() < 1e-13 * np.abs(spectrum.imag).max()


# ---------------------------------------------------------------------------------------------- the field term
def oersted_state(backend, n, dx, pbc=False, seed=0, dtype="float64", images=None):
    rng = np.random.default_rng(seed)
    state = nm.State(nm.Mesh(n, dx, pbc=pbc), backend=backend, dtype=dtype)
    state.material.Ms = MS * rng.uniform(0.5, 1.5, size=n)
    rho = rng.uniform(0.2, 1.0, size=n)
    rho[rng.random(size=n) < 0.2] = 0.0
    state.rho = rho
    state.m = nm.VectorFunction(state, tensor=rng.normal(size=state.mesh.nodes + (3,)))
    state.j = nm.VectorFunction(state, "c" * len(n), tensor=1e12 * rng.normal(size=tuple(n) + (3,)))
    OerstedField(pbc_images=images).register(state)
    return state


def node_average(state, h_cells):
    """Nodal field from cell fields with the lumped weights Ms rho (NumPy)."""
    mesh = state.mesh
    w = to_numpy(state.material.Ms) * to_numpy(state.rho)
    num, den = np.zeros(mesh.nodes + (3,)), np.zeros(mesh.nodes)
    for corner in np.ndindex(*(2,) * mesh.dim):
        idx, wc, hc = [], w, w[..., None] * h_cells
        for axis, offset in enumerate(corner):
            if mesh.pbc[axis]:
                wc, hc = np.roll(wc, offset, axis=axis), np.roll(hc, offset, axis=axis)
                idx.append(slice(None))
            else:
                idx.append(slice(offset, offset + mesh.n[axis]))
        num[tuple(idx)] += hc
        den[tuple(idx)] += wc
    out = np.zeros_like(num)
    out[den > 0] = num[den > 0] / den[den > 0][:, None]
    return out, den


@pytest.mark.parametrize("n, dx, pbc", [
    ((4, 3, 3), (1e-9, 1.3e-9, 0.7e-9), False),
    ((5, 4), (1e-9, 1.3e-9, 0.7e-9), (False, True)),
])
def test_direct_sum(backend, float64, n, dx, pbc):
    """FFT convolution = direct sum over all cell pairs of j' x G(r - r') (images included for PBC)."""
    state = oersted_state(backend, n, dx, pbc=pbc, images=3)
    j = to_numpy(state.j)
    dim = len(n)
    pbc_t = pbc if isinstance(pbc, tuple) else (pbc,) * dim
    images = newell.check_images(pbc_t, 3)
    octant = oersted_octant(newell.octant_counts(n, pbc_t, images), dx)  # (3, counts)
    octant = octant.reshape((3,) + octant.shape[1:dim + 1])

    def G(offset):
        """Kernel for the cell offset ``offset``: along periodic axes the sum over all offsets congruent to it
        (mod n) within +-(K n + n//2), the two extreme ones at half weight for even n."""
        choices = []
        for k in range(dim):
            if pbc_t[k]:
                top = images[k] * n[k] + n[k] // 2
                choices.append([(d, 0.5 if (n[k] % 2 == 0 and abs(d) == top) else 1.0)
                                for d in range(-top, top + 1) if (d - offset[k]) % n[k] == 0])
            else:
                choices.append([(offset[k], 1.0)])
        value = np.zeros(3)
        for combo in itertools.product(*choices):
            d = [v for v, _ in combo]
            weight = np.prod([w for _, w in combo])
            sign = np.array([np.sign(d[c]) if c < dim else 1.0 for c in range(3)])  # G_c is odd in x_c
            value += weight * sign * octant[(slice(None),) + tuple(abs(v) for v in d)]
        return value

    cells = list(np.ndindex(*n))
    h_cells = np.zeros(tuple(n) + (3,))
    for c in cells:
        for c2 in cells:
            h_cells[c] += np.cross(j[c2], G([c[k] - c2[k] for k in range(dim)]))
    expected, _ = node_average(state, h_cells)
    h = to_numpy(state.h_oersted)
    np.testing.assert_allclose(h, expected, rtol=0, atol=1e-12 * np.abs(expected).max())


def test_infinite_wire(backend, float64):
    """A wire along x (periodic, 1000 images): cell field at distance rho is I / (2 pi rho), azimuthal."""
    n, dx = (1, 21, 21), (1e-9, 1e-9, 1e-9)
    state = nm.State(nm.Mesh(n, dx, pbc=(True, False, False)), backend=backend)
    state.material.Ms = MS
    state.m = nm.VectorFunction(state).fill((0.0, 0.0, 1.0))
    j = np.zeros(n + (3,))
    j[0, 10, 10, 0] = 1e12
    state.j = nm.VectorFunction(state, "ccc", tensor=j)
    images = 1000
    OerstedField(pbc_images=images).register(state)
    current = 1e12 * dx[1] * dx[2]
    half_length = (images + 0.5) * dx[0]
    for k, tol in [(3, 1e-3), (6, 1e-4), (10, 1e-5)]:
        rho = np.zeros(n)
        rho[0, 10 + k, 10] = 1.0  # the nodes of this cell carry its cell field
        state.rho = rho
        h = to_numpy(state.h_oersted)[0, 10 + k, 10]
        distance = k * dx[1]
        expected = current / (2 * np.pi * distance) * half_length / np.hypot(half_length, distance)
        assert h[2] == pytest.approx(expected, rel=tol)
        assert abs(h[0]) < 1e-12 * expected and abs(h[1]) < 1e-12 * expected


def test_field_is_energy_gradient(backend, float64):
    state = oersted_state(backend, (5, 4, 3), (1e-9, 1.3e-9, 0.7e-9), pbc=(True, False, False), images=2)
    h = to_numpy(state.h_oersted)
    _, den = node_average(state, np.zeros(state.mesh.n + (3,)))
    mass = den * state.mesh.cell_volume / 8
    E, grad = energy_and_gradient(state, "oersted")
    magnetic = mass > 0
    np.testing.assert_allclose(h[magnetic], -grad[magnetic] / (MU0 * mass[magnetic])[:, None], rtol=0,
                               atol=1e-10 * np.abs(h).max())
    assert np.all(h[~magnetic] == 0)
    m = to_numpy(state.m)
    assert -MU0 * np.sum(mass[..., None] * m * h) == pytest.approx(E, rel=1e-10)
    assert to_numpy(state.e_oersted).sum() * state.mesh.cell_volume == pytest.approx(E, rel=1e-10)


def test_backends_agree_and_float32(float64):
    results = {}
    for backend in ("jax", "torch"):
        for dtype in ("float64", "float32"):
            state = oersted_state(backend, (6, 5), (1e-9, 1.2e-9, 2e-9), seed=3, dtype=dtype)
            results[backend, dtype] = to_numpy(state.h_oersted)
    reference = results["jax", "float64"]
    scale = np.abs(reference).max()
    np.testing.assert_allclose(results["torch", "float64"], reference, rtol=0, atol=1e-12 * scale)
    for backend in ("jax", "torch"):
        np.testing.assert_allclose(results[backend, "float32"], reference, rtol=0, atol=1e-5 * scale)


def test_dynamic_current(float64):
    """The current may be a dynamic attribute, e.g. a pulse in time."""
    state = oersted_state("torch", (4, 3, 2), (1e-9, 1e-9, 1e-9), seed=4)
    j0 = state.j
    h0 = to_numpy(state.h_oersted)
    state.j0 = j0
    state.j = lambda t, j0: j0 * (2.0 * t)
    state.t = 1.5
    np.testing.assert_allclose(to_numpy(state.h_oersted), 3.0 * h0, rtol=1e-13, atol=1e-13 * np.abs(h0).max())
    assert "t" in state.resolve("h_oersted", ["t"]).inputs
