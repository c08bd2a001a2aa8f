"""Latent-space reduced-order dynamics (issue 9 part 2, ``neuralmag.learned.latent`` and
``demos/latent_dynamics``), tiny end-to-end runs in seconds:

* the field sampler stays in the 22–41 mT, 44° sector around −x, away from SP4 fields 1 and 2, and covers it;
* data generation on a 16 × 4-cell SP4 film (both backends): every field starts from the same S-state, the
  snapshots are cell averages of unit vectors, a second call resumes instead of re-simulating;
* a few epochs of both training stages lower the autoencoder loss and the 8-step look-ahead loss; a resumed
  trainer restores parameters and history;
* weights files round-trip exactly; the JAX and PyTorch forward passes agree on the same weights;
* ``LatentDynamics.rollout`` returns the documented shapes and dtypes on both backends and precisions, treats
  nodal and cell input alike and honours per-step fields.

Accuracy and speed are measured by ``demos/latent_dynamics/evaluate.py`` (docs/user_guide/latent_dynamics.md),
not here.
"""

import dataclasses

import numpy as np
import pytest

import neuralmag as nm
from neuralmag.learned import latent
from tests.utils import load_demo, to_numpy

torch = pytest.importorskip("torch")

gd = load_demo("latent_dynamics.generate_data")
tr = load_demo("latent_dynamics.train")

TINY_DATA = gd.DataConfig(cells=(16, 4), n_fields=3, t_end=1.5e-10)
#: two stride-2 layers take the 4 × 16 image to 1 × 4, as the published stack does with 64 × 256
TINY_TRAIN = dataclasses.replace(tr.CONFIGS["quick"], channels=(4, 8), ae_epochs=4, pred_epochs=6, ae_lr=3e-3,
                                 pred_lr=3e-3)


