"""Train the latent-space model of SP4 switching (issue 9, Kovacs et al. 2019) on ``generate_data.py``'s data.

Two stages, both with PyTorch and Adam (AdamW for the predictor, weight decay 0 by default), on the pure network functions of ``neuralmag.learned.latent`` (the same
functions :class:`neuralmag.learned.LatentDynamics` runs on JAX or PyTorch):

1. **Autoencoder** on every snapshot of the training fields, loss per cell (``m̂`` the reconstruction)

       L_AE = ⟨|m̂x − mx| + |m̂y − my| + 10 |m̂z − mz|⟩ + λ ⟨(|m̂|² − 1)²⟩,   λ = 1,

   the weight 10 because mz is small in the film but carries the switching, the penalty keeping the output on
   the unit sphere. λ ramps up linearly from 0 over the first half of the epochs (``unit_ramp``): with the full
   penalty from the start the autoencoder gets stuck decoding every state as the majority state, m ≈ −x,
   because turning an output from −x to +x means passing through the inside of the sphere, which the penalty
   forbids (measured on the CPU data set: no escape in 40 epochs with λ = 1 at learning rate 1e-3, escape after
   3–5 epochs with λ = 0).
2. **Predictor** with the encoder frozen: the snapshots are encoded and normalised per latent dimension
   (ẑ = (z − µ)/σ over the training fields), the fields normalised by their mean and standard deviation. From
   every window of 4 + 8 consecutive latents the predictor starts on the 4 true ones and feeds its own outputs
   back for 8 steps (the recursive look-ahead); the loss is the mean squared error of all 8 predictions,

       L_P = (1/8) Σ_{j=1..8} ⟨(ẑ_{k+j}^pred − ẑ_{k+j})²⟩,

   so the network learns to correct its own errors instead of only the one-step map. Optional regularisation
   (off by default; it did not lower the validation loss on the CPU data set): Gaussian noise of std
   ``pred_noise`` on the 4 start latents and weight decay ``pred_weight_decay``.

The last ``val_fields`` fields of the data set are held out of both stages as a validation set. Learning rates
decay with a cosine from ``lr`` to ``lr/100``. A checkpoint (parameters, optimiser, loss history) is written after
every epoch to ``<out>/checkpoints/latest.pt``; ``--resume`` continues from it, ``--retrain-predictor`` keeps its
autoencoder and trains a new predictor. Writes ``<out>/model.npz`` (the weights for ``LatentDynamics``),
``<out>/loss_curves.png`` and ``<out>/train_history.json``.

    python demos/latent_dynamics/train.py [--quick | --full] [--resume | --retrain-predictor] [--ae-epochs N]
        [--pred-epochs N] [--pred-noise S] [--pred-weight-decay W] [--threads 1] [--out results/latent_dynamics/cpu]

CPU default: 60 autoencoder epochs (about 9 min) and 300 predictor epochs (about 3 min) on one core.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
for _p in (HERE, HERE.parent):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import generate_data  # noqa: E402

from neuralmag.learned import latent  # noqa: E402


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Network sizes and optimisation settings (see the module docstring for the losses)."""

    channels: tuple[int, ...] = (16, 32, 64, 128, 256)
    kernel: int = 3
    latent: int = 16
    hidden: tuple[int, ...] = (256, 256)
    history: int = 4
    lookahead: int = 8
    mz_weight: float = 10.0
    unit_weight: float = 1.0
    unit_ramp: float = 0.5
    ae_epochs: int = 60
    ae_batch: int = 32
    ae_lr: float = 2e-3
    pred_epochs: int = 300
    pred_batch: int = 64
    pred_lr: float = 1e-3
    pred_noise: float = 0.0
    pred_weight_decay: float = 0.0
    val_fields: int = 4
    seed: int = 0


CONFIGS = {
    "quick": TrainConfig(channels=(4, 8, 16), latent=8, hidden=(32,), ae_epochs=3, ae_batch=8, ae_lr=3e-3,
                         pred_epochs=5, pred_batch=8, val_fields=1),
    "cpu": TrainConfig(),
    "full": TrainConfig(channels=(16, 32, 64, 128, 256, 512), hidden=(512, 512), ae_epochs=100, pred_epochs=500,
                        val_fields=10),
}


