r"""Convergence of the generated exchange field to the continuum field (issue 3).

The continuum exchange field of :math:`E = \int A |\nabla \mathbf m|^2 \mathrm{d}V` with constant ``A`` and
``Ms`` is :math:`\mathbf h = \frac{2A}{\mu_0 M_s} \Delta \mathbf m`. Expected values come from closed forms
(helices) or from SymPy applied to the smooth field, never from neuralmag itself:

* interior nodes converge at second order (fitted from three grids),
* boundary nodes satisfy the natural (Neumann) condition: for a field with zero normal derivative the boundary
  field converges as well (second order for a field that is even about the boundary, first order for a generic
  one), and for a field with a non-zero normal derivative the boundary field carries the surface flux,
  :math:`-\mu_0 M_n \mathbf h_n = 2 A \int_{\partial\Omega} \partial_{\mathbf n} \mathbf m \,\varphi_n\,\mathrm{d}S`,
  which for a linear ``m`` holds exactly.
"""

import numpy as np
import pytest
import sympy as sp

import neuralmag as nm

MU0 = 4e-7 * np.pi
A = 1.3e-11
MS = 8e5
L = (20e-9, 15e-9, 10e-9)  # sample size along x, y, z (for dim < 3 the last entries are the thickness)

_STATES: dict = {}


def exchange_state(backend, n, dx):
    """A state with the exchange term on mesh (n, dx), reused across fields (JAX jit-compiles it once)."""
    key = (backend, tuple(n), tuple(dx))
    if key not in _STATES:
        state = nm.State(nm.Mesh(n, dx), backend=backend, dtype="float64")
        state.material.Ms = MS
        state.material.A = A
        state.m = nm.VectorFunction(state).fill((1.0, 0.0, 0.0))
        nm.ExchangeField().register(state)
        _STATES[key] = state
    return _STATES[key]


def grid(n, dx):
    """Nodal coordinates (independent of neuralmag): the first node sits at the origin."""
    axes = [np.arange(k + 1) * d for k, d in zip(n, dx)]
    return np.meshgrid(*axes, indexing="ij")


def mesh_for(dim, cells):
    n = (cells,) * dim
    dx = tuple(L[k] / cells for k in range(dim)) + tuple(L[2] / 4 for _ in range(dim, 3))
    return n, dx


def nodal_field(backend, n, dx, m):
    state = exchange_state(backend, n, dx)
    state.m = nm.VectorFunction(state, tensor=m)
    return state.h_exchange.numpy().astype(np.float64)


def fitted_order(cells, errors):
    """Least-squares slope of log(error) over log(cell size)."""
    return -np.polyfit(np.log(np.asarray(cells, float)), np.log(np.asarray(errors)), 1)[0]


def interior(dim):
    return (slice(1, -1),) * dim


def boundary_mask(shape):
    mask = np.ones(shape, dtype=bool)
    mask[interior(len(shape))] = False
    return mask


# ------------------------------------------------------------------------------------------ symbolic fields
x, y, z = sp.symbols("x y z", real=True)
X, Y, Z = x / L[0], y / L[1], z / L[2]


def spherical(theta, phi):
    return [sp.sin(theta) * sp.cos(phi), sp.sin(theta) * sp.sin(phi), sp.cos(theta)]


def smoothstep(s):  # zero derivative at s = 0 and s = 1
    return s**2 * (3 - 2 * s)


def bump(s):  # zero derivative at s = 0 and s = 1
    return s**2 * (1 - s) ** 2


