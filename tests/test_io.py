"""File output: checkpoint/resume identity, VTK (.vti/.pvd), OVF 2.0 round trips, the node/cell mapping, FieldLogger."""

import struct

import numpy as np
import pytest

import neuralmag as nm
from tests.utils import to_numpy


def _macrospin(state=None):
    """Two cells with Zeeman + uniaxial anisotropy; pass a loaded state to re-register its terms."""
    if state is None:
        state = nm.State(nm.Mesh((2, 1, 1), (2e-9, 2e-9, 2e-9)))
        state.material.Ms = 8e5
        state.material.alpha = 0.1
        state.material.Ku = [[[1e5]], [[2e5]]]
        state.material.Ku_axis = (0, 0, 1)
        state.m = nm.VectorFunction(state).fill((np.sin(0.5), 0.0, np.cos(0.5)))
    nm.ExternalField((0.0, 2e4, 1e5)).register(state)
    nm.UniaxialAnisotropyField().register(state)
    nm.TotalField("external", "uniaxial").register(state)
    return state, nm.LLGSolver(state)


# ---------------------------------------------------------------------------------------- checkpoints
def test_checkpoint_resume_is_bit_identical(backend, float64, tmp_path):
    state, llg = _macrospin()
    for _ in range(2):
        llg.step(2e-12)
    path = state.save(tmp_path / "run.npz")
    for _ in range(2):
        llg.step(2e-12)
    m_a, t_a = to_numpy(state.m), float(state.t)

    with pytest.warns(UserWarning, match="h_uniaxial"):
        resumed = nm.State.load(path)
    assert resumed.backend.name == backend and resumed.dtype_name == "float64"
    resumed, llg_b = _macrospin(resumed)
    for _ in range(2):
        llg_b.step(2e-12)
    assert float(resumed.t) == t_a
    assert np.array_equal(to_numpy(resumed.m), m_a)
    assert not np.array_equal(m_a, to_numpy(nm.State.load(path, warn=False).m))  # it did move


def test_checkpoint_restores_values(backend, dtype, tmp_path):
    mesh = nm.Mesh((3, 2), (1e-9, 2e-9, 3e-9), origin=(1e-9, -2e-9, 0.5e-9), pbc=(True, False))
    state = nm.State(mesh)
    rng = np.random.default_rng(1)
    state.material.Ms = rng.uniform(1e5, 1e6, size=(3, 2))
    state.material.axis = (0.0, 0.6, 0.8)
    state.m = rng.normal(size=(3, 3, 3))
    state.t = 1.25e-9
    state.count, state.scale, state.flag = 7, 0.3, True
    state.mask = state.tensor(np.array([True, False, True]))
    state.h_applied = nm.VectorFunction(state).fill((1.0, 2.0, 3.0))
    state.twice = lambda scale: 2 * scale
    state.label = "not stored"
    path = state.save(tmp_path / "ck" / "state.chk")
    assert path.exists() and not path.with_name("state.chk.tmp").exists()

    with pytest.warns(UserWarning, match=r"twice.*label \(str\)"):
        loaded = nm.State.load(path)
    assert loaded.mesh == mesh and loaded.dtype_name == dtype and loaded.backend.name == backend
    for name in ("m", "material__Ms", "material__axis", "rho", "h_applied"):
        a, b = state._attrs[name], loaded._attrs[name]
        assert (a.spaces, a.shape) == (b.spaces, b.shape)
        assert np.array_equal(a.numpy(), b.numpy()), name
    assert isinstance(loaded.m, nm.VectorFunction)
    assert np.array_equal(to_numpy(loaded.t), to_numpy(state.t))
    assert np.array_equal(to_numpy(loaded.dx), to_numpy(state.dx))
    assert (loaded.count, loaded.scale, loaded.flag) == (7, 0.3, True)
    assert type(loaded.count) is int and type(loaded.flag) is bool
    assert to_numpy(loaded.mask).tolist() == [True, False, True]
    assert "twice" not in loaded and "label" not in loaded

    other = "torch" if backend == "jax" else "jax"
    converted = nm.State.load(path, backend=other, dtype="float64", warn=False)
    assert converted.backend.name == other
    assert to_numpy(converted.material.Ms) == pytest.approx(to_numpy(state.material.Ms), rel=1e-7)