# ------------------------------------------------------------------------------------------- losses
def ae_loss(params, x, nn, mz_weight: float = 10.0, unit_weight: float = 1.0):
    """``(L_AE, reconstruction part)`` of a batch ``x`` (``N × 3 × ny × nx``, network layout)."""
    y = latent.decode(params, latent.encode(params, x, nn), nn)
    d = (y - x).abs()
    recon = (d[:, 0] + d[:, 1] + mz_weight * d[:, 2]).mean()
    unit = ((y * y).sum(1) - 1.0).square().mean()
    return recon + unit_weight * unit, recon


def lookahead_loss(params, h, z, nn, history: int = 4):
    """Recursive look-ahead loss of windows ``z`` (``B × (history + L) × latent``, normalised) in the normalised
    fields ``h`` (``B × 2``): the predictor starts from the first ``history`` latents and is fed its own
    predictions for the remaining ``L`` steps; mean squared error over all of them."""
    import torch

    past, losses = z[:, :history], []
    for j in range(history, z.shape[1]):
        pred = latent.predict(params, h, past, nn)
        losses.append((pred - z[:, j]).square().mean())
        past = torch.cat([past[:, 1:], pred[:, None]], 1)
    return torch.stack(losses).mean()


# ------------------------------------------------------------------------------------------- data
def to_network(m):
    """Cell arrays ``(..., nx, ny, 3)`` → network layout ``(N, 3, ny, nx)`` (NumPy)."""
    m = np.asarray(m)
    return np.ascontiguousarray(m.reshape(-1, *m.shape[-3:]).transpose(0, 3, 2, 1))


def split(fields, m, val_fields: int):
    """``(train, val)`` pairs of ``(fields, m)``: the last ``val_fields`` fields are held out."""
    n_val = min(val_fields, len(fields) - 1)
    cut = len(fields) - n_val
    return (fields[:cut], m[:cut]), (fields[cut:], m[cut:])


def windows(z, length: int):
    """All windows of ``length`` consecutive snapshots: ``(z[f, k:k+length], f)`` stacked, from ``z`` of shape
    ``(fields, snapshots, latent)``; returns ``(windows (W, length, latent), field index (W,))``."""
    n_f, n_s = z.shape[:2]
    idx = np.arange(n_s - length + 1)
    win = np.stack([z[:, k:k + length] for k in idx], 1)  # (fields, starts, length, latent)
    return win.reshape(-1, length, z.shape[-1]), np.repeat(np.arange(n_f), len(idx))


def cosine_lr(lr: float, epoch: int, epochs: int) -> float:
    """Cosine decay from ``lr`` (epoch 0) to ``lr/100`` (last epoch)."""
    frac = epoch / max(1, epochs - 1)
    return lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * frac)))