@pytest.fixture(autouse=True, scope="module")
def torch_single_thread():
    """Eager PyTorch on a loaded 2-core machine: one intra-op thread is faster."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    """``(data_dir, index, fields, m)`` of the tiny data set, simulated once with JAX in float64."""
    old = nm.config.backend, nm.config.dtype
    nm.config.backend, nm.config.dtype = "jax", "float64"
    try:
        data_dir = tmp_path_factory.mktemp("latent") / "data"
        gd.generate(TINY_DATA, data_dir, progress=False)
        index, fields, m = gd.load_data(data_dir)
    finally:
        nm.config.backend, nm.config.dtype = old
    return data_dir, index, fields, m


@pytest.fixture(scope="module")
def trained(tiny_data, tmp_path_factory):
    """A trainer after the tiny training run, and its output folder."""
    data_dir, index, fields, m = tiny_data
    out = tmp_path_factory.mktemp("train")
    trainer = tr.Trainer(TINY_TRAIN, fields, m, out, progress=False)
    trainer.run()
    return trainer, out, index


def random_model(arch, seed=0):
    """Random parameters with non-zero biases and a non-trivial normalisation, as ``(params, metadata)``."""
    rng = np.random.default_rng(seed)
    params = {k: (v + (0.05 * rng.standard_normal(v.shape) if k.endswith(".b") else 0)).astype(np.float32)
              for k, v in latent.init_params(arch, seed).items()}
    params["pred.out.w"] = (10 * params["pred.out.w"]).astype(np.float32)  # a predictor that visibly moves
    meta = {"dt": 1e-11, "normalisation": {
        "field_offset": [-0.03, 0.0], "field_scale": [0.005, 0.008],
        "latent_mean": rng.normal(size=arch.latent).tolist(), "latent_std": (1 + rng.random(arch.latent)).tolist()}}
    return params, meta


def smooth_film(nx, ny, n, seed=0):
    """``n`` smooth unit-vector cell fields ``(n, nx, ny, 3)``."""
    rng = np.random.default_rng(seed)
    x, y = np.meshgrid(np.linspace(0, 1, nx), np.linspace(0, 1, ny), indexing="ij")
    out = []
    for _ in range(n):
        a, b, c = rng.normal(size=3)
        phi = a * np.sin(np.pi * x) + b * y + 0.3 * c
        theta = 0.5 * np.pi + 0.1 * c * np.cos(np.pi * x)
        out.append(np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], -1))
    return np.array(out)


# ------------------------------------------------------------------------------------------- fields
def test_sampled_fields_stay_in_the_sector_and_avoid_the_test_fields():
    fields = gd.sample_fields(300, seed=3)
    r, angle = gd.field_polar(fields)
    assert fields.shape == (300, 3) and np.all(fields[:, 2] == 0)
    assert np.all((r >= gd.FIELD_MIN) & (r <= gd.FIELD_MAX))
    half = gd.SECTOR_DEG / 2
    assert np.all(np.abs(angle - 180.0) <= half)
    # the sector is the one that holds SP4's fields 1 and 2, and they are never in the training set
    for test_field in gd.TEST_FIELDS.values():
        tr_, ta = gd.field_polar(test_field)
        assert gd.FIELD_MIN < tr_[0] < gd.FIELD_MAX and abs(ta[0] - 180.0) < half
        assert np.linalg.norm(fields - test_field, axis=1).min() >= gd.EXCLUDE_RADIUS
    assert len(np.unique(fields, axis=0)) == 300
    # area-uniform cover: each quarter of the sector in (r², angle) gets about a quarter of the fields
    u = (r**2 - gd.FIELD_MIN**2) / (gd.FIELD_MAX**2 - gd.FIELD_MIN**2)
    v = (angle - 180.0 + half) / gd.SECTOR_DEG
    counts = np.histogram2d(u, v, bins=2, range=[[0, 1], [0, 1]])[0]
    assert counts.min() > 0.2 * 300
    # more fields extend the sequence (a data set can grow), another seed gives other fields
    np.testing.assert_array_equal(gd.sample_fields(10, seed=3), fields[:10])
    assert not np.allclose(gd.sample_fields(10, seed=4), fields[:10])


# ------------------------------------------------------------------------------------------- data
def test_generated_data(tiny_data):
    data_dir, index, fields, m = tiny_data
    n_snap = TINY_DATA.n_snapshots
    assert m.shape == (3, n_snap, 16, 4, 3) and m.dtype == np.float32
    np.testing.assert_allclose(fields, gd.sample_fields(3, TINY_DATA.seed))
    # every run starts from the S-state: mostly along +x, the same for all fields
    np.testing.assert_array_equal(m[:, 0], np.broadcast_to(m[0, 0], m[:, 0].shape))
    assert m[0, 0, ..., 0].mean() > 0.9
    # cell averages of unit vectors: |m| ≤ 1, close to 1 in the smooth S-state (on this 31 nm grid later states
    # hold domain walls a cell wide, where the average of the corners is short)
    norm = np.linalg.norm(m, axis=-1)
    assert norm.max() <= 1 + 1e-6 and norm[:, 0].min() > 0.9
    # the fields act: later snapshots differ between fields and the field turns ⟨m⟩ away from +x
    assert np.abs(m[0, -1] - m[1, -1]).max() > 1e-3
    assert np.all(m[:, -1, ..., 0].mean(axis=(1, 2)) < m[:, 0, ..., 0].mean(axis=(1, 2)))
    assert (data_dir / "s_state.npz").exists() and len(index["runs"]) == 3


def test_generation_resumes_and_runs_on_torch(tmp_path, tiny_data):
    """A second call keeps finished fields; with PyTorch the same S-state start gives the same first steps."""
    data_dir, _, _, m_jax = tiny_data
    old = nm.config.backend, nm.config.dtype
    nm.config.backend, nm.config.dtype = "torch", "float64"
    try:
        cfg = dataclasses.replace(TINY_DATA, n_fields=1, t_end=2e-11)
        target = tmp_path / "data"
        target.mkdir()
        (target / "s_state.npz").write_bytes((data_dir / "s_state.npz").read_bytes())
        gd.generate(cfg, target, progress=False)
        stamp = (target / "field_000.npz").stat().st_mtime_ns
        gd.generate(cfg, target, progress=False)
        assert (target / "field_000.npz").stat().st_mtime_ns == stamp
        _, _, m_torch = gd.load_data(target)
    finally:
        nm.config.backend, nm.config.dtype = old
    assert m_torch.shape == (1, 3, 16, 4, 3)
    np.testing.assert_allclose(m_torch[0], m_jax[0, :3], atol=1e-4)


# ------------------------------------------------------------------------------------------- training
def test_training_lowers_both_losses(trained):
    trainer, out, _ = trained
    h = trainer.history
    assert len(h["ae_train"]) == TINY_TRAIN.ae_epochs and len(h["pred_train"]) == TINY_TRAIN.pred_epochs
    assert h["ae_train"][-1] < h["ae_train"][0]
    assert h["pred_train"][-1] < h["pred_train"][0]
    assert all(np.isfinite(v).all() for v in h.values())


def test_autoencoder_steps_lower_the_loss_on_smooth_states():
    """Plain Adam steps on one batch through the pure network functions (the loss the scripts use)."""
    from neuralmag.backends.torch import nn

    arch = latent.Architecture(nx=16, ny=4, channels=(8, 16), latent=8, hidden=(16,))
    params = {k: torch.tensor(v, requires_grad=True) for k, v in latent.init_params(arch, 1).items()}
    opt = torch.optim.Adam([v for k, v in params.items() if not k.startswith("pred")], lr=3e-3)
    x = torch.as_tensor(tr.to_network(smooth_film(16, 4, 16)), dtype=torch.float32)
    losses = []
    for _ in range(15):
        loss, _ = tr.ae_loss(params, x, nn)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_resume_restores_the_trainer(trained, tiny_data):
    trainer, out, _ = trained
    _, _, fields, m = tiny_data
    fresh = tr.Trainer(dataclasses.replace(TINY_TRAIN, seed=5), fields, m, out, progress=False)
    fresh.load_checkpoint()
    assert fresh.stage == "done" and fresh.history == trainer.history
    for k, v in trainer.params.items():
        assert torch.equal(fresh.params[k], v.detach())
    assert fresh.normalisation == trainer.normalisation
    # --retrain-predictor: the autoencoder stays, the predictor starts again from its initial weights
    fresh.reset_predictor()
    init = latent.init_params(latent.architecture_of({k: v.detach() for k, v in fresh.params.items()}), 5)
    for k, v in fresh.params.items():
        expected = init[k] if k.startswith("pred.") else trainer.params[k].detach().numpy()
        np.testing.assert_array_equal(v.detach().numpy(), expected)
    assert fresh.stage == "pred" and fresh.epoch == 0 and fresh.history["pred_train"] == []


def test_windows_are_consecutive_snapshots():
    z = np.arange(2 * 15 * 3, dtype=float).reshape(2, 15, 3)
    win, fi = tr.windows(z, 12)
    assert win.shape == (2 * 4, 12, 3) and list(fi) == [0] * 4 + [1] * 4
    np.testing.assert_array_equal(win[5], z[1, 1:13])


# ------------------------------------------------------------------------------------------- weights files
def test_weights_round_trip(tmp_path, trained):
    trainer, out, index = trained
    meta = trainer.metadata(index)
    path = latent.save_weights(tmp_path / "model.npz", trainer.params, meta)
    params, loaded = latent.load_weights(path)
    assert set(params) == set(trainer.params)
    for k, v in trainer.params.items():
        np.testing.assert_array_equal(params[k], v.detach().numpy())
    assert loaded["normalisation"] == meta["normalisation"] and loaded["dt"] == meta["dt"]
    assert loaded["architecture"]["nx"] == 16 and loaded["architecture"]["ny"] == 4
    assert latent.architecture_of(params) == latent.Architecture(
        nx=16, ny=4, channels=TINY_TRAIN.channels, kernel=TINY_TRAIN.kernel, latent=TINY_TRAIN.latent,
        hidden=TINY_TRAIN.hidden, history=TINY_TRAIN.history)
    # a second save of the loaded weights is the same file content
    again = latent.save_weights(tmp_path / "again.npz", params, loaded)
    p2, m2 = latent.load_weights(again)
    assert m2 == loaded and all(np.array_equal(p2[k], params[k]) for k in params)


def test_load_rejects_other_npz(tmp_path):
    np.savez(tmp_path / "other.npz", __metadata__=np.array('{"format": "something else"}'), w=np.zeros(2))
    with pytest.raises(ValueError, match="not a latent-dynamics weights file"):
        latent.load_weights(tmp_path / "other.npz")


# ------------------------------------------------------------------------------------------- backends
def test_jax_and_torch_forward_passes_agree():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from neuralmag.backends.jax import nn as jnn
    from neuralmag.backends.torch import nn as tnn

    arch = latent.Architecture(nx=32, ny=8, channels=(4, 8, 16), kernel=3, latent=6, hidden=(20, 12))
    params, _ = random_model(arch, seed=2)
    rng = np.random.default_rng(3)
    m = tr.to_network(smooth_film(32, 8, 3))
    z = rng.normal(size=(3, arch.latent))
    h, past = rng.normal(size=(3, 2)), rng.normal(size=(3, arch.history, arch.latent))
    pj = {k: jax.numpy.asarray(v, dtype=jax.numpy.float64) for k, v in params.items()}
    pt = {k: torch.as_tensor(v, dtype=torch.float64) for k, v in params.items()}
    pairs = [
        (latent.encode(pj, jax.numpy.asarray(m), jnn), latent.encode(pt, torch.as_tensor(m), tnn)),
        (latent.decode(pj, jax.numpy.asarray(z), jnn), latent.decode(pt, torch.as_tensor(z), tnn)),
        (latent.predict(pj, jax.numpy.asarray(h), jax.numpy.asarray(past), jnn),
         latent.predict(pt, torch.as_tensor(h), torch.as_tensor(past), tnn)),
    ]
    for pj_out, pt_out in pairs:
        assert np.abs(to_numpy(pt_out)).max() > 1e-3
        np.testing.assert_allclose(np.asarray(pj_out), to_numpy(pt_out), rtol=1e-10, atol=1e-12)
    assert tuple(pairs[1][1].shape) == (3, 3, 8, 32)


def test_even_kernel_keeps_the_grid():
    from neuralmag.backends.torch import nn

    arch = latent.Architecture(nx=32, ny=8, channels=(4, 8, 8), kernel=4, latent=5, hidden=(8,))
    params = {k: torch.as_tensor(v) for k, v in latent.init_params(arch).items()}
    x = torch.as_tensor(tr.to_network(smooth_film(32, 8, 2)), dtype=torch.float32)
    z = latent.encode(params, x, nn)
    assert tuple(z.shape) == (2, 5) and tuple(latent.decode(params, z, nn).shape) == (2, 3, 8, 32)


def test_rollout(backend, dtype):
    arch = latent.Architecture(nx=32, ny=8, channels=(4, 8, 16), latent=6, hidden=(16,))
    model = random_model(arch, seed=4)
    rom = nm.learned.LatentDynamics(model)
    assert rom.backend.name == backend and rom.dtype_name == dtype and (rom.nx, rom.ny, rom.history) == (32, 8, 4)
    cells = smooth_film(32, 8, 4, seed=5)
    field = (-0.03, 0.004, 0.0)
    out = rom.rollout(cells, field, 7)
    assert tuple(out.m.shape) == (7, 32, 8, 3) and tuple(out.m_avg.shape) == (7, 3) and tuple(out.z.shape) == (7, 6)
    assert str(out.m.dtype).endswith(dtype)
    m, avg = to_numpy(out.m), to_numpy(out.m_avg)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(to_numpy(out.t), 1e-11 * np.arange(1, 8), rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(m, axis=-1), 1.0, atol=tol)
    np.testing.assert_allclose(avg, m.mean(axis=(1, 2)), atol=tol)
    assert np.abs(np.diff(to_numpy(out.z), axis=0)).max() > 1e-4  # the latent state moves
    # nodal input: the cell averages of a nodal field give the same rollout as those cells
    nodes = np.stack([nm.io.cells_to_nodes(nm.Mesh((32, 8), (1.0, 1.0, 1.0)), c) for c in cells])
    from_nodes = rom.rollout(nodes, field, 7)
    from_cells = rom.rollout(latent.cell_average(nodes), field, 7)
    np.testing.assert_allclose(to_numpy(from_nodes.m), to_numpy(from_cells.m), atol=10 * tol)
    # one field per step: the same field repeated is the constant-field rollout; another field changes it
    per_step = rom.rollout(cells, np.tile(field, (7, 1)), 7)
    np.testing.assert_allclose(to_numpy(per_step.m), m, atol=tol)
    other = rom.rollout(cells, np.tile([-0.04, -0.006], (7, 1)), 7)
    assert np.abs(to_numpy(other.m_avg) - avg).max() > 1e-5
    # encode/decode round trip has the documented layouts
    assert tuple(rom.encode(cells).shape) == (4, 6) and tuple(rom.decode(rom.encode(cells)).shape) == (4, 32, 8, 3)
    with pytest.raises(ValueError, match="history"):
        rom.rollout(cells[:3], field, 2)
    with pytest.raises(ValueError, match="cell arrays"):
        rom.rollout(np.zeros((4, 30, 8, 3)), field, 2)
    with pytest.raises(ValueError, match="in-plane"):
        rom.rollout(cells, (0.0, 0.0, 0.01), 2)


def test_trained_model_rolls_out_on_both_backends(trained, tiny_data, tmp_path):
    """The tiny trained model from a weights file: JAX and PyTorch give the same rollout of the simulated start."""
    trainer, out, index = trained
    _, _, fields, m = tiny_data
    path = latent.save_weights(tmp_path / "model.npz", trainer.params, trainer.metadata(index))
    n = m.shape[1] - 4
    runs = {b: nm.learned.LatentDynamics(path, backend=b, dtype="float64").rollout(m[-1, :4], fields[-1], n)
            for b in ("jax", "torch")}
    for r in runs.values():
        assert tuple(r.m.shape) == (n, 16, 4, 3)
    np.testing.assert_allclose(to_numpy(runs["jax"].m_avg), to_numpy(runs["torch"].m_avg), atol=1e-10)
