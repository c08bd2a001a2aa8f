"""neuralmag.ubermag: the Ubermag calculator.

Unit tests of the cell <-> node mapping and of the drivers run by default (PyTorch backend: no jit compile per
drive). The Ubermag calculator test suite ``micromagnetictests`` runs against ``neuralmag.ubermag`` as the
``slow`` job::

    python -m pytest -m slow tests/test_ubermag.py              # PyTorch (NM_UBERMAG_BACKEND=jax for JAX)

Tests of features NeuralMag does not have, or that check OOMMF/mumax3 specifics, are skipped with the reason
listed in ``SKIPPED`` (also in docs/user_guide/ubermag.md).
"""

import inspect
import os

import numpy as np
import pytest

df = pytest.importorskip("discretisedfield")
mm = pytest.importorskip("micromagneticmodel")

import neuralmag as nm  # noqa: E402
import neuralmag.ubermag as nmc  # noqa: E402
from neuralmag.io.ovf import cells_to_nodes, node_sum, nodes_to_cells  # noqa: E402
from neuralmag.ubermag._fields import cell_directions_to_nodes  # noqa: E402

BACKEND = os.environ.get("NM_UBERMAG_BACKEND", "torch")


@pytest.fixture(autouse=True)
def _workdir(tmp_path, monkeypatch):
    """Drives write <system name>/drive-<n>/ into the working directory: use a fresh temporary one."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def calculator():
    old = nm.config.backend
    nm.config.backend = BACKEND
    yield nmc
    nm.config.backend = old


# ---------------------------------------------------------------------------------------------- mapping
@pytest.mark.parametrize("pbc", [(False, False, False), (True, False, True)])
def test_round_trip_uniform_and_linear(pbc):
    n = (4, 3, 5)
    mesh = nm.Mesh(n, (1e-9, 1e-9, 1e-9), pbc=pbc)
    uniform = np.broadcast_to(np.array([0.3, -0.2, 0.9]), n + (3,))
    weights = np.ones(n)
    assert np.allclose(nodes_to_cells(mesh, cells_to_nodes(mesh, uniform, weights)), uniform)
    # a field linear in x, y, z is reproduced in the interior (non-periodic axes, away from the boundary)
    x, y, z = np.meshgrid(*[np.arange(k) + 0.5 for k in n], indexing="ij")
    linear = np.stack([2 * x + y, -z + 0.5 * x, x + y + z], -1)
    if not any(pbc):
        back = nodes_to_cells(mesh, cells_to_nodes(mesh, linear, weights))
        inner = (slice(1, -1),) * 3
        assert np.allclose(back[inner], linear[inner])


def test_nodes_ignore_empty_cells():
    n = (3, 1, 1)
    m = np.zeros(n + (3,))
    m[0] = (1.0, 0.0, 0.0)
    m[1] = (0.0, 0.0, 2.0)  # length is Ms; directions are what crosses over
    magnetic = np.array([True, True, False]).reshape(n)
    nodes = cell_directions_to_nodes(nm.Mesh(n, (1e-9, 1e-9, 1e-9)), m, magnetic)
    assert np.allclose(nodes[0, 0, 0], (1, 0, 0))
    assert np.allclose(nodes[1, 0, 0], np.array([1, 0, 1]) / np.sqrt(2))  # mean of the two magnetic cells
    assert np.allclose(nodes[2, 0, 0], (0, 0, 1))  # the empty cell is ignored
    assert np.allclose(nodes[3, 0, 0], 0)  # no magnetic cell around: no magnetisation


def test_antiparallel_neighbours_take_one_cell():
    m = np.zeros((2, 1, 1, 3))
    m[0, 0, 0], m[1, 0, 0] = (0, 0, 1), (0, 0, -1)
    nodes = cell_directions_to_nodes(nm.Mesh((2, 1, 1), (1e-9, 1e-9, 1e-9)), m, np.ones((2, 1, 1), bool))
    assert np.allclose(np.linalg.norm(nodes, axis=-1), 1)


# ---------------------------------------------------------------------------------------------- drivers
def _system(name, n=(4, 3, 2), H=(0, 0, 1e6), m0=(0, 1, 0.1), A=1e-12):
    mesh = df.Mesh(p1=(0, 0, 0), p2=(4e-9, 3e-9, 2e-9), n=n)
    system = mm.System(name=name)
    system.energy = mm.Exchange(A=A) + mm.Zeeman(H=H)
    system.m = df.Field(mesh, nvdim=3, value=m0, norm=8e5)
    return system


@pytest.mark.parametrize("driver", ["MinDriver", "RelaxDriver"])
def test_exchange_zeeman_relaxes_to_field(calculator, driver):
    system = _system(f"relax_{driver}")
    getattr(calculator, driver)().drive(system, verbose=0)
    assert np.allclose(system.m.orientation.array, (0, 0, 1), atol=1e-7)
    table = system.table
    assert table.x == "iteration"
    for column in ("mx", "my", "mz", "E", "E_exchange", "E_zeeman", "Bz_zeeman"):
        assert column in table.data.columns
    assert abs(table.data["mz"].iloc[-1] - 1) < 1e-7
    # both stop on the same absolute torque, 1e-11 Ms = 8e-6 A/m
    assert table.data["max_mxHxm"].iloc[-1] < 8e-6
    Ms, V = 8e5, 24e-27
    assert np.isclose(table.data["E_zeeman"].iloc[-1], -4e-7 * np.pi * Ms * 1e6 * V, rtol=1e-9)
    assert np.isclose(table.data["Bz_zeeman"].iloc[-1], 4e-7 * np.pi * 1e6 * 1e3)
    assert os.path.isfile(os.path.join(system.name, "drive-0", "info.json"))
    calculator.delete(system)
    assert not os.path.exists(system.name)


def test_timedriver_precession_and_table(calculator):
    system = _system("precess", H=(0, 0, 1e5), m0=(1, 0, 1))
    system.dynamics = mm.Precession(gamma0=mm.consts.gamma0) + mm.Damping(alpha=0.0)
    calculator.TimeDriver().drive(system, t=20e-12, n=4, verbose=0)
    data = system.table.data
    assert list(data["t"]) == pytest.approx([5e-12, 10e-12, 15e-12, 20e-12], abs=1e-24)
    # undamped precession about z at omega = gamma0 H: mz is conserved, mx follows cos(omega t)
    omega = mm.consts.gamma0 * 1e5
    assert np.allclose(data["mz"], 1 / np.sqrt(2), atol=1e-6)
    assert np.allclose(data["mx"], np.cos(omega * data["t"]) / np.sqrt(2), atol=1e-5)
    assert np.allclose(data["my"], np.sin(omega * data["t"]) / np.sqrt(2), atol=1e-5)
    # the same data read back from disk
    import micromagneticdata as mdata

    drive = mdata.Data(name=system.name)[-1]
    assert drive.n == 4
    assert np.allclose(drive.table.data["mx"], data["mx"])


def test_time_dependent_zeeman_columns(calculator):
    system = _system("zeeman_t", m0=(0, 0, 1))
    f = 10e9
    system.energy = (mm.Zeeman(H=(1e6, 0, 0), func=lambda t: np.cos(2 * np.pi * f * t), dt=5e-12, name="xdir")
                     + mm.Zeeman(H=(0, 1e6, 0), func="sin", f=f, t0=0, name="ydir"))
    system.dynamics = mm.Damping(alpha=1)
    calculator.TimeDriver().drive(system, t=0.1e-9, n=20, verbose=0)
    data = system.table.data
    t = data["t"].to_numpy()
    B = 4e-7 * np.pi * 1e6 * 1e3
    assert np.allclose(data["Bx_xdir"], B * np.cos(2 * np.pi * f * t), atol=B * 2e-2)  # linear interpolation
    assert np.allclose(data["By_ydir"], B * np.sin(2 * np.pi * f * t), atol=B * 1e-9)
    assert np.allclose(data["By_xdir"], 0) and np.allclose(data["Bx_ydir"], 0)


def test_hysteresis_and_fixed_subregions(calculator):
    system = _system("hyst", m0=(0, 1, 0))
    calculator.HysteresisDriver().drive(system, Hmin=(0, 0, -1e6), Hmax=(0, 0, 1e6), n=3, verbose=0)
    assert list(system.table.data["B_hysteresis"]) == pytest.approx(
        [4e2 * np.pi * x for x in (1, 0, -1, 0, 1)])
    assert system.table.x == "B_hysteresis"

    mesh = df.Mesh(p1=(0, 0, 0), p2=(4e-9, 4e-9, 1e-9), n=(4, 4, 1),
                   subregions={"left": df.Region(p1=(0, 0, 0), p2=(2e-9, 4e-9, 1e-9))})
    fixed = mm.System(name="fixed")
    fixed.energy = mm.Zeeman(H=(0, 0, 1e5))
    fixed.m = df.Field(mesh, nvdim=3, value=(1, 0, 0), norm=1e6)
    calculator.MinDriver().drive(fixed, fixed_subregions=["left"], verbose=0)
    assert np.allclose(fixed.m["left"].orientation.array, (1, 0, 0))
    right = fixed.m.orientation.array[2:]
    assert np.allclose(right, (0, 0, 1), atol=1e-7)


def test_compute_energy_density_field(calculator):
    system = _system("compute")
    system.energy += mm.UniaxialAnisotropy(K=1e4, u=(1, 0, 0)) + mm.Demag()
    E = calculator.compute(system.energy.energy, system)
    parts = sum(calculator.compute(term.energy, system) for term in system.energy)
    assert np.isclose(E, parts)
    density = calculator.compute(system.energy.density, system)
    assert np.isclose(density.integrate(), E, rtol=1e-9)
    h = calculator.compute(system.energy.zeeman.effective_field, system)
    assert np.allclose(h.array, (0, 0, 1e6))
    with pytest.raises(ValueError):
        calculator.compute(system.energy.__len__, system)


def test_gradients_through_translated_state(calculator):
    """The translated state is an ordinary NeuralMag state: resolve and differentiate it."""
    import torch

    system = _system("grad")
    sim = nmc.Simulation(system, backend="torch")
    energy = sim.state.resolve("E", ["m"])
    m = sim.state.m.tensor.clone().requires_grad_(True)
    energy(m).backward()
    # E is differentiable; h_n = -dE/dm_n / (mu0 M_n) with the lumped nodal moment M_n
    moment = node_sum(sim.state.mesh, np.full((4, 3, 2), 8e5 * 1e-27 / 8))
    h = -m.grad.numpy() / (4e-7 * np.pi * moment[..., None])
    assert np.allclose(h, sim.state.h.numpy(), rtol=1e-10, atol=1e-4)


# ---------------------------------------------------------------------------------------------- the suite
mt = pytest.importorskip("micromagnetictests")

#: micromagnetictests tests that are skipped, with the reason (mirrored in docs/user_guide/ubermag.md)
SKIPPED = {
    # OOMMF evolvers, files and scripting
    "TestMinDriver.test_evolver_nodriver": "OOMMF evolver (CGEvolver): NeuralMag has no evolver objects",
    "TestMinDriver.test_evolver_driver": "OOMMF evolver (CGEvolver)",
    "TestMinDriver.test_wrong_evolver": "OOMMF evolver (RungeKuttaEvolver)",
    "TestMinDriver.test_output_files": "checks OOMMF/mumax3 input files (.mif/.mx3)",
    "TestTimeDriver.test_rungekutta_evolver_nodriver": "OOMMF evolver (RungeKuttaEvolver)",
    "TestTimeDriver.test_euler_evolver_nodriver": "OOMMF evolver (EulerEvolver)",
    "TestTimeDriver.test_theta_evolver_nodriver": "OOMMF evolver (UHH_ThetaEvolver)",
    "TestTimeDriver.test_therm_heun_evolver_nodriver": "OOMMF evolver (Xf_ThermHeunEvolver)",
    "TestTimeDriver.test_wrong_evolver": "OOMMF evolver (CGEvolver)",
    "TestTimeDriver.test_output_files": "checks OOMMF/mumax3 input files (.mif/.mx3)",
    "TestTimeDriver.test_noevolver_nodriver_finite_temperature":
        "expects an error because OOMMF's default evolver has no temperature; NeuralMag integrates the "
        "stochastic LLG equation instead",
    "TestSlonczewski.test_single_values_finite_temperature": "OOMMF evolver (Xf_ThermSpinXferEvolver)",
    "TestZeeman.test_time_vector": "uses OOMMF tcl_strings (the sin/sinc/callable parts are covered in "
                                   "tests/test_ubermag.py)",
    "TestZeeman.test_time_field": "uses OOMMF tcl_strings",
    "TestZhangLi.test_time_tcl_scalar_u": "uses OOMMF tcl_strings",
    "TestSlonczewski.test_single_values": "uses OOMMF tcl_strings",
    "TestSlonczewski.test_dict_values": "uses OOMMF tcl_strings",
    # mumax3-specific expectations (the tests branch on hasattr(calculator, "RelaxDriver"))
    "TestDMI.test_scalar": "expects RelaxDriver to refuse DMI without exchange (a mumax3 limitation)",
    "TestDMI.test_dict": "expects RelaxDriver to refuse DMI without exchange (a mumax3 limitation)",
    "TestDMI.test_crystalclass_init": "expects ValueError for the crystal classes mumax3 lacks; NeuralMag "
                                      "supports all of them (see TestDMI.test_crystalclass)",
    # the nodal discretisation
    "TestExchange.test_dict": "inter-region exchange ('r1:r2'): in the nodal scheme neighbouring regions "
                              "share their interface nodes, so an antiparallel interface cannot be represented",
    "TestCubicAnisotropy.test_scalar_vector_vector":
        "samples the cell next to a sharp interface of the initial state without exchange: its interface node "
        "mixes the two sides in the nodal scheme",
    "TestZeeman.test_dict": "region means include the cells at the region interface, whose shared nodes feel the "
                            "mean field of both regions (no exchange)",
    "TestZeeman.test_time_dict": "as TestZeeman.test_dict (region means include the interface cells)",
    "TestDMI.test_crystalclass": "expects the zero-mean period-4 spiral of the finite-difference DMI stencil "
                                 "without exchange; the nodal DMI-only equilibrium differs (its mean is not 0)",
    "TestSlonczewski.test_field_values": "uses OOMMF tcl_strings",
    "TestRKKY.test_scalar": "RKKY between subregions stacked along y (NeuralMag couples node layers along z) "
                            "and no exchange: cells are not independent in the nodal scheme",
}

#: the micromagnetictests names collected here (classes are subclassed so that the marks stay local)
for _name, _obj in mt.get_tests():
    if inspect.isclass(_obj):
        globals()[_name] = pytest.mark.slow(type(_name, (_obj,), {"__module__": __name__}))
    else:
        globals()[_name] = pytest.mark.slow(_obj)
from micromagnetictests.calculatortests.hysteresisdriver import Ms, system  # noqa: E402,F401  (fixtures)


@pytest.fixture(autouse=True)
def _skip_unsupported(request):
    cls = request.node.cls
    key = f"{cls.__name__}.{request.node.originalname}" if cls is not None else request.node.originalname
    if key in SKIPPED:
        pytest.skip(SKIPPED[key])
