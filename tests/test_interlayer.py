"""Interlayer exchange: analytic field and energy per area for two uniform layers; field = -dE/dm."""

import numpy as np
import pytest

import neuralmag as nm
from neuralmag.forms.ir import MU0
from tests.utils import to_numpy

MS, DZ = 8e5, 1e-9
J1, J2 = -1.5e-3, 0.4e-3


def two_layers(theta=0.7):
    state = nm.State(nm.Mesh((4, 3, 2), (2e-9, 3e-9, DZ)))
    state.material.Ms = MS
    m = np.zeros((5, 4, 3, 3))
    m[:, :, 0] = (1.0, 0.0, 0.0)
    m[:, :, 1] = (0.0, 0.0, 1.0)
    m[:, :, 2] = (np.cos(theta), np.sin(theta), 0.0)
    state.m = m
    nm.InterlayerExchangeField(0, 2, J1=J1, J2=J2).register(state)
    return state, np.cos(theta)


def test_uniform_layers_energy_and_field(backend, float64):
    state, c = two_layers()
    area = 8e-9 * 9e-9
    assert float(state.E_interlayer) == pytest.approx(-(J1 * c + J2 * c**2) * area, rel=1e-12)
    h = to_numpy(state.h_interlayer)
    m = to_numpy(state.m)
    # surface nodes carry half a cell of thickness in the lumped mass
    scale = 2 * (J1 + 2 * J2 * c) / (MU0 * MS * DZ)
    assert h[:, :, 0] == pytest.approx(scale * np.broadcast_to(m[0, 0, 2], h[:, :, 0].shape), rel=1e-12)
    assert h[:, :, 2] == pytest.approx(scale * np.broadcast_to(m[0, 0, 0], h[:, :, 2].shape), rel=1e-12)
    assert np.all(h[:, :, 1] == 0)


def test_field_is_energy_gradient(backend, float64):
    state, _ = two_layers()
    rng = np.random.default_rng(3)
    m0 = rng.normal(size=(5, 4, 3, 3))
    state.m = m0
    m = state.m.tensor
    energy = state.resolve("E_interlayer", ["m"])
    if backend == "jax":
        import jax

        grad = np.asarray(jax.grad(energy)(m))
    else:
        m = m.clone().requires_grad_(True)
        energy(m).backward()
        grad = m.grad.numpy()
    mass = np.zeros((5, 4, 3))
    for i, j, k in np.ndindex(2, 2, 2):
        mass[i:i + 4, j:j + 3, k:k + 2] += MS * 2e-9 * 3e-9 * DZ / 8
    assert to_numpy(state.h_interlayer) == pytest.approx(-grad / (MU0 * mass[..., None]), rel=1e-10, abs=1e-6)


def test_per_cell_coupling_and_registered_name(backend, float64):
    state = nm.State(nm.Mesh((4, 3, 2), (2e-9, 3e-9, DZ)))
    state.material.Ms = MS
    m = np.zeros((5, 4, 3, 3))
    m[..., 0] = 1.0
    m[:, :, 2] = (0.6, 0.8, 0.0)
    state.m = m
    J = np.arange(12.0).reshape(4, 3) * 1e-4
    nm.InterlayerExchangeField(0, 2, J1=J).register(state, "rkky")
    assert "rkky_J1" in state and "h_rkky" in state
    assert float(state.E_rkky) == pytest.approx(-0.6 * J.sum() * 6e-18, rel=1e-12)


def test_surface_form_errors():
    class NoLayers(nm.FieldTerm):
        @staticmethod
        def e_expr(m, dim):
            return nm.Variable("J", "cc") * nm.Variable("m1", "nn", (3,)).dot(nm.N.i) * nm.dA(dim)

    with pytest.raises(ValueError, match="surface_unknowns"):
        nm.kernel_source(NoLayers, dim=3)

    class Mixed(nm.FieldTerm):
        surface_unknowns = {"m1": 0}

        @staticmethod
        def e_expr(m, dim):
            return m.dot(nm.N.i) * nm.dV(dim) + nm.Variable("m1", "nn", (3,)).dot(nm.N.i) * nm.dA(dim)

    with pytest.raises(ValueError, match="not both"):
        nm.kernel_source(Mixed, dim=3)
    with pytest.raises(ValueError, match="3D"):
        nm.dA(2)
