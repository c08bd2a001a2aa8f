"""nm.Function / VectorFunction / CellFunction: layout, fill, construction, integral average, coordinates."""

import numpy as np
import pytest

import neuralmag as nm

from .utils import to_numpy

DX = (2e-9, 3e-9, 5e-9)


def rtol(dtype):
    return 1e-12 if dtype == "float64" else 1e-5


def state3(n=(4, 3, 2), origin=(0, 0, 0), pbc=False):
    return nm.State(nm.Mesh(n, DX, origin=origin, pbc=pbc))


# ---------------------------------------------------------------------------------------------- layout
def test_shapes_3d(backend, dtype):
    s = state3()
    v = nm.VectorFunction(s)
    c = nm.CellFunction(s)
    assert v.numpy().shape == (5, 4, 3, 3) and tuple(v.tensor.shape) == (5, 4, 3, 3)
    assert c.numpy().shape == (4, 3, 2)
    assert nm.Function(s).numpy().shape == (5, 4, 3)  # nodal scalar by default
    assert nm.Function(s, "nnc", (2,)).numpy().shape == (5, 4, 2, 2)
    assert nm.CellFunction(s, shape=(3,)).numpy().shape == (4, 3, 2, 3)
    assert str(v.tensor.dtype).endswith(dtype) and v.numpy().dtype == np.dtype(dtype)
    assert np.all(v.numpy() == 0)  # zeros by default


def test_shapes_2d_and_1d_drop_axes(backend):
    s2 = nm.State(nm.Mesh((4, 3), DX))
    assert nm.VectorFunction(s2).numpy().shape == (5, 4, 3)
    assert nm.CellFunction(s2).numpy().shape == (4, 3)
    s1 = nm.State(nm.Mesh((4,), DX))
    assert nm.VectorFunction(s1).numpy().shape == (5, 3)
    assert nm.CellFunction(s1).numpy().shape == (4,)


def test_shapes_periodic(backend):
    s = state3(pbc=(True, False, False))
    assert nm.VectorFunction(s).numpy().shape == (4, 4, 3, 3)
    assert nm.CellFunction(s).numpy().shape == (4, 3, 2)


def test_tensor_type_follows_backend(backend):
    v = nm.VectorFunction(state3())
    assert type(v.tensor).__module__.split(".")[0] in ({"jax": ("jax", "jaxlib")}.get(backend, (backend,)))


# ---------------------------------------------------------------------------------------------- fill
def test_fill_scalar_and_vector(backend, dtype):
    s = state3()
    v = nm.VectorFunction(s).fill((1.0, -2.0, 0.5))
    np.testing.assert_array_equal(v.numpy().reshape(-1, 3), np.tile([1.0, -2.0, 0.5], (5 * 4 * 3, 1)))
    v.fill(7.0)  # a scalar fills every component
    assert np.all(v.numpy() == 7.0)
    c = nm.CellFunction(s).fill(8e5)
    np.testing.assert_allclose(c.numpy(), 8e5, rtol=rtol(dtype))


def test_fill_returns_self(backend):
    c = nm.CellFunction(state3())
    assert c.fill(1.0) is c


def test_fill_with_mask(backend):
    s = state3()
    x, y, z = s.coordinates("c", numpy=True)
    left = x < 4e-9  # the first two of four cells along x
    c = nm.CellFunction(s).fill(1.0).fill(0.0, mask=left)
    expected = np.where(left, 0.0, 1.0)
    np.testing.assert_array_equal(c.numpy(), expected)
    assert c.numpy()[:2].sum() == 0 and c.numpy()[2:].min() == 1

    # a backend boolean tensor works as a mask too, for vector values
    v = nm.VectorFunction(s).fill((0, 0, 1))
    xn = s.coordinates("n", numpy=True)[0]
    v.fill((1, 0, 0), mask=s.tensor(xn == 0))
    np.testing.assert_array_equal(v.numpy()[0], np.broadcast_to([1.0, 0, 0], (4, 3, 3)))
    np.testing.assert_array_equal(v.numpy()[1:], np.broadcast_to([0, 0, 1.0], (4, 4, 3, 3)))


def test_fill_errors(backend):
    s = state3()
    with pytest.raises(ValueError, match="shape"):
        nm.VectorFunction(s).fill((1.0, 2.0))
    with pytest.raises(ValueError, match="mask"):
        nm.CellFunction(s).fill(1.0, mask=np.ones((5, 4, 3), dtype=bool))  # a nodal mask for a cell function