def test_load_rejects_other_files(tmp_path):
    np.savez(tmp_path / "x.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not a NeuralMag checkpoint"):
        nm.State.load(tmp_path / "x.npz")


# ---------------------------------------------------------------------------------------- VTK
def test_vti_round_trip(backend, float64, tmp_path):
    pv = pytest.importorskip("pyvista")
    mesh = nm.Mesh((4, 3), (1e-9, 2e-9, 5e-9), origin=(1e-9, 0.0, 0.0), pbc=(True, False))
    state = nm.State(mesh)
    rng = np.random.default_rng(2)
    state.material.Ms = rng.uniform(1e5, 1e6, size=(4, 3))
    state.m = rng.normal(size=(4, 4, 3))
    state.t = 3e-10
    cellvec = rng.normal(size=(4, 3, 3))
    path = state.write_vti(tmp_path / "a.vti", ["m", "material__Ms", ("cellvec", cellvec)])

    grid = pv.read(str(path))
    assert tuple(grid.dimensions) == (5, 4, 1) and grid.n_cells == 12
    assert grid.origin == pytest.approx(mesh.origin) and grid.spacing == pytest.approx(mesh.dx)
    points = grid.point_data["m"].reshape(4, 5, 3)  # [iy, ix]: x runs fastest
    m = to_numpy(state.m)
    assert np.array_equal(points[:, :4], m.transpose(1, 0, 2))
    assert np.array_equal(points[:, 4], m[0])  # periodic x: the first node layer is repeated

    info, fields = nm.io.read_vti(path)
    assert info["mesh"] == mesh and info["t"] == 3e-10
    assert np.array_equal(fields["m"], m)
    assert np.array_equal(fields["material__Ms"], to_numpy(state.material.Ms))
    assert np.array_equal(fields["cellvec"], cellvec)

    fresh = nm.State(mesh)
    fresh.read_vti(path)
    assert to_numpy(fresh.m) == pytest.approx(m, abs=1e-15)
    with pytest.raises(ValueError, match="holds"):
        nm.State(nm.Mesh((4, 3), (1e-9, 2e-9, 5e-9))).read_vti(path)


def test_field_logger_vti_series_and_resume(backend, float64, tmp_path):
    pv = pytest.importorskip("pyvista")
    state, _ = _macrospin()
    logger = nm.FieldLogger(tmp_path / "out" / "run", ["m", "h", ("mz", lambda s: s.m.numpy()[..., 2])], every=2)
    written = []
    for i in range(5):
        state.t = i * 1e-12
        written += logger.log(state)
    assert [p.name for p in written] == ["run_000000.vti", "run_000001.vti", "run_000002.vti"]
    assert nm.io.read_pvd(tmp_path / "out" / "run.pvd") == [
        (0.0, "run_000000.vti"), (2e-12, "run_000001.vti"), (4e-12, "run_000002.vti")]
    reader = pv.get_reader(str(tmp_path / "out" / "run.pvd"))
    assert reader.time_values == pytest.approx([0.0, 2e-12, 4e-12])
    info, fields = nm.io.read_vti(written[-1])
    assert info["t"] == 4e-12
    assert np.array_equal(fields["h"], to_numpy(state.h))
    assert np.array_equal(fields["mz"], to_numpy(state.m)[..., 2])

    resumed = nm.FieldLogger(tmp_path / "out" / "run", ["m"])  # a restarted run continues the series
    state.t = 5e-12
    assert [p.name for p in resumed.log(state)] == ["run_000003.vti"]
    assert len(nm.io.read_pvd(tmp_path / "out" / "run.pvd")) == 4

    ovf = nm.FieldLogger(f"{tmp_path}/ovf/", ["m", "material__Ku"], format="ovf", ovf_format="text")
    names = [p.name for p in ovf.log(state) + ovf.log(state)]
    assert names == ["fields_m_000000.ovf", "fields_material__Ku_000000.ovf",
                     "fields_m_000001.ovf", "fields_material__Ku_000001.ovf"]
    info, ku = nm.io.read_ovf(tmp_path / "ovf" / names[1])
    assert np.array_equal(ku, to_numpy(state.material.Ku)) and info["t"] == 5e-12
    info, m_cells = nm.io.read_ovf(tmp_path / "ovf" / names[0])
    assert m_cells == pytest.approx(nm.io.nodes_to_cells(state.mesh, to_numpy(state.m)), abs=1e-16)