#: unit fields m(x, y, z) as spherical angles; the "neumann" ones have zero normal derivative on the boundary
FIELDS = {
    # generic: neither symmetric nor Neumann at the boundary
    "generic": spherical(1 + 0.5 * sp.sin(2 * X + 0.3) * sp.cos(1.5 * Y) * sp.cos(Z + 0.2),
                         0.8 * sp.cos(2 * X) + 1.2 * sp.sin(2 * Y) + 0.5 * sp.sin(Z)),
    # Neumann and even about every boundary plane (cosine modes)
    "neumann_even": spherical(1 + 0.5 * sp.cos(sp.pi * X) * sp.cos(sp.pi * Y) * sp.cos(sp.pi * Z),
                              0.7 * sp.cos(sp.pi * X) + 0.4 * sp.cos(sp.pi * Y) + 0.3 * sp.cos(sp.pi * Z)),
    # Neumann but with non-zero third normal derivative (polynomial profiles)
    "neumann_generic": spherical(1 + 0.8 * smoothstep(X) * (1 + smoothstep(Y)) + 3 * bump(Y) * smoothstep(Z),
                                 1.5 * smoothstep(X) - 2 * bump(X) * smoothstep(Y) + smoothstep(Z)),
}

_LAMBDIFIED: dict = {}


def field_and_laplacian(name, dim):
    """NumPy callables for m and its Laplacian (SymPy), for a field restricted to the first ``dim`` axes."""
    key = (name, dim)
    if key not in _LAMBDIFIED:
        coords = (x, y, z)[:dim]
        # on lower-dimensional meshes m does not vary along the missing axes: evaluate there at 0
        m = [sp.sympify(c).subs({v: 0 for v in (x, y, z)[dim:]}) for c in FIELDS[name]]
        lap = [sum(sp.diff(c, v, 2) for v in coords) for c in m]
        fm, flap = sp.lambdify(coords, m, "numpy"), sp.lambdify(coords, lap, "numpy")

        def stack(f):
            return lambda *g: np.stack([np.broadcast_to(np.asarray(c, float), g[0].shape) for c in f(*g)], -1)

        _LAMBDIFIED[key] = stack(fm), stack(flap)
    return _LAMBDIFIED[key]


def errors(backend, name, dim, cells_list):
    """Relative max-norm errors (interior, boundary) of the nodal exchange field on each grid."""
    fm, flap = field_and_laplacian(name, dim)
    result = []
    for cells in cells_list:
        n, dx = mesh_for(dim, cells)
        g = grid(n, dx)
        h = nodal_field(backend, n, dx, fm(*g))
        expected = 2 * A / (MU0 * MS) * flap(*g)
        err = np.abs(h - expected).max(axis=-1) / np.abs(expected).max()
        result.append((err[interior(dim)].max(), err[boundary_mask(err.shape)].max()))
    return np.array(result)


CELLS = {1: (16, 32, 64), 2: (16, 32, 64), 3: (12, 24, 48)}


# ------------------------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_helix_interior_second_order(backend, float64, dim):
    """m = (cos k·r, sin k·r, 0) has h = -2A|k|²/(μ0 Ms) m exactly; k is oblique to the mesh axes."""
    kvec = np.array([2 * np.pi / L[0], 1.3 * np.pi / L[1], 0.7 * np.pi / L[2]])[:dim]
    errs = []
    for cells in CELLS[dim]:
        n, dx = mesh_for(dim, cells)
        g = grid(n, dx)
        phase = sum(k * c for k, c in zip(kvec, g))
        m = np.stack([np.cos(phase), np.sin(phase), np.zeros_like(phase)], -1)
        h = nodal_field(backend, n, dx, m)
        expected = -2 * A * (kvec @ kvec) / (MU0 * MS) * m
        errs.append(np.abs(h - expected)[interior(dim)].max() / np.abs(expected).max())
    order = fitted_order(CELLS[dim], errs)
    assert errs[-1] < 0.01
    assert 1.8 <= order <= 2.3, (errs, order)