# ---------------------------------------------------------------------------------------------- construction
def test_construction_from_tensor(backend, dtype):
    s = state3()
    values = np.random.default_rng(0).normal(size=(5, 4, 3, 3))
    from_numpy = nm.VectorFunction(s, tensor=values)
    from_tensor = nm.VectorFunction(s, tensor=s.tensor(values))
    for f in (from_numpy, from_tensor):
        np.testing.assert_allclose(f.numpy(), values, rtol=rtol(dtype))
        assert str(f.tensor.dtype).endswith(dtype)
    np.testing.assert_allclose(np.asarray(from_numpy), values, rtol=rtol(dtype))  # __array__


@pytest.mark.parametrize("shape", [(4, 3, 2, 3), (5, 4, 3), (5, 4, 3, 2), (3, 5, 4, 3)])
def test_construction_from_wrong_shape_raises(backend, shape):
    s = state3()
    with pytest.raises(ValueError, match=r"\(5, 4, 3, 3\)") as err:
        nm.VectorFunction(s, tensor=np.zeros(shape))
    assert str(shape) in str(err.value)
    with pytest.raises(ValueError, match=r"\(4, 3, 2\)"):
        nm.CellFunction(s, tensor=np.zeros((5, 4, 3)))


def test_assigning_wrong_shape_raises(backend):
    f = nm.CellFunction(state3())
    with pytest.raises(ValueError):
        f.tensor = np.zeros((4, 3))
    assert f.numpy().shape == (4, 3, 2)


# ---------------------------------------------------------------------------------------------- avg
def test_avg_of_linear_nodal_function_is_center(backend, dtype):
    origin = (1e-9, -4e-9, 3e-9)
    s = state3(n=(4, 3, 2), origin=origin)
    x, y, z = s.coordinates("n")
    f = nm.Function(s, tensor=x)
    center = origin[0] + 4 * DX[0] / 2
    np.testing.assert_allclose(to_numpy(f.avg()), center, rtol=10 * rtol(dtype))
    v = nm.VectorFunction(s, tensor=s.backend.stack([x, y, z], -1))
    centers = [origin[k] + n * DX[k] / 2 for k, n in enumerate((4, 3, 2))]
    assert tuple(v.avg().shape) == (3,)
    np.testing.assert_allclose(to_numpy(v.avg()), centers, rtol=10 * rtol(dtype))


def test_avg_is_integral_not_mean_of_entries(backend, dtype):
    """A nodal 'hat' at one corner: the integral average is 1/(2^dim cells), the entry mean 1/nodes."""
    s = state3(n=(4, 3, 2))
    values = np.zeros((5, 4, 3))
    values[0, 0, 0] = 1.0
    f = nm.Function(s, tensor=values)
    integral = 1.0 / (8 * 4 * 3 * 2)
    np.testing.assert_allclose(to_numpy(f.avg()), integral, rtol=10 * rtol(dtype))
    assert abs(values.mean() - integral) > 0.1 * integral  # the two really differ here

    # interior node: its hat covers 2^dim cells fully, weight 8 / 8 per cell
    values = np.zeros((5, 4, 3))
    values[2, 1, 1] = 1.0
    np.testing.assert_allclose(to_numpy(nm.Function(s, tensor=values).avg()), 1.0 / 24, rtol=10 * rtol(dtype))


def test_avg_of_quadratic_is_trapezoidal_integral(backend, float64):
    """f = x² on the nodes of a 1D wire: (1/L)∫ of its piecewise-linear interpolant is L²/3 + h²/6."""
    n, h = 5, DX[0]
    s = nm.State(nm.Mesh((n,), DX))
    x = s.coordinates("n")[0]
    L = n * h
    np.testing.assert_allclose(to_numpy(nm.Function(s, tensor=x**2).avg()), L**2 / 3 + h**2 / 6, rtol=1e-13)


def test_avg_of_cell_function_is_mean(backend, dtype):
    s = state3()
    values = np.random.default_rng(1).uniform(size=(4, 3, 2))
    np.testing.assert_allclose(to_numpy(nm.CellFunction(s, tensor=values).avg()), values.mean(),
                               rtol=10 * rtol(dtype))


def test_avg_periodic_axis(backend, float64):
    """Along a periodic axis every node carries the weight of one cell."""
    s = nm.State(nm.Mesh((4, 2), DX, pbc=(True, False)))
    values = np.zeros((4, 3))
    values[0, 0] = 1.0  # a corner node on the open y-axis: half weight in y, full in x
    np.testing.assert_allclose(to_numpy(nm.Function(s, tensor=values).avg()), 0.5 / 8, rtol=1e-14)


