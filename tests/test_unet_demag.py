r"""U-Net demagnetisation surrogate (issue 9): network, data generator, training script and ``nm.UNetDemagField``.

* the network is one pure function: JAX and PyTorch give the same output for the same weights;
* weight files round-trip (float32 exactly, float16 as rounded), with their metadata;
* the training augmentation is an exact symmetry of the FFT demag field (square cells);
* the data generator's reference field is ``DemagField(grid="cell")``'s field before the cell-to-node step;
* a few training steps lower the loss, and a resumed run continues bit-identically;
* the field term: nodal field = Ms·rho-weighted node mean of the network's cell field, energy
  :math:`-\frac{\mu_0}{2}\sum_c V\mathbf{M}_c\cdot\mathbf{h}_c = -\frac{\mu_0}{2}\int M_s\mathbf{m}\cdot\mathbf{h}`
  (lumped mass), homogeneity in M_s, invariance under scaling the cell, 2D film = 3D one-layer mesh, mesh checks;
  it runs in ``LLGSolver`` on both backends, and the shipped weights give the same field on both backends.

Accuracy and speed of the shipped network are measured by ``demos/unet_demag/evaluate.py`` (docs), not here.
"""

import numpy as np
import pytest

import neuralmag as nm
from neuralmag.learned import unet
from tests.utils import load_demo, to_numpy

torch = pytest.importorskip("torch")
gd = load_demo("unet_demag.generate_data")
tr = load_demo("unet_demag.train")

MU0 = 4e-7 * np.pi
CELL = gd.CELL


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    """An untrained 4-channel network for the CELL geometry, stored in float32."""
    path = tmp_path_factory.mktemp("unet") / "tiny.npz"
    unet.save(path, unet.init_params(4, seed=1), {"cell_size": list(CELL)}, dtype="float32")
    return path


def torch_nn():
    from neuralmag.backends.torch import nn

    return nn


