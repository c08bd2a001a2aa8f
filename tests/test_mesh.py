"""nm.Mesh: dimensions, function-space shapes, periodic axes, volumes and input validation."""

import math

import pytest

import neuralmag as nm

DX = (2e-9, 3e-9, 5e-9)


@pytest.mark.parametrize("n", [(7,), (7, 4), (7, 4, 3)])
def test_dim_counts_and_shapes(n):
    mesh = nm.Mesh(n, DX)
    dim = len(n)
    assert mesh.dim == dim
    assert mesh.num_cells == math.prod(n)
    assert mesh.nodes == tuple(k + 1 for k in n)
    assert mesh.num_nodes == math.prod(k + 1 for k in n)
    assert mesh.shape("n" * dim) == tuple(k + 1 for k in n)
    assert mesh.shape("c" * dim) == n


def test_mixed_spaces():
    mesh = nm.Mesh((7, 4, 3), DX)
    assert mesh.shape("nnc") == (8, 5, 3)
    assert mesh.shape("cnc") == (7, 5, 3)
    assert nm.Mesh((7, 4), DX).shape("cn") == (7, 5)


def test_scalar_n_is_1d():
    mesh = nm.Mesh(5, DX)
    assert mesh.dim == 1 and mesh.n == (5,) and mesh.nodes == (6,)


def test_pbc_node_counts():
    mesh = nm.Mesh((6, 4, 3), DX, pbc=(True, False, True))
    assert mesh.nodes == (6, 5, 3)  # node n is node 0 along periodic axes
    assert mesh.num_nodes == 6 * 5 * 3
    assert mesh.shape("nnn") == (6, 5, 3)
    assert mesh.shape("ccc") == (6, 4, 3)  # cells are unaffected
    assert nm.Mesh((6, 4), DX, pbc=True).nodes == (6, 4)
    assert nm.Mesh((6, 4), DX).pbc == (False, False)


def test_cell_volume_includes_thickness():
    assert nm.Mesh((10, 10, 10), DX).cell_volume == pytest.approx(30e-27, rel=1e-15)
    # a 2D film: dx[2] is its thickness; a 1D wire: dx[1] * dx[2] is its cross-section
    film = nm.Mesh((10, 20), DX)
    assert film.cell_volume == pytest.approx(30e-27, rel=1e-15)
    assert film.volume == pytest.approx(10 * 2e-9 * 20 * 3e-9 * 5e-9, rel=1e-14)
    wire = nm.Mesh((10,), DX)
    assert wire.volume == pytest.approx(10 * 2e-9 * 3e-9 * 5e-9, rel=1e-14)


def test_origin_and_equality():
    mesh = nm.Mesh((2, 2), DX, origin=(1e-9, -2e-9, 0))
    assert mesh.origin == (1e-9, -2e-9, 0.0)
    assert mesh == nm.Mesh([2, 2], list(DX), origin=[1e-9, -2e-9, 0])
    assert mesh != nm.Mesh((2, 2), DX)
    with pytest.raises(AttributeError):
        mesh.n = (3, 3)  # meshes are immutable


@pytest.mark.parametrize("dx", [(0, 1e-9, 1e-9), (1e-9, -1e-9, 1e-9), (1e-9, 1e-9, float("nan")),
                                (1e-9, float("inf"), 1e-9)])
def test_non_positive_or_nan_dx_raises(dx):
    with pytest.raises(ValueError, match="positive and finite"):
        nm.Mesh((2, 2, 2), dx)


def test_dx_needs_three_entries():
    with pytest.raises(ValueError, match="3 entries"):
        nm.Mesh((2, 2), (1e-9, 1e-9))


@pytest.mark.parametrize("n", [(), (1, 2, 3, 4)])
def test_bad_number_of_axes_raises(n):
    with pytest.raises(ValueError, match="1, 2 or 3 axes"):
        nm.Mesh(n, DX)


@pytest.mark.parametrize("n", [(0, 2), (3, -1, 2)])
def test_non_positive_cell_count_raises(n):
    with pytest.raises(ValueError, match="positive"):
        nm.Mesh(n, DX)


def test_non_integer_cell_count_raises():
    with pytest.raises(ValueError, match="integer"):
        nm.Mesh((2.5, 2), DX)


def test_pbc_length_must_match():
    with pytest.raises(ValueError, match="one entry per mesh axis"):
        nm.Mesh((2, 2), DX, pbc=(True, False, False))


def test_origin_needs_three_entries():
    with pytest.raises(ValueError, match="origin"):
        nm.Mesh((2, 2), DX, origin=(0, 0))


@pytest.mark.parametrize("spaces", ["nn", "nnnn", "nxn"])
def test_bad_spaces_raise(spaces):
    with pytest.raises(ValueError, match="3 characters"):
        nm.Mesh((2, 2, 2), DX).shape(spaces)