@pytest.mark.parametrize("dim", [2, 3])
def test_smooth_field_interior_second_order(backend, float64, dim):
    """A generic non-planar unit field: interior nodes converge to 2A/(μ0 Ms) Δm at second order."""
    errs = errors(backend, "generic", dim, CELLS[dim])
    order = fitted_order(CELLS[dim], errs[:, 0])
    assert errs[-1, 0] < 0.01
    assert 1.8 <= order <= 2.3, (errs, order)
    # the generic field has a normal derivative at the boundary: the boundary field is a surface flux there
    # and does not approximate the Laplacian (it grows like 1/dx)
    assert errs[-1, 1] > 1.0


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_neumann_field_even_about_boundary_converges_everywhere(backend, float64, dim):
    """Zero normal derivative and even about the boundary: boundary nodes converge at second order too."""
    errs = errors(backend, "neumann_even", dim, CELLS[dim])
    for column in (0, 1):
        order = fitted_order(CELLS[dim], errs[:, column])
        assert 1.8 <= order <= 2.3, (errs, order)
    assert errs[-1].max() < 0.02


@pytest.mark.parametrize("dim", [1, 2])
def test_neumann_field_generic_boundary_converges(backend, float64, dim):
    """Zero normal derivative without symmetry: boundary nodes converge (first order, the consistency order of
    a one-sided lumped scheme), interior nodes keep second order."""
    errs = errors(backend, "neumann_generic", dim, CELLS[dim])
    boundary_order = fitted_order(CELLS[dim], errs[:, 1])
    interior_order = fitted_order(CELLS[dim], errs[:, 0])
    assert 0.9 <= boundary_order <= 1.3, (errs, boundary_order)
    assert 1.8 <= interior_order <= 2.3, (errs, interior_order)
    assert errs[-1, 1] < 0.05


def surface_and_mass(n, dx, dim):
    r"""Per node: the lumped mass ∫ Ms φ_n dV and the outward flux weights Σ_faces n_f ∫_f φ_n dS (vectors)."""
    shape = tuple(k + 1 for k in n)
    idx = np.indices(shape)
    on_boundary = [(idx[k] == 0) | (idx[k] == n[k]) for k in range(dim)]
    # dual length of a node along axis k: dx_k inside, dx_k/2 on the boundary; the thickness is dx_k itself
    dual = [np.where(on_boundary[k], dx[k] / 2, dx[k]) for k in range(dim)] + [np.full(shape, dx[k])
                                                                                 for k in range(dim, 3)]
    mass = MS * np.prod(dual, axis=0)
    flux = np.zeros(shape + (3,))
    for k in range(dim):
        normal = np.where(idx[k] == 0, -1.0, np.where(idx[k] == n[k], 1.0, 0.0))
        area = np.prod([dual[j] for j in range(3) if j != k], axis=0)
        flux[..., k] = normal * area
    return mass, flux


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_linear_m_boundary_flux(backend, float64, dim):
    r"""For a linear (unnormalised) m the interior field vanishes and every boundary node carries the flux:
    -μ0 M_n h_n = 2 A Σ_f (∇m · n_f) ∫_f φ_n dS, to round-off (edges and corners included)."""
    n, dx = mesh_for(dim, 6)
    n = tuple(c + k for k, c in enumerate(n))  # different cell counts per axis
    dx = tuple(d * (1 + 0.3 * k) for k, d in enumerate(dx))
    state = exchange_state(backend, n, dx)
    g = grid(n, dx)
    gradient = np.array([[0.3, -1.1, 0.7], [2.0, 0.4, -0.5], [-0.8, 0.9, 1.6]])[:, :dim] * 1e8  # dm_j/dx_k (1/m)
    m = np.array([1.0, -0.5, 0.25]) + np.stack(g, -1) @ gradient.T
    h_of_m = state.resolve("h_exchange", ["m"])
    h = state.to_numpy(h_of_m(state.tensor(m))).astype(np.float64)
    mass, flux = surface_and_mass(n, dx, dim)
    expected = -2 * A * np.einsum("jk,...k->...j", gradient, flux[..., :dim]) / (MU0 * mass[..., None])
    scale = np.abs(expected).max()
    assert scale > 0
    np.testing.assert_allclose(h, expected, rtol=0, atol=1e-10 * scale)
    np.testing.assert_allclose(h[interior(dim)], 0.0, rtol=0, atol=1e-10 * scale)
