"""nm.State: materials, m, dynamic attributes, resolve(), caching, errors, autodiff, exchange through the state."""

import math
import re

import numpy as np
import pytest

import neuralmag as nm

from .utils import to_numpy

MU0 = 4e-7 * math.pi
A_EX, MS = 1.3e-11, 8e5


def rtol(dtype):
    return 1e-12 if dtype == "float64" else 1e-5


def new_state(n=(3, 2, 2), dx=(1e-9, 1e-9, 1e-9)):
    return nm.State(nm.Mesh(n, dx))


def no_control_flow(source: str) -> bool:
    return re.search(r"\b(for|while|if)\b", source) is None


def a3_state():
    state = nm.State(nm.Mesh((10, 10, 1), (1e-9, 1e-9, 1e-9)))
    state.a = 1.0
    state.b = lambda a: 2.0 * a
    state.c = 5.0
    state.d = lambda b, c: b + c
    return state


# ---------------------------------------------------------------------------------------------- defaults
def test_default_attributes(backend, dtype):
    s = new_state()
    assert float(to_numpy(s.t)) == 0.0
    np.testing.assert_allclose(to_numpy(s.dx), [1e-9] * 3, rtol=rtol(dtype))
    assert isinstance(s.rho, nm.Function) and s.rho.spaces == "ccc"
    assert np.all(s.rho.numpy() == 1.0)
    assert {"t", "dx", "rho"} <= set(s.attributes())
    assert "m" not in s and "rho" in s


# ---------------------------------------------------------------------------------------------- A3
def test_a3_dynamic_attributes(backend, dtype):
    state = a3_state()
    assert float(to_numpy(state.d)) == 7.0
    assert str(state.d) == "7.0"  # print(state.d) shows 7.0
    state.a = 2.5  # values are re-read on every access
    assert float(to_numpy(state.d)) == 10.0


def test_resolve_gives_function_of_inputs_only(backend, dtype):
    state = a3_state()
    f = state.resolve("d", ["a"])
    assert f.inputs == ["a"] and f.constants == ["c"]
    assert float(to_numpy(f(3.0))) == 11.0
    assert no_control_flow(f.source)
    assert f.source.splitlines()[0] == "def d(a, c):"  # c is bound, b computed inside
    assert "b = _f_b(a)" in f.source
    with pytest.raises(TypeError, match="takes 1 inputs"):
        f(1.0, 2.0)
    g = state.resolve("d", ["a", "c"])
    assert float(to_numpy(g(1.0, 0.0))) == 2.0
    assert float(to_numpy(state.resolve("d", "a")(0.0))) == 5.0  # a single name works too


def test_resolve_binds_current_constants(backend):
    state = a3_state()
    f = state.resolve("d", ["a"])
    state.c = 100.0
    assert float(to_numpy(f(1.0))) == 7.0  # bound at resolve time
    assert float(to_numpy(state.resolve("d", ["a"])(1.0))) == 102.0


def test_chain_and_namespace(backend, float64):
    """A chain through materials like h_exchange's: material -> exchange length -> derived quantity."""
    s = new_state()
    s.material.Ms = MS
    s.material.A = A_EX
    s.ms_avg = lambda material__Ms: material__Ms.mean()
    s.lex = lambda material__A, ms_avg: (2 * material__A.mean() / (MU0 * ms_avg**2)) ** 0.5
    s.lex_cells = lambda lex, dx: lex / dx[0]
    expected = math.sqrt(2 * A_EX / (MU0 * MS**2))
    np.testing.assert_allclose(to_numpy(s.lex), expected, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(s.lex_cells), expected / 1e-9, rtol=1e-12)
    f = s.resolve("lex_cells", ["material__A"])
    # an eager backend folds ms_avg, which does not depend on the input, into a bound constant
    folded = {"ms_avg", "dx"} if s.backend.fold_constants else {"material__Ms", "dx"}
    assert set(f.constants) == folded and no_control_flow(f.source)
    np.testing.assert_allclose(to_numpy(f(s.tensor(4 * A_EX))), 2 * expected / 1e-9, rtol=1e-12)