# ---------------------------------------------------------------------------------------- OVF
@pytest.mark.parametrize("fmt", ["binary8", "text"])
def test_ovf_cell_values_round_trip_exactly(backend, float64, tmp_path, fmt):
    mesh = nm.Mesh((3, 2, 4), (1e-9, 2e-9, 3e-9), origin=(-1e-9, 2e-9, 0.1e-9))
    state = nm.State(mesh)
    rng = np.random.default_rng(3)
    values = rng.normal(size=(3, 2, 4, 3)) * 8e5
    state.t = 1e-9
    path = nm.io.write_ovf(tmp_path / "m.ovf", state, values, cell=True, fmt=fmt, title="M", units="A/m")
    raw = path.read_bytes()
    assert raw.startswith(b"# OOMMF OVF 2.0\n")
    assert b"# Segment count: 1\n" in raw and b"# valuedim: 3\n" in raw and b"# xnodes: 3\n" in raw
    if fmt == "binary8":
        start = raw.index(b"# Begin: Data Binary 8\n") + len(b"# Begin: Data Binary 8\n")
        assert raw[start:start + 8] == struct.pack("<d", 123456789012345.0)
        first = struct.unpack("<3d", raw[start + 8:start + 32])
        assert first == tuple(values[0, 0, 0])
        second = struct.unpack("<3d", raw[start + 32:start + 56])
        assert second == tuple(values[1, 0, 0])  # x runs fastest
    info, back = nm.io.read_ovf(path)
    assert np.array_equal(back, values)
    assert info["mesh"] == mesh and info["format"] == fmt and info["t"] == 1e-9
    assert info["title"] == "M" and info["valueunits"] == "A/m A/m A/m"
    assert info["xbase"] == pytest.approx(-0.5e-9)

    scalar = rng.uniform(size=(3, 2, 4))
    _, back = nm.io.read_ovf(nm.io.write_ovf(tmp_path / "s.ovf", mesh, scalar, fmt=fmt))
    assert np.array_equal(back, scalar)


def test_ovf_2d_mesh_and_nodal_field(backend, float64, tmp_path):
    mesh = nm.Mesh((4, 3), (1e-9, 2e-9, 5e-9))
    state = nm.State(mesh)
    x, y, _ = state.coordinates("n", numpy=True)
    state.m = np.stack([1.0 + 0 * x, 0.2 + 1e7 * x, 0.1 - 3e7 * y], -1)
    path = nm.io.write_ovf(tmp_path / "m.ovf", state, "m")  # nodal: written as cell averages
    info, cells = nm.io.read_ovf(path)
    assert info["mesh"] == nm.Mesh((4, 3, 1), (1e-9, 2e-9, 5e-9)) and cells.shape == (4, 3, 1, 3)
    m = to_numpy(state.m)
    corners = (m[:-1, :-1] + m[1:, :-1] + m[:-1, 1:] + m[1:, 1:]) / 4
    assert cells[:, :, 0] == pytest.approx(corners, rel=1e-15, abs=1e-16)