# ---------------------------------------------------------------------------------------------- coordinates
def test_coordinates_values(backend, float64):
    origin = (1e-9, 2e-9, -3e-9)
    s = state3(n=(4, 3, 2), origin=origin)
    xn, yn, zn = (to_numpy(c) for c in s.coordinates("n"))
    assert xn.shape == yn.shape == zn.shape == (5, 4, 3)
    np.testing.assert_allclose(xn[:, 0, 0], origin[0] + DX[0] * np.arange(5), rtol=1e-14)
    np.testing.assert_allclose(yn[0, :, 0], origin[1] + DX[1] * np.arange(4), rtol=1e-14)
    np.testing.assert_allclose(zn[0, 0, :], origin[2] + DX[2] * np.arange(3), rtol=1e-14)
    assert np.all(xn == xn[:, :1, :1]) and np.all(yn == yn[:1, :, :1])  # ij indexing

    xc, yc, zc = (to_numpy(c) for c in s.coordinates("c"))
    assert xc.shape == (4, 3, 2)
    np.testing.assert_allclose(xc[:, 0, 0], origin[0] + DX[0] * (np.arange(4) + 0.5), rtol=1e-14)
    np.testing.assert_allclose(zc[0, 0, :], origin[2] + DX[2] * (np.arange(2) + 0.5), rtol=1e-14)

    # mixed spaces, and numpy output
    x, y, z = s.coordinates("ncn", numpy=True)
    assert isinstance(x, np.ndarray) and x.shape == (5, 3, 3)
    np.testing.assert_allclose(y[0, :, 0], origin[1] + DX[1] * (np.arange(3) + 0.5), rtol=1e-14)


def test_coordinates_2d_use_mid_thickness(backend, float64):
    s = nm.State(nm.Mesh((4, 3), DX, origin=(0, 0, 1e-9)))
    x, y, z = (to_numpy(c) for c in s.coordinates("n"))
    assert x.shape == y.shape == z.shape == (5, 4)
    np.testing.assert_allclose(z, 1e-9 + DX[2] / 2, rtol=1e-14)


# ---------------------------------------------------------------------------------------------- from_expression
def test_from_expression_vector_with_constants(backend, float64):
    s = state3()
    v = nm.VectorFunction.from_expression(s, lambda x, y, z: (x / 1e-9, 2.0, 0))
    x = to_numpy(s.coordinates("n")[0])
    assert v.numpy().shape == (5, 4, 3, 3)
    np.testing.assert_allclose(v.numpy()[..., 0], x / 1e-9, rtol=1e-14)
    assert np.all(v.numpy()[..., 1] == 2.0) and np.all(v.numpy()[..., 2] == 0.0)


def test_from_expression_scalar_and_cell(backend, float64):
    s = state3()
    f = nm.Function.from_expression(s, lambda x, y, z: x * y, spaces="ccc")
    xc, yc, _ = s.coordinates("c", numpy=True)
    assert f.spaces == "ccc"
    np.testing.assert_allclose(f.numpy(), xc * yc, rtol=1e-14)
    c = nm.CellFunction.from_expression(s, lambda x, y, z: z)
    np.testing.assert_allclose(c.numpy(), s.coordinates("c", numpy=True)[2], rtol=1e-14)


def test_from_expression_vortex_is_usable_as_m(backend, float64):
    """The documented way to build a vortex: an expression of x, y, z assigned to state.m."""
    s = nm.State(nm.Mesh((10, 10), (1e-9, 1e-9, 1e-9)))
    s.material.Ms = 8e5
    cx = cy = 5e-9
    s.m = nm.VectorFunction.from_expression(s, lambda x, y, z: (-(y - cy), x - cx, 1e-9))
    m = s.m.numpy()
    np.testing.assert_allclose(np.linalg.norm(m, axis=-1), 1.0, rtol=1e-14)
    assert m[5, 5, 2] == pytest.approx(1.0)  # the core points along +z
    assert m[10, 5, 1] > 0.97 and m[5, 10, 0] < -0.97  # counter-clockwise circulation


def test_from_expression_subclasses_honour_spaces_and_shape(backend, float64):
    s = state3()
    v = nm.VectorFunction.from_expression(s, lambda x, y, z: (x, y, z), spaces="ccc")
    assert v.spaces == "ccc" and v.numpy().shape == (4, 3, 2, 3)
    np.testing.assert_allclose(v.numpy()[..., 1], s.coordinates("c", numpy=True)[1], rtol=1e-14)
    c = nm.CellFunction.from_expression(s, lambda x, y, z: (x, y, z), shape=(3,))
    assert c.spaces == "ccc" and c.numpy().shape == (4, 3, 2, 3)