def test_material_namespace_callable(backend, float64):
    s = new_state()
    s.material.A = lambda t: A_EX * (1 + t / 1e-9)
    assert s.is_dynamic("material__A") and "A" in dir(s.material)
    np.testing.assert_allclose(to_numpy(s.material.A), A_EX, rtol=1e-14)
    s.t = 0.5e-9
    np.testing.assert_allclose(to_numpy(s.material.A), 1.5 * A_EX, rtol=1e-14)


def test_material_value_broadcasts_to_cell_function(backend, dtype):
    s = new_state()
    s.material.Ms = MS
    assert isinstance(s.material.Ms, nm.Function) and s.material.Ms.spaces == "ccc"
    np.testing.assert_allclose(s.material.Ms.numpy(), np.full((3, 2, 2), MS), rtol=rtol(dtype))
    values = np.arange(12.0).reshape(3, 2, 2)
    s.material.K = nm.CellFunction(s, tensor=values)
    np.testing.assert_array_equal(s.material.K.numpy(), values)
    s.material.axis = (0, 0, 1)  # a constant vector becomes a cell vector function
    assert s.material.axis.numpy().shape == (3, 2, 2, 3)


# ---------------------------------------------------------------------------------------------- errors
def test_unknown_attribute_suggests_close_names(backend):
    s = new_state()
    s.damping = 0.1
    with pytest.raises(AttributeError, match=r"'dampin'.*Did you mean 'damping'"):
        s.dampin
    s.material.Ms = MS
    with pytest.raises(AttributeError, match="material__Ms"):
        s.material.Mss
    assert not hasattr(s, "nonexistent")
    with pytest.raises(AttributeError, match="zzz"):
        s.resolve("zzz")


def test_cyclic_dependency_names_the_cycle(backend):
    s = new_state()
    s.p = lambda q: q + 1
    s.q = lambda r: r + 1
    s.r = lambda p: p + 1
    s.x = lambda p: p  # enters the cycle but is not part of it
    with pytest.raises(RecursionError, match=r"p -> q -> r -> p") as err:
        s.x
    assert "x" not in str(err.value).split(":")[-1]
    s.self_ref = lambda self_ref: self_ref
    with pytest.raises(RecursionError, match="self_ref -> self_ref"):
        s.self_ref


def test_parameter_naming_nothing(backend):
    s = new_state()
    s.f = lambda nothere: 2 * nothere
    with pytest.raises(AttributeError, match=r"'f'.*'nothere'"):
        s.f
    s.g = lambda tt: tt  # close to t
    with pytest.raises(AttributeError, match="Did you mean 't'"):
        s.g


def test_var_args_rejected_at_assignment(backend):
    s = new_state()
    with pytest.raises(TypeError, match="named state attributes"):
        s.f = lambda *args: 0


@pytest.mark.parametrize("ms", [-1.0, float("nan")])
def test_bad_scalar_ms_raises(backend, ms):
    s = new_state()
    with pytest.raises(ValueError, match="Ms"):
        s.material.Ms = ms
    assert "material__Ms" not in s