# ---------------------------------------------------------------------------------------------- network
def test_forward_same_on_jax_and_torch():
    """Same weights, same input (a grid that needs padding) → the same field on both frameworks (float64)."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from neuralmag.backends.jax import nn as jnn

    params = unet.init_params(4, seed=2)
    x = np.random.default_rng(0).normal(size=(2, 4, 20, 13))
    y_torch = unet.predict({k: torch.as_tensor(v, dtype=torch.float64) for k, v in params.items()},
                           torch.as_tensor(x), torch_nn()).numpy()
    y_jax = np.asarray(unet.predict({k: jax.numpy.asarray(v, dtype="float64") for k, v in params.items()},
                                    jax.numpy.asarray(x), jnn))
    assert y_torch.shape == (2, 3, 20, 13)
    np.testing.assert_allclose(y_jax, y_torch, rtol=1e-10, atol=1e-12)


def test_prediction_is_odd_in_the_magnetisation():
    """The exact field is linear in M: the projected prediction satisfies h[-M] = -h[M] exactly (same mask),
    the plain network only approximately."""
    params = {k: torch.as_tensor(v, dtype=torch.float64) for k, v in unet.init_params(4, seed=5).items()}
    x = torch.as_tensor(np.random.default_rng(1).normal(size=(1, 4, 16, 16)))
    x[:, 3] = (x[:, 3] > 0).double()
    flipped = x * torch.tensor([-1.0, -1.0, -1.0, 1.0])[None, :, None, None]
    y, y_flipped = unet.predict(params, x, torch_nn()), unet.predict(params, flipped, torch_nn())
    torch.testing.assert_close(y_flipped, -y, rtol=0, atol=1e-14)
    plain, plain_flipped = (unet.predict(params, v, torch_nn(), odd=False) for v in (x, flipped))
    assert (plain + plain_flipped).abs().max() > 1e-6


def test_padding_keeps_the_sample_centred():
    assert unet.padding((20, 32)) == (6, 6, 0, 0)
    assert unet.padding((17, 1)) == (7, 8, 7, 8)
    for shape in [(16, 48), (5, 33)]:
        top, bottom, left, right = unet.padding(shape)
        assert (shape[0] + top + bottom) % 16 == 0 and (shape[1] + left + right) % 16 == 0
        assert 0 <= bottom - top <= 1 and 0 <= right - left <= 1


def test_weights_round_trip(tmp_path):
    params = unet.init_params(4, seed=3)
    meta = {"cell_size": list(CELL), "note": "test"}
    loaded, loaded_meta = unet.load(unet.save(tmp_path / "w32.npz", params, meta, dtype="float32"))
    assert set(loaded) == set(params)
    for key in params:
        np.testing.assert_array_equal(loaded[key], params[key])
    assert loaded_meta["cell_size"] == list(CELL) and loaded_meta["note"] == "test"
    assert loaded_meta["base_channels"] == 4 and loaded_meta["levels"] == unet.LEVELS
    half, half_meta = unet.load(unet.save(tmp_path / "w16.npz", params, meta))
    assert half_meta["storage_dtype"] == "float16"
    for key in params:
        np.testing.assert_array_equal(half[key], params[key].astype(np.float16).astype(np.float32))
    np.savez(tmp_path / "other.npz", __metadata__=np.array('{"architecture": "something else"}'))
    with pytest.raises(ValueError, match="architecture"):
        unet.load(tmp_path / "other.npz")


# ---------------------------------------------------------------------------------------------- data and training
def test_augmentation_is_a_symmetry_of_the_demag_field():
    """For each of the 16 operations g (square symmetries × sign): h[g M] = g h[M] for the FFT field."""
    n = 12
    rng = np.random.default_rng(4)
    reference = gd.ReferenceDemag((n, n))
    mask = rng.uniform(size=(1, 1, n, n)) < 0.7
    M = rng.normal(size=(1, 3, n, n)) * mask
    x = torch.as_tensor(np.concatenate([M, mask], 1))
    h = torch.as_tensor(reference(M))
    for ops in np.ndindex(2, 2, 2, 2):
        gx, gh = tr.augment(x, h, tuple(bool(o) for o in ops))
        np.testing.assert_allclose(reference(gx[:, :3].numpy()), gh.numpy(), atol=1e-12 * np.abs(h.numpy()).max())
        np.testing.assert_array_equal(gx[:, 3].abs().sum(), x[:, 3].sum())


def test_reference_field_is_the_cell_grid_fft_field(backend):
    """Weighted node mean of the generator's cell field = ``DemagField(grid="cell")``'s nodal field."""
    from neuralmag.field_terms.demag import CellGrid

    n, ms = 14, 7e5
    rng = np.random.default_rng(5)
    state = nm.State(nm.Mesh((n, n), CELL), dtype="float64")
    mask = gd.random_mask(n, rng, shaped_fraction=1.0)
    state.rho = mask.astype(float)
    state.material.Ms = ms
    state.m = gd.random_magnetisation(n, rng) * state._magnetic_nodes()[..., None]
    nm.DemagField(grid="cell").register(state)
    M = gd.cell_average(state.m.numpy()) * mask
    h_cells = gd.ReferenceDemag((n, n))(M) * ms  # vector axis first, as CellGrid.to_nodes takes it
    nodal = CellGrid(state).to_nodes(state.tensor(h_cells), state.tensor(mask * ms))
    np.testing.assert_allclose(to_numpy(nodal), to_numpy(state.h_demag), atol=1e-10 * ms)


def test_random_masks_and_states():
    rng = np.random.default_rng(6)
    masks = [gd.random_mask(32, rng) for _ in range(240)]
    full = sum(bool(m.all()) for m in masks)
    assert 50 <= full <= 110  # one third full squares (binomial, std ~7)
    assert all(m.mean() >= 0.1 for m in masks)
    for _ in range(20):
        m = gd.random_magnetisation(16, rng)
        np.testing.assert_allclose(np.linalg.norm(m, axis=-1), 1.0, rtol=1e-12)


def test_generate_data_quick(tmp_path):
    """The --quick run writes consistent pairs: M/Ms within the unit ball and zero off the sample."""
    line = gd.main(["--quick", "--backend", "torch", "--threads", "0", "--no-progress", "--out", str(tmp_path)])
    assert line.startswith("RESULT unet_demag_data")
    data, meta = gd.load_dataset(tmp_path / "train.npz")
    assert meta["cell_size"] == list(CELL) and meta["sizes"] == [16]
    rows = data[16]
    assert rows["M"].shape == (4, 3, 16, 16) and rows["h"].shape == (4, 3, 16, 16)
    assert np.all(np.linalg.norm(rows["M"], axis=1) <= 1 + 1e-6)
    assert np.all(rows["M"] * (1 - rows["mask"][:, None]) == 0)
    assert np.all(np.isfinite(rows["h"]))
    # later snapshots of a trajectory differ from the first (the LLG solver moved m)
    assert not np.allclose(rows["M"][0], rows["M"][1])


def synthetic_data(count=24, n=16, seed=7):
    """Random smooth magnetisations on random shapes with their FFT fields (no LLG: fast)."""
    rng = np.random.default_rng(seed)
    reference = gd.ReferenceDemag((n, n))
    masks = np.stack([gd.random_mask(n, rng) for _ in range(count)])
    M = np.stack([gd.cell_average(gd.random_magnetisation(n, rng)) for _ in range(count)]) * masks[:, None]
    return {n: {"M": M.astype(np.float32), "mask": masks.astype(np.uint8), "h": reference(M).astype(np.float32),
                "trajectory": np.arange(count), "time": np.zeros(count)}}


def test_training_lowers_the_loss_and_resumes_exactly(tmp_path):
    old_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train, val = tr.split_dataset(synthetic_data(), val_fraction=0.25)
        assert sum(v[0].shape[0] for v in val.values()) == 6
        config = dict(base_channels=4, steps=40, lr=3e-3, batch_pixels=4 * 256, warmup=3, seed=0)
        trainer = tr.Trainer(train, val, **config)
        val_before = trainer.evaluate()[0]
        losses = [trainer.step() for _ in range(40)]
        assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10])
        assert trainer.evaluate()[0] < val_before

        resumed = tr.Trainer(train, val, **config)
        for _ in range(20):
            resumed.step()
        resumed.save_checkpoint(tmp_path / "checkpoint.pt")
        restarted = tr.Trainer(train, val, **config)
        restarted.load_checkpoint(tmp_path / "checkpoint.pt")
        assert restarted.step_count == 20
        for _ in range(20):
            restarted.step()
        for key, value in trainer.params.items():
            torch.testing.assert_close(restarted.params[key], value, rtol=0, atol=0)

        path = trainer.export(tmp_path / "w.npz", {"cell_size": list(CELL)})
        params, meta = unet.load(path)
        assert meta["training"]["steps_done"] == 40 and meta["cell_size"] == list(CELL)
    finally:
        torch.set_num_threads(old_threads)


# ---------------------------------------------------------------------------------------------- field term
@pytest.fixture
def eager():
    """Evaluate attributes without jax.jit: these tests read each field once per state, where compiling the
    network (seconds per state) would dominate; the jitted path runs in the LLG and shipped-weights tests."""
    old = nm.config.jit
    nm.config.jit = False
    yield
    nm.config.jit = old


def film_state(n=(20, 12), cell=CELL, dtype="float64", ms=8e5, seed=8, layers=None):
    """A film with a hole (rho = 0) and a random magnetisation."""
    mesh = nm.Mesh(n + ((1,) if layers else ()), cell)
    state = nm.State(mesh, dtype=dtype)
    rng = np.random.default_rng(seed)
    x, y = np.meshgrid(np.arange(n[0]), np.arange(n[1]), indexing="ij")
    hole = (x - 6) ** 2 + (y - 5) ** 2 < 9
    rho = (~hole).astype(float)
    state.rho = rho[..., None] if layers else rho
    state.material.Ms = ms
    m = rng.normal(size=mesh.shape("n" * mesh.dim) + (3,))
    state.m = m
    return state


def reference_pipeline(state, weights):
    """Nodal field, cell field and M (NumPy float64) computed without the field term: cell averages, the network
    in PyTorch, the Ms·rho-weighted node mean."""
    params, _ = unet.load(weights)
    m = to_numpy(state.m)
    w = to_numpy(state.material.Ms) * to_numpy(state.rho)
    if m.ndim == 4:  # one cell layer
        m, w = 0.5 * (m[:, :, 0] + m[:, :, 1]), w[:, :, 0]
    M = w[..., None] * gd.cell_average(m).transpose(1, 2, 0)
    m_ref = w.max()
    x = np.concatenate([M.transpose(2, 0, 1) / m_ref, (w > 0)[None]], 0)[None]
    y = unet.predict({k: torch.as_tensor(v, dtype=torch.float64) for k, v in params.items()}, torch.as_tensor(x),
                     torch_nn()).numpy()[0]
    h = m_ref * y.transpose(1, 2, 0)
    num = np.zeros(m.shape)
    den = np.zeros(m.shape[:2] + (1,))
    for i, j in np.ndindex(2, 2):
        num[i:i + h.shape[0], j:j + h.shape[1]] += w[..., None] * h
        den[i:i + h.shape[0], j:j + h.shape[1]] += w[..., None]
    return num / np.where(den == 0, 1, den), h, M, w


def test_field_and_energy_of_the_unet_term(backend, dtype, tiny_weights, eager):
    state = film_state(dtype=dtype)
    nm.UNetDemagField(tiny_weights).register(state)
    h_nodes, h_cells, M, w = reference_pipeline(state, tiny_weights)
    h = to_numpy(state.h_demag)
    rtol = 1e-10 if dtype == "float64" else 2e-5
    scale = np.abs(h_nodes).max()
    np.testing.assert_allclose(h, h_nodes, atol=rtol * scale)
    volume = np.prod(CELL)
    E = float(to_numpy(state.E_demag))
    E_cells = -0.5 * MU0 * volume * np.sum(M * h_cells)
    # the same energy as the lumped nodal integral of Ms m.h: node mass = sum of adjacent Ms rho V / 4
    mass = np.zeros(h.shape[:2])
    for i, j in np.ndindex(2, 2):
        mass[i:i + w.shape[0], j:j + w.shape[1]] += w * volume / 4
    E_nodes = -0.5 * MU0 * np.sum(mass * np.sum(to_numpy(state.m) * h, -1))
    assert E == pytest.approx(E_cells, rel=rtol * 10, abs=1e-30)
    assert E == pytest.approx(E_nodes, rel=rtol * 10, abs=1e-30)
    assert float(np.sum(to_numpy(state.e_demag))) * volume == pytest.approx(E, rel=rtol * 10)


def test_unet_term_homogeneous_and_scale_free(backend, tiny_weights, eager):
    """h[λ Ms] = λ h[Ms] exactly (normalisation by max Ms rho); cells scaled by 2 give the same field (the demag
    tensor depends on the aspect ratio only); a 3D one-layer mesh gives the 2D film's field on both layers."""
    base = film_state()
    nm.UNetDemagField(tiny_weights).register(base)
    h = to_numpy(base.h_demag)
    doubled = film_state(ms=1.6e6)
    nm.UNetDemagField(tiny_weights).register(doubled)
    np.testing.assert_allclose(to_numpy(doubled.h_demag), 2 * h, rtol=1e-12, atol=1e-12 * np.abs(h).max())
    scaled = film_state(cell=tuple(2 * c for c in CELL))
    nm.UNetDemagField(tiny_weights).register(scaled)
    np.testing.assert_allclose(to_numpy(scaled.h_demag), h, rtol=1e-12, atol=1e-12 * np.abs(h).max())
    layered = film_state(layers=True)
    m2d = to_numpy(base.m)
    layered.m = np.stack([m2d, m2d], 2)
    nm.UNetDemagField(tiny_weights).register(layered)
    h3 = to_numpy(layered.h_demag)
    np.testing.assert_allclose(h3[:, :, 0], h, atol=1e-12 * np.abs(h).max())
    np.testing.assert_allclose(h3[:, :, 1], h, atol=1e-12 * np.abs(h).max())
    assert float(to_numpy(layered.E_demag)) == pytest.approx(float(to_numpy(base.E_demag)), rel=1e-12)