# ------------------------------------------------------------------------------------------- training
class Trainer:
    """Both training stages with checkpoints in ``out/checkpoints/latest.pt``."""

    def __init__(self, cfg: TrainConfig, fields, m, out, progress: bool = True):
        import torch

        from neuralmag.backends.torch import nn

        self.torch, self.nn = torch, nn
        self.cfg, self.out, self.progress = cfg, Path(out), progress
        (self.f_train, m_train), (self.f_val, m_val) = split(fields, m, cfg.val_fields)
        self.m_train, self.m_val = m_train, m_val
        self.x_train = torch.as_tensor(to_network(m_train))
        self.x_val = torch.as_tensor(to_network(m_val))
        nx, ny = m.shape[-3], m.shape[-2]
        arch = latent.Architecture(nx=nx, ny=ny, channels=cfg.channels, kernel=cfg.kernel, latent=cfg.latent,
                                   hidden=cfg.hidden, history=cfg.history)
        self.params = {k: torch.tensor(v, requires_grad=True) for k, v in latent.init_params(arch, cfg.seed).items()}
        self.history = {"ae_train": [], "ae_val": [], "ae_val_recon": [], "pred_train": [], "pred_val": []}
        self.stage, self.epoch = "ae", 0
        self.normalisation = None
        self.opt = self._optimizer("ae")
        self.gen = torch.Generator().manual_seed(cfg.seed)
        self.seconds = {"ae": 0.0, "pred": 0.0}

    def _names(self, stage):
        return [k for k in self.params if k.startswith(("enc.", "dec.") if stage == "ae" else ("pred.",))]

    def _optimizer(self, stage):
        params = [self.params[k] for k in self._names(stage)]
        if stage == "ae":
            return self.torch.optim.Adam(params, lr=self.cfg.ae_lr)
        return self.torch.optim.AdamW(params, lr=self.cfg.pred_lr, weight_decay=self.cfg.pred_weight_decay)

    # ----------------------------------------------------------------- checkpoints
    @property
    def checkpoint_path(self) -> Path:
        return self.out / "checkpoints" / "latest.pt"

    def save_checkpoint(self):
        self.checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.checkpoint_path.with_suffix(".tmp")
        self.torch.save({"stage": self.stage, "epoch": self.epoch, "config": dataclasses.asdict(self.cfg),
                         "params": {k: v.detach() for k, v in self.params.items()}, "opt": self.opt.state_dict(),
                         "history": self.history, "normalisation": self.normalisation, "gen": self.gen.get_state(),
                         "seconds": self.seconds}, tmp)
        tmp.replace(self.checkpoint_path)  # never a half-written checkpoint

    def load_checkpoint(self):
        ck = self.torch.load(self.checkpoint_path, weights_only=False)
        if tuple(ck["config"]["channels"]) != self.cfg.channels or tuple(ck["config"]["hidden"]) != self.cfg.hidden:
            raise ValueError("The checkpoint was written with other network sizes.")
        with self.torch.no_grad():
            for k, v in ck["params"].items():
                self.params[k].copy_(v)
        self.stage, self.epoch, self.history = ck["stage"], ck["epoch"], ck["history"]
        self.normalisation, self.seconds = ck["normalisation"], ck.get("seconds", self.seconds)
        self.opt = self._optimizer(self.stage)
        self.opt.load_state_dict(ck["opt"])
        self.gen.set_state(ck["gen"])

    def reset_predictor(self):
        """Start stage 2 afresh (new predictor weights, optimiser and history), keeping the trained autoencoder of
        a loaded checkpoint: to try other predictor settings without retraining the autoencoder."""
        if self.stage == "ae":
            raise ValueError("The autoencoder has not finished training; nothing to keep.")
        arch = latent.architecture_of({k: v.detach() for k, v in self.params.items()})
        fresh = latent.init_params(arch, self.cfg.seed)
        with self.torch.no_grad():
            for k in self._names("pred"):
                self.params[k].copy_(self.torch.as_tensor(fresh[k]))
        self.stage, self.epoch, self.normalisation = "pred", 0, None
        self.history["pred_train"], self.history["pred_val"] = [], []
        self.seconds["pred"] = 0.0
        self.opt = self._optimizer("pred")

    # ----------------------------------------------------------------- stage 1
    def _descend(self, loss) -> float:
        """One optimiser step on ``loss``; returns its value."""
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss.item()

    def ae_epoch(self, epoch: int, bar=None):
        torch, cfg = self.torch, self.cfg
        for g in self.opt.param_groups:
            g["lr"] = cosine_lr(cfg.ae_lr, epoch, cfg.ae_epochs)
        unit = cfg.unit_weight * min(1.0, epoch / max(1.0, cfg.unit_ramp * cfg.ae_epochs))
        order = torch.randperm(len(self.x_train), generator=self.gen)
        total, n = 0.0, 0
        for i in range(0, len(order), cfg.ae_batch):
            x = self.x_train[order[i:i + cfg.ae_batch]]
            loss, _ = ae_loss(self.params, x, self.nn, cfg.mz_weight, unit)
            total, n = total + self._descend(loss) * len(x), n + len(x)
            if bar is not None:
                bar.set_postfix_str(f"epoch {epoch + 1}/{cfg.ae_epochs} loss {total / n:.4f}", refresh=False)
                bar.update(len(x))
        return total / n

    def ae_validation(self):
        """``(L_AE, reconstruction part)`` on the validation fields, with the full penalty weight λ."""
        sums = np.zeros(2)
        with self.torch.no_grad():
            for i in range(0, len(self.x_val), 256):
                x = self.x_val[i:i + 256]
                total, recon = ae_loss(self.params, x, self.nn, self.cfg.mz_weight, self.cfg.unit_weight)
                sums += len(x) * np.array([total.item(), recon.item()])
        return tuple(float(v) for v in sums / len(self.x_val))

    # ----------------------------------------------------------------- stage 2
    def encode_all(self, m):
        """Raw latents ``(fields, snapshots, latent)`` (NumPy) of cell arrays ``(fields, snapshots, nx, ny, 3)``."""
        x = self.torch.as_tensor(to_network(m))
        with self.torch.no_grad():
            z = self.torch.cat([latent.encode(self.params, x[i:i + 256], self.nn) for i in range(0, len(x), 256)])
        return z.numpy().reshape(m.shape[0], m.shape[1], -1)

    def prepare_predictor(self):
        """Normalisation of fields and latents from the training fields; the look-ahead windows."""
        z_train, z_val = self.encode_all(self.m_train), self.encode_all(self.m_val)
        if self.normalisation is None:
            h = self.f_train[:, :2]
            self.normalisation = {
                "field_offset": h.mean(0).tolist(), "field_scale": np.maximum(h.std(0), 1e-4).tolist(),
                "latent_mean": z_train.reshape(-1, z_train.shape[-1]).mean(0).tolist(),
                "latent_std": np.maximum(z_train.reshape(-1, z_train.shape[-1]).std(0), 1e-6).tolist()}
        nz = self.normalisation
        length = self.cfg.history + self.cfg.lookahead
        out = []
        for z, f in ((z_train, self.f_train), (z_val, self.f_val)):
            zn = (z - np.array(nz["latent_mean"])) / np.array(nz["latent_std"])
            win, fi = windows(zn, length)
            hn = (f[fi, :2] - np.array(nz["field_offset"])) / np.array(nz["field_scale"])
            out.append((self.torch.as_tensor(win, dtype=self.torch.float32),
                        self.torch.as_tensor(hn, dtype=self.torch.float32)))
        return out

    def pred_epoch(self, epoch, train, bar=None):
        torch, cfg = self.torch, self.cfg
        for g in self.opt.param_groups:
            g["lr"] = cosine_lr(cfg.pred_lr, epoch, cfg.pred_epochs)
        z, h = train
        order = torch.randperm(len(z), generator=self.gen)
        total, n = 0.0, 0
        for i in range(0, len(order), cfg.pred_batch):
            idx = order[i:i + cfg.pred_batch]
            zi = z[idx]
            if cfg.pred_noise:  # perturbed start latents: the predictor learns to pull a drifted state back
                noise = cfg.pred_noise * torch.randn(zi[:, :cfg.history].shape, generator=self.gen)
                zi = torch.cat([zi[:, :cfg.history] + noise, zi[:, cfg.history:]], 1)
            loss = lookahead_loss(self.params, h[idx], zi, self.nn, cfg.history)
            total, n = total + self._descend(loss) * len(idx), n + len(idx)
        if bar is not None:
            bar.set_postfix_str(f"loss {total / n:.2e}", refresh=False)
            bar.update()
        return total / n

    # ----------------------------------------------------------------- both
    def run(self, resume: bool = False, retrain_predictor: bool = False):
        from tqdm.auto import tqdm

        torch, cfg = self.torch, self.cfg
        if (resume or retrain_predictor) and self.checkpoint_path.exists():
            self.load_checkpoint()
        if retrain_predictor:
            self.reset_predictor()
        if self.stage == "ae":
            with tqdm(total=(cfg.ae_epochs - self.epoch) * len(self.x_train), unit="sample", desc="autoencoder",
                      disable=not self.progress) as bar:
                for epoch in range(self.epoch, cfg.ae_epochs):
                    t0 = time.perf_counter()
                    self.history["ae_train"].append(self.ae_epoch(epoch, bar))
                    val, recon = self.ae_validation()
                    self.history["ae_val"].append(val)
                    self.history["ae_val_recon"].append(recon)
                    self.seconds["ae"] += time.perf_counter() - t0
                    self.epoch = epoch + 1
                    self.save_checkpoint()
            self.stage, self.epoch = "pred", 0
            self.opt = self._optimizer("pred")
            self.save_checkpoint()
        train, val = self.prepare_predictor()
        with tqdm(total=cfg.pred_epochs - self.epoch, unit="epoch", desc="predictor",
                  disable=not self.progress) as bar:
            for epoch in range(self.epoch, cfg.pred_epochs):
                t0 = time.perf_counter()
                self.history["pred_train"].append(self.pred_epoch(epoch, train, bar))
                with torch.no_grad():
                    self.history["pred_val"].append(float(lookahead_loss(self.params, val[1], val[0], self.nn,
                                                                         cfg.history)))
                self.seconds["pred"] += time.perf_counter() - t0
                self.epoch = epoch + 1
                self.save_checkpoint()
        self.stage = "done"
        self.save_checkpoint()

    def metadata(self, data_index: dict) -> dict:
        return {"dt": data_index["config"]["dt"], "normalisation": self.normalisation,
                "film": list(latent.SP4_FILM), "problem": "muMAG SP4 film, 2D mesh, cell averages of nodal m",
                "data": {"cells": data_index["config"]["cells"], "t_end": data_index["config"]["t_end"],
                         "train_fields": self.f_train.tolist(), "val_fields": self.f_val.tolist()},
                "training": {**dataclasses.asdict(self.cfg), "seconds": self.seconds,
                             "final": {k: (v[-1] if v else None) for k, v in self.history.items()}}}


