"""Exchange and anisotropy of the interpolant projected onto the unit sphere (``projected=True``).

The multilinear interpolant of unit nodal vectors is shorter than 1 inside a cell where m turns, so the plain
exchange form gives a bond that turns by Δθ the energy 2A(1 − cos Δθ)/Δx instead of A Δθ²/Δx. The projected
forms integrate the energy of m/|m| with 3 Gauss points per axis. Checked here: the energy of a uniform
rotation against the geodesic value, uniform m (where projection changes nothing), h = −∂E/∂m/(μ0 M_n) for
random data, and backend agreement. demos/dw_pinning.py (tests/test_validation_dw_pinning.py) shows what it is
for: pinning fields within 0.35 % of the analytic ones on 1 nm cells, where the plain forms are 9 % off.
"""

import numpy as np
import pytest

import neuralmag as nm
from tests.test_field_terms_local import MU0, energy_gradient, nodal_mass, random_data, rel_err
from tests.utils import to_numpy

PROJECTED = {
    "exchange": lambda: nm.ExchangeField(projected=True),
    "uniaxial": lambda: nm.UniaxialAnisotropyField(projected=True, second_order=True),
    "cubic": lambda: nm.CubicAnisotropyField(order=3, projected=True),
}


def projected_state(backend, term, data):
    state = nm.State(nm.Mesh(data["n"], data["dx"]), backend=backend, dtype="float64")
    for key in ("Ms", "A", "Ku", "Ku2", "Ku_axis", "Kc1", "Kc2", "Kc3", "Kc_axis1", "Kc_axis2"):
        setattr(state.material, key, data[key])
    state.rho = data["rho"]
    state.m = data["m"]
    PROJECTED[term]().register(state, term)
    return state


def test_rotation_energy_is_geodesic(backend, float64):
    """m turning by Δθ = 1 rad per cell in the xy plane along a wire of 6 cells: the plain form gives
    2A(1 − cos Δθ)/Δx per cell and area (8 % below the geodesic A Δθ²/Δx). The projected interpolant runs along
    the great circle, at the angle φ(s) = atan2(s sin Δθ, 1 − s + s cos Δθ), s ∈ [0, 1], not at constant speed:
    A/Δx ∫ φ'(s)² ds = 1.0060 A Δθ²/Δx, and 3 Gauss points give 1.0076 A Δθ²/Δx (computed here in NumPy)."""
    n, h, A, dtheta = 6, 1e-9, 1e-11, 1.0
    energies = {}
    for projected in (False, True):
        state = nm.State(nm.Mesh((n,), (h, 2e-9, 3e-9)))
        state.material.Ms, state.material.A = 8e5, A
        theta = dtheta * np.arange(n + 1)
        state.m = np.stack([np.cos(theta), np.sin(theta), 0 * theta], -1)
        nm.ExchangeField(projected=projected).register(state)
        energies[projected] = float(to_numpy(state.E_exchange))
    geodesic = n * A * dtheta**2 / h * 2e-9 * 3e-9
    assert energies[False] == pytest.approx(n * 2 * A * (1 - np.cos(dtheta)) / h * 6e-18, rel=1e-12)
    assert energies[False] / geodesic == pytest.approx(0.919, abs=1e-3)
    s, w = np.polynomial.legendre.leggauss(3)
    s, w = (s + 1) / 2, w / 2
    x, y = 1 - s + s * np.cos(dtheta), s * np.sin(dtheta)
    dphi = (x * np.sin(dtheta) - y * (np.cos(dtheta) - 1)) / (x**2 + y**2)
    assert energies[True] == pytest.approx(n * A / h * np.sum(w * dphi**2) * 6e-18, rel=1e-10)
    assert energies[True] / geodesic == pytest.approx(1.0076, abs=1e-4)


@pytest.mark.parametrize("term", ["uniaxial", "cubic"])
def test_uniform_m_unchanged(backend, float64, term):
    """For uniform m the projection is the identity: the projected anisotropies equal the nodal-rule ones."""
    data = random_data(2, seed=3)
    data["m"] = np.broadcast_to(data["m"][0, 0], data["m"].shape).copy()
    state = projected_state(backend, term, data)
    plain = {"uniaxial": nm.UniaxialAnisotropyField(second_order=True), "cubic": nm.CubicAnisotropyField(order=3)}
    plain[term].register(state, "plain")
    np.testing.assert_allclose(float(to_numpy(getattr(state, f"E_{term}"))), float(to_numpy(state.E_plain)),
                               rtol=1e-12)


#: autodiff reference per backend: JAX only in 1D for exchange and uniaxial (XLA takes a minute or more to compile
#: the reverse pass of the larger projected kernels); the JAX fields are compared with PyTorch's in
#: test_backends_agree
GRADIENT_CASES = [("torch", term, dim) for term in PROJECTED for dim in (1, 2)] + [
    ("jax", "exchange", 1), ("jax", "uniaxial", 1)]


@pytest.mark.parametrize("backend, term, dim", GRADIENT_CASES)
def test_field_is_energy_gradient(float64, backend, term, dim):
    """Random m and per-cell materials: h_n = −∂E/∂m_n / (μ0 M_n), and the energy density integrates to E."""
    data = random_data(dim, seed=20 + dim)
    state = projected_state(backend, term, data)
    grad = energy_gradient(state, f"E_{term}")
    mass = nodal_mass(data["Ms"] * data["rho"], data["dx"], dim)
    expected = -grad / (MU0 * mass[..., None])
    assert np.abs(expected).max() > 0
    assert rel_err(to_numpy(getattr(state, f"h_{term}")), expected) < 1e-10
    e = to_numpy(getattr(state, f"e_{term}"))
    np.testing.assert_allclose(np.sum(e) * np.prod(data["dx"]), float(to_numpy(getattr(state, f"E_{term}"))),
                               rtol=1e-10)


@pytest.mark.parametrize("term", list(PROJECTED))
def test_backends_agree(term):
    data = random_data(2, seed=5)
    h = {b: to_numpy(getattr(projected_state(b, term, data), f"h_{term}")) for b in ("jax", "torch")}
    assert rel_err(h["torch"], h["jax"]) < 1e-12