@pytest.mark.parametrize("n,cell,pbc,match", [
    ((8, 8), (5e-9, 4e-9, 3e-9), False, "aspect|trained"),
    ((8, 8), (5e-9, 5e-9, 5e-9), False, "trained"),
    ((8, 8, 2), CELL, False, "single-layer"),
    ((8, 8), CELL, True, "periodic"),
    ((8,), CELL, False, "2D film"),
])
def test_mesh_mismatch_raises(tiny_weights, n, cell, pbc, match):
    state = nm.State(nm.Mesh(n, cell, pbc=pbc))
    state.material.Ms = 8e5
    with pytest.raises(ValueError, match=match):
        nm.UNetDemagField(tiny_weights).register(state)


def test_missing_weights_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        nm.UNetDemagField(tmp_path / "none.npz")


def test_llg_integrates_the_unet_term(backend, tiny_weights):
    state = film_state(n=(16, 16), seed=9)
    state.material.A = 1.3e-11
    state.material.alpha = 0.5
    nm.ExchangeField().register(state)
    nm.UNetDemagField(tiny_weights).register(state)
    nm.TotalField("exchange", "demag").register(state)
    m0 = to_numpy(state.m)
    llg = nm.LLGSolver(state, rtol=1e-4, atol=1e-4)
    llg.step(2e-12)
    m1 = to_numpy(state.m)
    assert float(state.t) == pytest.approx(2e-12)
    magnetic = np.linalg.norm(m1, axis=-1) > 0
    np.testing.assert_allclose(np.linalg.norm(m1[magnetic], axis=-1), 1.0, rtol=1e-8)
    assert np.abs(m1 - m0).max() > 1e-3