def test_bad_cell_ms_raises(backend):
    s = new_state()
    values = np.full((3, 2, 2), MS)
    values[1, 0, 1] = -MS
    with pytest.raises(ValueError, match="non-negative"):
        s.material.Ms = values
    values[1, 0, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        s.material.Ms = nm.CellFunction(s, tensor=values)


def test_wrong_shapes_raise(backend):
    s = new_state()  # nodal shape (4, 3, 3), cells (3, 2, 2)
    with pytest.raises(ValueError, match=r"\(4, 3, 3, 3\)"):
        s.m = np.ones((3, 2, 2, 3))
    with pytest.raises(ValueError, match="nodal vector"):
        s.m = nm.CellFunction(s, shape=(3,)).fill(1.0)
    with pytest.raises(ValueError, match=r"\(3, 2, 2\)"):
        s.material.A = np.ones((4, 3, 3))
    with pytest.raises(ValueError, match="cell function"):
        s.material.A = nm.Function(s)  # nodal
    with pytest.raises(AttributeError, match="fixed"):
        s.mesh = nm.Mesh((1,), (1, 1, 1))
    with pytest.raises(AttributeError, match="individually"):
        s.material = 1.0


# ---------------------------------------------------------------------------------------------- m
def test_m_is_normalised_on_assignment(backend, dtype):
    s = new_state()
    s.material.Ms = MS
    s.m = nm.VectorFunction(s).fill((1, 2, 2))
    np.testing.assert_allclose(s.m.numpy(), np.broadcast_to([1 / 3, 2 / 3, 2 / 3], (4, 3, 3, 3)), rtol=rtol(dtype))
    values = np.random.default_rng(2).normal(size=(4, 3, 3, 3)) * 7.0
    s.m = values  # arrays and tensors work too
    m = s.m.numpy()
    np.testing.assert_allclose(np.linalg.norm(m, axis=-1), 1.0, rtol=10 * rtol(dtype))
    np.testing.assert_allclose(m, values / np.linalg.norm(values, axis=-1, keepdims=True), rtol=10 * rtol(dtype))


def test_m_assignment_keeps_the_torch_autograd_tape():
    """An m that autograd records (a torch leaf with requires_grad) is normalised by torch operations, so the
    energy stays differentiable w.r.t. the assigned tensor; other inputs are normalised on the host."""
    torch = pytest.importorskip("torch")
    s = nm.State(nm.Mesh((3, 2, 2), (2e-9, 2e-9, 2e-9)), backend="torch", dtype="float64")
    s.material.Ms = MS
    s.material.A = 1e-11
    nm.ExchangeField().register(s)
    raw = torch.tensor(np.random.default_rng(3).normal(size=(4, 3, 3, 3)), requires_grad=True)
    s.m = raw
    assert s.m.tensor.requires_grad
    s.E_exchange.backward()
    assert raw.grad is not None and float(raw.grad.abs().max()) > 0
    # the gradient of a function of m/|m| is orthogonal to m
    np.testing.assert_allclose((raw.grad * raw).sum(-1).detach().numpy(), 0.0, atol=1e-12 * float(raw.grad.abs().max()))


def test_zero_m_where_magnetic_raises(backend):
    s = new_state()
    s.material.Ms = MS
    values = np.ones((4, 3, 3, 3))
    values[2, 1, 1] = 0.0
    with pytest.raises(ValueError, match="zero length"):
        s.m = values
    values[0, 0, 0] = np.nan
    with pytest.raises(ValueError):
        s.m = values


def test_zero_m_allowed_where_not_magnetic(backend, float64):
    """Nodes that touch only cells with Ms = 0 (or rho = 0) may have m = 0; it stays 0, not NaN."""
    s = nm.State(nm.Mesh((4,), (1e-9, 1e-9, 1e-9)))
    s.material.Ms = np.array([MS, MS, 0.0, MS])
    s.rho = np.array([1.0, 1.0, 1.0, 0.0])  # the last cell is outside the sample
    values = np.tile([0.0, 0.0, 2.0], (5, 1))
    values[3:] = 0.0  # nodes 3 and 4 touch only cells 2 and 3
    s.m = values
    np.testing.assert_array_equal(s.m.numpy()[:3], np.tile([0, 0, 1.0], (3, 1)))
    np.testing.assert_array_equal(s.m.numpy()[3:], 0.0)
    values[2] = 0.0  # node 2 touches the magnetic cell 1
    with pytest.raises(ValueError, match="zero length"):
        s.m = values


# ---------------------------------------------------------------------------------------------- caching
def test_value_change_reuses_generated_function(backend):
    s = a3_state()
    float(to_numpy(s.d))
    generated = s._generated[("d", ())]
    s.a = 3.0
    s.c = np.float64(1.0)
    assert float(to_numpy(s.d)) == 7.0
    assert s._generated[("d", ())] is generated


def test_structure_change_regenerates(backend):
    s = a3_state()
    float(to_numpy(s.d))
    first = s._generated[("d", ())]
    s.a = lambda c: c / 5.0  # value -> callable
    assert float(to_numpy(s.d)) == 7.0  # b = 2 * (5 / 5), d = 2 + 5
    second = s._generated[("d", ())]
    assert second is not first and "a = _f_a(c)" in second.source
    s.b = lambda a, c: a * c  # callable -> another callable
    assert float(to_numpy(s.d)) == 10.0
    third = s._generated[("d", ())]
    assert third is not second
    s.b = 4.0  # callable -> value
    assert float(to_numpy(s.d)) == 9.0
    assert s._generated[("d", ())] is not third


def test_repeated_reads_do_not_regenerate_or_retrace(backend):
    """Reading a dynamic attribute in a loop costs one evaluation per read, no regeneration (nor re-jit)."""
    s = new_state()
    s.a = s.tensor(np.ones(4))
    calls = []

    def b(a):
        calls.append(1)
        return 2.0 * a

    s.b = b
    s.b
    generated = s._generated[("b", ())]
    for value in (2.0, 3.0):
        s.a = s.tensor(np.full(4, value))
        np.testing.assert_allclose(to_numpy(s.b), 2 * value)
        assert s._generated[("b", ())] is generated
    # JAX traces the user function once and then reuses the compiled function; torch runs it eagerly
    assert len(calls) == (1 if backend == "jax" else 3)


def test_untraceable_callable_falls_back_to_eager(backend):
    s = new_state()
    s.a = 2.0
    s.sign = lambda a: 1.0 if a > 0 else -1.0  # Python control flow on a value
    if backend == "jax":
        with pytest.warns(UserWarning, match="eagerly"):
            assert float(s.sign) == 1.0
    else:
        assert float(s.sign) == 1.0
    s.a = -2.0
    assert float(s.sign) == -1.0


# ---------------------------------------------------------------------------------------------- autodiff
def cubic_state():
    s = new_state()
    s.a = s.tensor(np.array([0.5, 1.0, 2.0]))
    s.k = 3.0
    s.y = lambda a, k: k * a**3
    s.w = lambda y, a: y + a**2
    return s


def test_jit_and_autodiff_through_resolved_function(backend, dtype):
    """w(a) = k a³ + a²: jax.jit + jax.grad (JAX) or backward (torch) give dw/da = 3k a² + 2a."""
    s = cubic_state()
    f = s.resolve("w", ["a"])
    a = np.array([0.5, -1.0, 2.0])
    if backend == "jax":
        import jax

        np.testing.assert_allclose(to_numpy(jax.jit(f)(s.tensor(a))), 3 * a**3 + a**2, rtol=rtol(dtype))
        grad = jax.jit(jax.grad(lambda a: f(a).sum()))(s.tensor(a))
    else:
        import torch

        a_t = torch.tensor(a, dtype=s.dtype, requires_grad=True)
        f(a_t).sum().backward()
        grad = a_t.grad
    assert str(grad.dtype).endswith(dtype)
    np.testing.assert_allclose(to_numpy(grad), 9 * a**2 + 2 * a, rtol=rtol(dtype))


# ---------------------------------------------------------------------------------------------- exchange
def exchange_state(n, dx=1e-9):
    s = nm.State(nm.Mesh(n, (dx, dx, dx)))
    s.material.Ms = MS
    s.material.A = A_EX
    return s


@pytest.mark.parametrize("n", [(4, 3, 2), (5, 4)])
def test_exchange_uniform_m(backend, dtype, n):
    s = exchange_state(n)
    s.m = nm.VectorFunction(s).fill((1, 2, 2))
    nm.ExchangeField().register(s)
    h = s.h_exchange
    assert isinstance(h, nm.Function) and h.spaces == "n" * len(n) and h.shape == (3,)
    assert h.numpy().shape == tuple(k + 1 for k in n) + (3,)
    assert s.e_exchange.numpy().shape == n
    scale = 2 * A_EX / (MU0 * MS * 1e-9**2)
    assert np.abs(h.numpy()).max() < 10 * rtol(dtype) * scale
    energy_scale = A_EX * s.mesh.volume / 1e-9**2
    assert abs(float(to_numpy(s.E_exchange))) < 10 * rtol(dtype) * energy_scale


def spiral_state(backend, k_dx=0.3, n=(8, 2, 1), dx=1e-9):
    """m = (cos kx, sin kx, 0) as a dynamic attribute of the wave number k."""
    import importlib

    lib = importlib.import_module("jax.numpy" if backend == "jax" else "torch")
    s = exchange_state(n, dx)
    s.xn = s.coordinates("n")[0]
    s.k = s.tensor(k_dx / dx)
    s.m = lambda k, xn: lib.stack([lib.cos(k * xn), lib.sin(k * xn), 0 * xn], -1)
    nm.ExchangeField().register(s)
    return s


def test_exchange_spiral_energy_and_field(backend, float64):
    """Linear elements: |dm/dx|² = (2 - 2 cos(k dx)) / dx² in every cell, exactly; interior field is the
    three-point Laplacian, h = 2A/(mu0 Ms) (2 cos(k dx) - 2) / dx² m."""
    k_dx, dx, n = 0.3, 1e-9, (8, 2, 1)
    s = spiral_state(backend, k_dx, n, dx)
    expected = A_EX * s.mesh.volume * (2 - 2 * math.cos(k_dx)) / dx**2
    np.testing.assert_allclose(to_numpy(s.E_exchange), expected, rtol=1e-12)
    h = to_numpy(s.h_exchange)
    m = to_numpy(s.m)
    factor = 2 * A_EX / (MU0 * MS) * (2 * math.cos(k_dx) - 2) / dx**2
    np.testing.assert_allclose(h[1:-1], factor * m[1:-1], rtol=1e-10, atol=1e-10 * abs(factor))


def test_exchange_energy_gradient_wrt_wave_number(backend, float64):
    """d/dk of the resolved E_exchange(k) equals the analytic 2 A V sin(k dx) / dx."""
    k_dx, dx = 0.3, 1e-9
    s = spiral_state(backend, k_dx, dx=dx)
    E_of_k = s.resolve("E_exchange", ["k"])
    assert no_control_flow(E_of_k.source)
    expected = 2 * A_EX * s.mesh.volume * math.sin(k_dx) / dx
    k0 = k_dx / dx
    if backend == "jax":
        import jax

        grad = jax.grad(E_of_k)(s.tensor(k0))
    else:
        import torch

        k = torch.tensor(k0, dtype=torch.float64, requires_grad=True)
        E_of_k(k).backward()
        grad = k.grad
    np.testing.assert_allclose(to_numpy(grad), expected, rtol=1e-10)


def test_resolved_exchange_field_of_m(backend, float64):
    s = exchange_state((4, 3, 2))
    rng = np.random.default_rng(3)
    s.m = rng.normal(size=(5, 4, 3, 3))
    nm.ExchangeField().register(s)
    h_of_m = s.resolve("h_exchange", ["m"])
    # the materials are bound, or (torch) the coefficients computed from them
    bound = {"h_exchange__coefficients"} if s.backend.fold_constants else {"material__A", "material__Ms", "rho"}
    assert h_of_m.inputs == ["m"] and bound <= set(h_of_m.constants)
    np.testing.assert_allclose(to_numpy(h_of_m(s.m.tensor)), s.h_exchange.numpy(), rtol=1e-13)
    # the field is linear in m
    np.testing.assert_allclose(to_numpy(h_of_m(3.0 * s.m.tensor)), 3.0 * s.h_exchange.numpy(), rtol=1e-12,
                               atol=1e-12 * np.abs(s.h_exchange.numpy()).max())


def test_exchange_with_time_dependent_A(backend, float64):
    """A4: a material given as a callable of t needs no change in the exchange term."""
    s = spiral_state(backend)
    E0 = float(to_numpy(s.E_exchange))
    h0 = to_numpy(s.h_exchange)
    s.material.A = lambda t: A_EX * (1 + t / 1e-9)
    s.t = 1e-9
    np.testing.assert_allclose(to_numpy(s.E_exchange), 2 * E0, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(s.h_exchange), 2 * h0, rtol=1e-12, atol=1e-12 * np.abs(h0).max())


def test_functions_from_another_state_are_converted():
    """Values taken from a state of another backend/dtype are converted, not stored as foreign tensors."""
    import torch

    mesh = nm.Mesh((3, 2, 2), (1e-9, 1e-9, 1e-9))
    s_jax = nm.State(mesh, backend="jax", dtype="float32")
    s_torch = nm.State(mesh, backend="torch", dtype="float64")
    s_torch.material.A = nm.CellFunction(s_jax).fill(2.0)
    s_torch.rho_m = nm.CellFunction(s_jax).fill(0.5)
    s_torch.m = nm.VectorFunction(s_jax).fill((0, 0, 3))
    converted = nm.VectorFunction(s_torch, tensor=nm.VectorFunction(s_jax).fill(1.0))
    for value in (s_torch.material.A, s_torch.rho_m, s_torch.m, converted):
        assert isinstance(value.tensor, torch.Tensor) and value.tensor.dtype == torch.float64
        assert value.state is s_torch
    np.testing.assert_array_equal(s_torch.material.A.numpy(), 2.0)
    np.testing.assert_array_equal(s_torch.m.numpy()[..., 2], 1.0)
    assert isinstance(s_torch.tensor(s_jax.rho), torch.Tensor)


def test_tensor_does_not_alias_numpy_input(backend):
    s = new_state()
    values = np.zeros((3, 2, 2))
    f = nm.CellFunction(s, tensor=values)
    t = s.tensor(values)
    values[:] = 1.0  # changing the caller's array afterwards changes neither, in both backends
    assert np.all(f.numpy() == 0.0) and np.all(to_numpy(t) == 0.0)


def test_torch_cell_size_with_gradient_is_refused():
    """The torch kernels read dx as Python numbers (dx[k].item()); a dx that records a gradient would get a
    silently missing gradient, so the state refuses it. JAX kernels keep dx a traced array."""
    torch = pytest.importorskip("torch")

    def helix_field(mesh_dx, new_dx=None):
        state = nm.State(nm.Mesh((6, 3), mesh_dx), backend="torch", dtype="float64")
        if new_dx is not None:
            state.dx = new_dx
        state.material.A, state.material.Ms = 1e-11, 8e5
        nm.ExchangeField().register(state)
        phi = 0.4 * np.arange(7)[:, None] * np.ones((1, 4))  # by node index: the same m on both meshes
        state.m = np.stack([np.cos(phi), np.sin(phi), 0 * phi], -1)
        return to_numpy(state.h_exchange)

    state = nm.State(nm.Mesh((4, 3), (1e-9, 1e-9, 1e-9)), backend="torch", dtype="float64")
    with pytest.raises(ValueError, match="dx"):
        state.dx = torch.tensor([1e-9, 1e-9, 1e-9], dtype=torch.float64, requires_grad=True)
    # without a gradient a new dx is accepted and used by the kernels
    changed = helix_field((1e-9, 1e-9, 1e-9), torch.tensor([2e-9, 1e-9, 1e-9], dtype=torch.float64))
    np.testing.assert_allclose(changed, helix_field((2e-9, 1e-9, 1e-9)), rtol=1e-13)
    assert not np.allclose(changed, helix_field((1e-9, 1e-9, 1e-9)))


def test_resolve_folds_what_does_not_depend_on_the_inputs():
    """torch (fold_constants): dynamic attributes independent of the inputs are computed once at resolve time
    and bound like leaves; the result equals the unfolded function; a leaf that records a gradient keeps them
    inside, so repeated calls do not share an autograd graph; resolve_unbound + values() computes them anew."""
    torch = pytest.importorskip("torch")
    s = nm.State(nm.Mesh((3, 2), (1e-9, 1e-9, 1e-9)), backend="torch", dtype="float64")
    calls = []

    def scale(c):
        calls.append(1)
        return 2.0 * c

    s.c = s.tensor(3.0)
    s.x = s.tensor(0.0)
    s.scale = scale
    s.y = lambda x, scale: x * scale
    f = s.resolve("y", ["x"])
    assert f.constants == ["scale"] and "_f_scale" not in f.source and len(calls) == 1
    assert [float(f(s.tensor(v))) for v in (1.0, 2.0, 5.0)] == [6.0, 12.0, 30.0]
    assert len(calls) == 1  # computed once, at resolve time
    raw, constants = s.resolve_unbound("y", ["x"])
    s.c = s.tensor(4.0)
    assert float(raw(s.tensor(1.0), *s.values(constants))) == 8.0  # values() sees the new c
    # a leaf recording a gradient: nothing folded, each call builds its own graph
    c = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    s.c = c
    g = s.resolve("y", ["x"])
    assert g.constants == ["c"] and "_f_scale" in g.source
    for _ in range(2):
        g(s.tensor(1.0)).backward()
    assert float(c.grad) == 4.0


def test_folded_field_coefficients_match_the_unfolded_field():
    """The torch field kernels are split into cell-only coefficients and their application
    (forms.ir.split_coefficients); dm/dt resolved with folded coefficients equals the JAX one."""
    pytest.importorskip("torch")
    pytest.importorskip("jax")
    results = {}
    for backend in ("jax", "torch"):
        s = nm.State(nm.Mesh((6, 5, 2), (2e-9, 2e-9, 3e-9)), backend=backend, dtype="float64")
        rng = np.random.default_rng(3)
        s.material.Ms = 8e5 * (0.5 + rng.random((6, 5, 2)))
        s.material.A = 1.3e-11
        s.material.Ku = 2e5 * rng.random((6, 5, 2))
        s.material.Ku_axis = (0.0, 0.6, 0.8)
        s.material.alpha = 0.1 + 0.2 * rng.random((6, 5, 2))
        m = rng.normal(size=(7, 6, 3, 3))
        s.m = m / np.linalg.norm(m, axis=-1, keepdims=True)
        for name, term in (("exchange", nm.ExchangeField()), ("aniso", nm.UniaxialAnisotropyField()),
                           ("external", nm.ExternalField((1e4, -2e4, 3e4))), ("demag", nm.DemagField())):
            term.register(s, name)
        nm.TotalField("exchange", "aniso", "external", "demag").register(s)
        nm.LLGSolver(s)
        f = s.resolve("dmdt", ["t", "m"])
        if backend == "torch":
            assert {"h_exchange__coefficients", "h_external", "h_demag__weights"} <= set(f.constants)
        results[backend] = to_numpy(f(s.tensor(0.0), s.m.tensor))
    np.testing.assert_allclose(results["torch"], results["jax"], rtol=0, atol=1e-12 * np.abs(results["jax"]).max())