def plot_losses(history: dict, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for key, label in (("ae_train", "train"), ("ae_val", "validation"), ("ae_val_recon", "validation, L1 part")):
        axes[0].semilogy(np.arange(1, len(history[key]) + 1), history[key], label=label)
    axes[0].set_title("autoencoder: |Δmx|+|Δmy|+10|Δmz| + λ (|m̂|²−1)²", fontsize=9)
    for key, label in (("pred_train", "train"), ("pred_val", "validation")):
        axes[1].semilogy(np.arange(1, len(history[key]) + 1), history[key], label=label)
    axes[1].set_title("predictor: 8-step recursive look-ahead MSE of ẑ", fontsize=9)
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    generate_data.add_size_arguments(parser)
    parser.add_argument("--resume", action="store_true", help="continue from <out>/checkpoints/latest.pt")
    parser.add_argument("--retrain-predictor", action="store_true",
                        help="keep the autoencoder of <out>/checkpoints/latest.pt, train the predictor afresh")
    parser.add_argument("--ae-epochs", type=int, default=None)
    parser.add_argument("--pred-epochs", type=int, default=None)
    parser.add_argument("--pred-noise", type=float, default=None,
                        help="std of Gaussian noise on the predictor's start latents (normalised units)")
    parser.add_argument("--pred-weight-decay", type=float, default=None, help="AdamW weight decay of the predictor")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 on a shared CPU)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    cfg = CONFIGS["quick" if args.quick else "full" if args.full else "cpu"]
    overrides = (("ae_epochs", args.ae_epochs), ("pred_epochs", args.pred_epochs), ("pred_noise", args.pred_noise),
                 ("pred_weight_decay", args.pred_weight_decay))
    cfg = dataclasses.replace(cfg, **{k: v for k, v in overrides if v is not None})
    out = generate_data.out_dir(args)
    index, fields, m = generate_data.load_data(out / "data")
    t0 = time.perf_counter()
    trainer = Trainer(cfg, fields, m, out, progress=not args.no_progress)
    trainer.run(resume=args.resume, retrain_predictor=args.retrain_predictor)
    path = latent.save_weights(out / "model.npz", trainer.params, trainer.metadata(index))
    plot_losses(trainer.history, out / "loss_curves.png")
    (out / "train_history.json").write_text(json.dumps(trainer.history))
    h = trainer.history
    result = (f"RESULT latent_dynamics_train cells={m.shape[2]}x{m.shape[3]} train_fields={len(trainer.f_train)} "
              f"val_fields={len(trainer.f_val)} ae_val_loss={h['ae_val'][-1]:.4f} "
              f"ae_val_l1={h['ae_val_recon'][-1]:.4f} pred_train={h['pred_train'][-1]:.3e} "
              f"pred_val={h['pred_val'][-1]:.3e} ae_s={trainer.seconds['ae']:.0f} "
              f"pred_s={trainer.seconds['pred']:.0f} wall_s={time.perf_counter() - t0:.0f}")
    print(f"wrote {path} and {out / 'loss_curves.png'}")
    print(result)
    return result


if __name__ == "__main__":
    main()