def test_shipped_weights(tmp_path):
    """The packaged checkpoint: ≤ 10 MB, the trained geometry in its metadata, the same field on both backends,
    and a physical field: for a uniformly magnetised square it opposes M on average (positive energy) and is
    within 5 % (relative L2) of the FFT field."""
    path = unet.default_weights()
    assert path.exists() and path.stat().st_size <= 10 * 2**20
    term = nm.UNetDemagField()
    assert term.cell_size == pytest.approx(CELL)
    fields = {}
    for backend in ("torch", "jax"):
        pytest.importorskip(backend)
        state = nm.State(nm.Mesh((24, 24), CELL), backend=backend, dtype="float64")
        state.material.Ms = 8e5
        state.m = nm.VectorFunction(state).fill((1.0, 0.2, 0.0))
        nm.UNetDemagField().register(state)
        nm.DemagField(grid="cell").register(state, "fft")
        fields[backend] = to_numpy(state.h_demag)
        assert float(to_numpy(state.E_demag)) > 0
        m = to_numpy(state.m)
        assert np.mean(np.sum(m * fields[backend], -1)) < 0
        # and close to the FFT field it was trained on (measured 1.9 % relative L2 for this square)
        h_fft = to_numpy(state.h_fft)
        assert np.linalg.norm(fields[backend] - h_fft) < 0.05 * np.linalg.norm(h_fft)
    np.testing.assert_allclose(fields["jax"], fields["torch"], rtol=1e-9, atol=1e-9 * np.abs(fields["torch"]).max())