def test_node_cell_mapping_exact_cases():
    mesh = nm.Mesh((5, 4, 3), (1e-9, 2e-9, 3e-9))
    ax = [np.arange(k + 1) * d for k, d in zip(mesh.n, mesh.dx)]
    x, y, z = np.meshgrid(*ax, indexing="ij")
    linear = 1.0 + 2e8 * x - 3e8 * y + 5e8 * z
    cells = nm.io.nodes_to_cells(mesh, linear)
    cx, cy, cz = (0.5 * (g[:-1, :-1, :-1] + g[1:, 1:, 1:]) for g in (x, y, z))
    assert cells == pytest.approx(1.0 + 2e8 * cx - 3e8 * cy + 5e8 * cz, rel=1e-14)  # value at the centre
    nodes = nm.io.cells_to_nodes(mesh, cells)
    inner = (slice(1, -1),) * 3
    assert nodes[inner] == pytest.approx(linear[inner], rel=1e-14)  # exact inside ...
    assert not np.allclose(nodes[0], linear[0])  # ... a smoothing on the boundary

    uniform = np.broadcast_to([0.6, 0.0, 0.8], mesh.shape("nnn") + (3,))
    assert nm.io.cells_to_nodes(mesh, nm.io.nodes_to_cells(mesh, uniform)) == pytest.approx(uniform, rel=1e-15)

    periodic = nm.Mesh((4, 2), (1e-9, 1e-9, 1e-9), pbc=(True, False))
    c = np.arange(8.0).reshape(4, 2)
    n = nm.io.cells_to_nodes(periodic, c)
    assert n.shape == (4, 3) and n[0, 1] == pytest.approx((c[3].sum() + c[0].sum()) / 4)
    assert nm.io.nodes_to_cells(periodic, n).shape == (4, 2)

    # weights: empty cells do not shorten the magnetisation of boundary nodes
    wmesh = nm.Mesh((3,), (1e-9, 1e-9, 1e-9))
    m = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    w = np.array([1.0, 1.0, 0.0])
    assert nm.io.cells_to_nodes(wmesh, m, weights=w)[:, 2].tolist() == [1.0, 1.0, 1.0, 0.0]
    assert nm.io.cells_to_nodes(wmesh, m)[:, 2].tolist() == [1.0, 1.0, 0.5, 0.0]


def _ovf_header(version_line, data_line, extra=""):
    return (f"{version_line}\n# Segment count: 1\n# Begin: Segment\n# Begin: Header\n# Title: m\n"
            "# meshtype: rectangular\n# meshunit: m\n# xbase: 5e-10\n# ybase: 5e-10\n# zbase: 5e-10\n"
            "# xstepsize: 1e-9\n# ystepsize: 1e-9\n# zstepsize: 1e-9\n# xnodes: 2\n# ynodes: 1\n# znodes: 1\n"
            f"{extra}# End: Header\n# Begin: {data_line}\n").encode()


def test_ovf_reader_binary4_and_ovf1(tmp_path):
    data = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, -0.25]])
    # mumax3 style: OVF 2.0, binary 4, no xmin (the origin comes from xbase)
    raw = _ovf_header("# OOMMF OVF 2.0", "Data Binary 4", "# valuedim: 3\n")
    raw += struct.pack("<f", 1234567.0) + data.astype("<f4").tobytes() + b"\n# End: Data Binary 4\n# End: Segment\n"
    (tmp_path / "a.ovf").write_bytes(raw)
    info, values = nm.io.read_ovf(tmp_path / "a.ovf")
    assert np.array_equal(values[:, 0, 0], data) and info["origin"] == pytest.approx((0.0, 0.0, 0.0))
    # OOMMF OVF 1.0: big-endian, implicit valuedim 3, valuemultiplier
    raw = _ovf_header("# OOMMF: rectangular mesh v1.0", "Data Binary 8", "# valuemultiplier: 2\n")
    raw += struct.pack(">d", 123456789012345.0) + data.astype(">f8").tobytes() + b"\n# End: Data Binary 8\n"
    (tmp_path / "b.ovf").write_bytes(raw)
    info, values = nm.io.read_ovf(tmp_path / "b.ovf")
    assert info["version"] == 1 and np.array_equal(values[:, 0, 0], 2 * data)
    # a wrong check value is an error
    (tmp_path / "c.ovf").write_bytes(raw.replace(struct.pack(">d", 123456789012345.0), struct.pack("<d", 1.0)))
    with pytest.raises(ValueError, match="check value"):
        nm.io.read_ovf(tmp_path / "c.ovf")