def test_vortex_detection_of_the_evaluation():
    """The ground-state protocol's core finder: one vortex of given polarity and chirality, an antivortex."""
    ev = load_demo("unet_demag.evaluate")
    n = 32
    c = np.arange(n + 1) - n / 2 + 0.3  # the core inside a cell, off the nodes
    x, y = np.meshgrid(c, c, indexing="ij")
    r = np.hypot(x, y)
    mask = np.ones((n, n), dtype=bool)
    for chirality, polarity in np.ndindex(2, 2):
        chirality, polarity = 2 * chirality - 1, 2 * polarity - 1
        m = np.stack([-chirality * y / r, chirality * x / r, polarity * 3 * np.exp(-r**2 / 4)], -1)
        m /= np.linalg.norm(m, axis=-1, keepdims=True)
        (core,) = ev.cores(m, mask)
        assert core[2:] == (1, polarity, chirality)
        assert abs(core[0] - n / 2) <= 1 and abs(core[1] - n / 2) <= 1
    anti = np.stack([x / r, -y / r, np.exp(-r**2 / 4)], -1)
    (core,) = ev.cores(anti / np.linalg.norm(anti, axis=-1, keepdims=True), mask)
    assert core[2] == -1 and core[3] == 1
    assert ev.match_cores([(3, 3, 1, 1, 1)], [(5, 4, 1, 1, -1), (3, 3, -1, 1, 0)]) == [(0, 0)]
