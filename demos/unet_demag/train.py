r"""Train the U-Net demagnetisation surrogate on data from ``generate_data.py`` (PyTorch).

The network is :func:`neuralmag.learned.unet.predict` — the same pure function the field term runs on JAX or
PyTorch — applied to PyTorch tensors that require gradients; the optimiser is ``torch.optim.Adam`` with a linear
warm-up, cosine decay and gradient clipping.

* Inputs ``x = (M/M_s, mask)``, targets ``h/M_s`` (cells, channels first); batches hold one sample size, about
  ``--batch-pixels`` cells, sizes drawn in proportion to their cell count.
* Augmentation with the exact symmetries of the demag operator on square cells: the eight symmetries of the
  square (reflections flip the normal in-plane component of both M and h, the diagonal reflection swaps x and
  y) and M → −M (h is linear in M): 16 variants of every pair.
* Loss per sample, :math:`\|e\|^2/\|h\|^2 + \|e_{xy}\|^2/(\|h_{xy}\|^2 + 10^{-2}\|h\|^2)` over the magnetic
  cells (relative, so that samples of all sizes and field strengths count alike; the second term weights the
  in-plane field, which drives the in-plane textures of a film).
* Validation: whole trajectories held out (``--val-fraction``), relative L2 error of h and of its in-plane part.

Output (``--out``, default ``results/unet_demag/train``): ``checkpoint.pt`` (parameters, optimiser, step, loss
history, random state; ``--resume`` continues from it), ``unet_demag.npz`` (the weights with metadata, float16,
loadable by ``nm.UNetDemagField(weights=...)``), ``loss.csv``, ``loss.png``; last line ``RESULT unet_demag_train ...``.

    python demos/unet_demag/train.py                       # CPU default: base 16 channels, 6000 steps
    python demos/unet_demag/train.py --quick               # seconds: base 4, 30 steps
    python demos/unet_demag/train.py --full                # the published width (base 32: 32→64→128→256), 100k steps
    options: --data FILE --steps N --base-channels C --lr LR --batch-pixels P --resume --threads 1 --seed S
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
for path in (HERE, HERE.parent):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from neuralmag.learned import unet  # noqa: E402

CONFIGS = {
    "quick": dict(base_channels=4, steps=30, lr=3e-3, batch_pixels=2048, warmup=3, eval_every=10, checkpoint_every=15),
    "cpu": dict(base_channels=16, steps=6000, lr=2e-3, batch_pixels=18432, warmup=200, eval_every=250,
                checkpoint_every=500),
    "full": dict(base_channels=32, steps=100000, lr=1e-3, batch_pixels=4 * 18432, warmup=1000, eval_every=1000,
                 checkpoint_every=2000),
}


# ---------------------------------------------------------------------------------------------- data
def split_dataset(data: dict, val_fraction: float, seed: int = 0):
    """Training and validation sets, ``{n: (x, h)}`` of float32 tensors ``(S, 4, n, n)`` and ``(S, 3, n, n)``;
    whole trajectories go to the validation set (consecutive states of one trajectory are correlated)."""
    import torch

    rng = np.random.default_rng(seed)
    train, val = {}, {}
    for n, rows in data.items():
        x = np.concatenate([rows["M"], rows["mask"][:, None].astype(np.float32)], 1)
        ids = np.unique(rows["trajectory"])
        held = rng.choice(ids, size=int(round(val_fraction * len(ids))), replace=False) if val_fraction else []
        is_val = np.isin(rows["trajectory"], held)
        for target, select in ((train, ~is_val), (val, is_val)):
            if select.any():
                target[int(n)] = (torch.as_tensor(x[select]), torch.as_tensor(rows["h"][select]))
    return train, val


def augment(x, h, ops):
    r"""Apply symmetry ``ops = (flip_x, flip_y, transpose, negate)`` to inputs ``x`` (B, 4, H, W) and fields
    ``h`` (B, 3, H, W). Reflection :math:`x \to -x` maps :math:`M_x(x, y) \to -M_x(-x, y)` and likewise h; the
    diagonal reflection swaps the axes and the x/y components; :math:`\mathbf{M}\to-\mathbf{M}` negates h."""
    import torch

    flip_x, flip_y, transpose, negate = ops
    sign = torch.ones(4, dtype=x.dtype)
    if flip_x:
        x, h = x.flip(2), h.flip(2)
        sign[0] = -sign[0]
    if flip_y:
        x, h = x.flip(3), h.flip(3)
        sign[1] = -sign[1]
    if negate:
        sign[:3] = -sign[:3]
    x, h = x * sign[None, :, None, None], h * sign[None, :3, None, None]
    if transpose:
        x, h = x.transpose(2, 3)[:, [1, 0, 2, 3]], h.transpose(2, 3)[:, [1, 0, 2]]
    return x, h


def relative_errors(pred, target, mask):
    """Per-sample relative L2 errors ``(all components, in-plane)`` over the cells where ``mask`` is 1."""
    e2 = ((pred - target) ** 2 * mask).sum((2, 3))
    t2 = (target**2 * mask).sum((2, 3))
    tiny = 1e-30
    return (e2.sum(1) / (t2.sum(1) + tiny)).sqrt(), (e2[:, :2].sum(1) / (t2[:, :2].sum(1) + tiny)).sqrt()


def loss_function(pred, target, mask):
    """Mean over the batch of :math:`\\|e\\|^2/\\|h\\|^2 + \\|e_{xy}\\|^2/(\\|h_{xy}\\|^2 + 10^{-2}\\|h\\|^2)`."""
    e2 = ((pred - target) ** 2 * mask).sum((2, 3))
    t2 = (target**2 * mask).sum((2, 3))
    total = t2.sum(1) + 1e-30
    return (e2.sum(1) / total + e2[:, :2].sum(1) / (t2[:, :2].sum(1) + 1e-2 * total)).mean()


def load_datasets(paths):
    """Data files of ``generate_data.py`` merged per size (trajectory ids kept distinct); all must share the cell."""
    import generate_data as gd

    merged, meta = {}, None
    for index, path in enumerate([paths] if isinstance(paths, (str, Path)) else paths):
        data, file_meta = gd.load_dataset(path)
        if meta is not None and not np.allclose(file_meta["cell_size"], meta["cell_size"]):
            raise ValueError(f"{path}: cell size {file_meta['cell_size']} differs from {meta['cell_size']}.")
        meta = meta or file_meta
        for n, rows in data.items():
            rows = dict(rows, trajectory=rows["trajectory"] + 1_000_000 * index)
            merged[n] = {k: np.concatenate([merged[n][k], v]) for k, v in rows.items()} if n in merged else rows
    meta = dict(meta, sizes=sorted(merged))
    return merged, meta


# ---------------------------------------------------------------------------------------------- training
class Trainer:
    """Parameters, optimiser and schedule; one :meth:`step` is one Adam update on one augmented batch."""

    def __init__(self, train: dict, val: dict, base_channels=16, steps=6000, lr=2e-3, batch_pixels=18432,
                 warmup=200, seed=0, clip=1.0, **_):
        import torch

        self.torch = torch
        self.train, self.val = train, val
        self.config = dict(base_channels=base_channels, steps=steps, lr=lr, batch_pixels=batch_pixels,
                           warmup=warmup, seed=seed, clip=clip)
        self.params = {k: torch.tensor(v, requires_grad=True) for k, v in unet.init_params(base_channels,
                                                                                           seed=seed).items()}
        self.optimizer = torch.optim.Adam(self.params.values(), lr=lr)
        self.generator = torch.Generator().manual_seed(seed)
        self.step_count = 0
        self.history = []  # rows: step, train_loss, val_rel_l2, val_rel_l2_inplane, lr, seconds
        self.seconds = 0.0
        sizes = sorted(train)
        weights = np.array([train[n][0].shape[0] * n * n for n in sizes], dtype=float)
        self.sizes, self.size_probabilities = sizes, torch.tensor(weights / weights.sum())
        from neuralmag.backends.torch import nn

        self.nn = nn

    def learning_rate(self, step: int) -> float:
        """Linear warm-up to ``lr``, then cosine decay to 2 % of it at ``steps``."""
        lr, steps, warmup = self.config["lr"], self.config["steps"], self.config["warmup"]
        if step < warmup:
            return lr * (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, steps - warmup))
        return lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress)))

    def batch(self):
        torch = self.torch
        n = self.sizes[int(torch.multinomial(self.size_probabilities, 1, generator=self.generator))]
        x, h = self.train[n]
        size = max(1, min(x.shape[0], self.config["batch_pixels"] // (n * n)))
        index = torch.randperm(x.shape[0], generator=self.generator)[:size]
        ops = tuple(bool(b) for b in torch.randint(0, 2, (4,), generator=self.generator))
        return augment(x[index], h[index], ops)

    def step(self) -> float:
        torch = self.torch
        x, h = self.batch()
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate(self.step_count)
        # the plain network (odd=False): the sign-flip augmentation trains its odd part, which is what the field
        # term uses (unet.predict's default projection), at half the cost per step
        pred = unet.predict(self.params, x, self.nn, odd=False)
        loss = loss_function(pred, h, x[:, 3:4])
        self.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(self.params.values()), self.config["clip"])
        self.optimizer.step()
        self.step_count += 1
        return float(loss.detach())

    def evaluate(self, data=None, params=None, limit: int = 64):
        """Mean relative L2 errors ``(all, in-plane)`` on ``data`` (default: the validation set), at most
        ``limit`` samples per size."""
        torch = self.torch
        data = self.val if data is None else data
        params = self.params if params is None else params
        errors, inplane = [], []
        with torch.no_grad():
            for n, (x, h) in sorted(data.items()):
                for start in range(0, min(limit, x.shape[0]), 8):
                    xb, hb = x[start:min(start + 8, limit)], h[start:min(start + 8, limit)]
                    e, e_xy = relative_errors(unet.predict(params, xb, self.nn), hb, xb[:, 3:4])
                    errors += e.tolist()
                    inplane += e_xy.tolist()
        return (float(np.mean(errors)), float(np.mean(inplane))) if errors else (float("nan"), float("nan"))

    # ------------------------------------------------------------------ files
    def save_checkpoint(self, path) -> None:
        torch = self.torch
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        torch.save({"params": {k: v.detach() for k, v in self.params.items()},
                    "optimizer": self.optimizer.state_dict(), "step": self.step_count, "history": self.history,
                    "seconds": self.seconds, "generator": self.generator.get_state(), "config": self.config}, tmp)
        tmp.replace(path)

    def load_checkpoint(self, path) -> None:
        torch = self.torch
        saved = torch.load(path, weights_only=False)
        if saved["config"]["base_channels"] != self.config["base_channels"]:
            raise ValueError(f"{path} has base_channels={saved['config']['base_channels']}, "
                             f"not {self.config['base_channels']}.")
        with torch.no_grad():
            for key, value in saved["params"].items():
                self.params[key].copy_(value)
        self.optimizer.load_state_dict(saved["optimizer"])
        self.step_count, self.history, self.seconds = saved["step"], saved["history"], saved["seconds"]
        self.generator.set_state(saved["generator"])

    def export(self, path, metadata: dict, dtype="float16"):
        return unet.save(path, self.params, dict(metadata, training=dict(self.config, steps_done=self.step_count,
                                                                         seconds=round(self.seconds, 1))), dtype)


def write_history(trainer, out: Path) -> None:
    with open(out / "loss.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["step", "train_loss", "val_rel_l2", "val_rel_l2_inplane", "lr", "seconds"])
        writer.writerows(trainer.history)


def plot_history(trainer, path) -> None:
    import validation_common as vc

    rows = np.array(trainer.history, dtype=float)
    if rows.size == 0:
        return
    fig, ax = vc.figure(figsize=(7, 4))
    ax.semilogy(rows[:, 0], rows[:, 1], label="training loss (sum of two squared relative errors, interval mean)")
    ax.semilogy(rows[:, 0], rows[:, 2], "o-", ms=3, label="validation: relative L2 error of h")
    ax.semilogy(rows[:, 0], rows[:, 3], "s-", ms=3, label="validation: relative L2 error of $h_{xy}$")
    ax.set_xlabel("step")
    ax.set_title(f"U-Net demag, base {trainer.config['base_channels']} channels")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    vc.save_figure(fig, path)


def train(args, data, meta, progress: bool = True) -> Trainer:
    """Run (or resume) training as configured by ``args``; writes checkpoints, loss CSV and figure."""
    from tqdm.auto import tqdm

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    train_set, val_set = split_dataset(data, args.val_fraction, args.seed)
    trainer = Trainer(train_set, val_set, base_channels=args.base_channels, steps=args.steps, lr=args.lr,
                      batch_pixels=args.batch_pixels, warmup=args.warmup, seed=args.seed)
    checkpoint = out / "checkpoint.pt"
    if args.resume and checkpoint.exists():
        trainer.load_checkpoint(checkpoint)
        print(f"resumed from {checkpoint} at step {trainer.step_count}", flush=True)
    files = [args.data] if isinstance(args.data, (str, Path)) else args.data
    export_meta = {"cell_size": meta["cell_size"], "data": [Path(f).name for f in files], "data_sizes": meta["sizes"],
                   "pairs": int(sum(len(rows["M"]) for rows in data.values()))}
    losses, t_start = [], time.perf_counter() - trainer.seconds
    with tqdm(total=args.steps, initial=trainer.step_count, desc="training", unit="step", disable=not progress) as bar:
        while trainer.step_count < args.steps:
            losses.append(trainer.step())
            trainer.seconds = time.perf_counter() - t_start
            bar.update()
            step = trainer.step_count
            if step % args.eval_every == 0 or step == args.steps:
                val = trainer.evaluate()
                trainer.history.append([step, float(np.mean(losses)), *val, trainer.learning_rate(step - 1),
                                        trainer.seconds])
                losses = []
                bar.set_postfix_str(f"loss {trainer.history[-1][1]:.3g} val {val[0]:.3g} (xy {val[1]:.3g})")
            if step % args.checkpoint_every == 0 or step == args.steps:
                trainer.save_checkpoint(checkpoint)
                trainer.export(out / "unet_demag.npz", export_meta)
                write_history(trainer, out)
    write_history(trainer, out)
    plot_history(trainer, out / "loss.png")
    return trainer


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    scale = p.add_mutually_exclusive_group()
    scale.add_argument("--quick", action="store_true", help="seconds: base 4 channels, 30 steps")
    scale.add_argument("--full", action="store_true", help="the published width, base 32 (GPU-sized)")
    p.add_argument("--data", nargs="+", default=["data/unet_demag/train.npz"], help="one or more data files")
    p.add_argument("--out", default="results/unet_demag/train")
    for key, kind in (("base_channels", int), ("steps", int), ("lr", float), ("batch_pixels", int), ("warmup", int),
                      ("eval_every", int), ("checkpoint_every", int)):
        p.add_argument("--" + key.replace("_", "-"), type=kind, default=None)
    p.add_argument("--val-fraction", type=float, default=0.1, help="fraction of trajectories held out")
    p.add_argument("--resume", action="store_true", help="continue from <out>/checkpoint.pt")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="PyTorch intra-op threads (0: default)")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    config = CONFIGS["quick" if args.quick else "full" if args.full else "cpu"]
    for key, value in config.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main(argv=None):
    import generate_data as gd

    args = parse(argv)
    gd.limit_threads(args.threads)
    data, meta = load_datasets(args.data)
    trainer = train(args, data, meta, progress=not args.no_progress)
    out = Path(args.out)
    val_all, val_xy = trainer.evaluate()
    stored, _ = unet.load(out / "unet_demag.npz")  # float16 storage: accuracy of what ships
    val16 = trainer.evaluate(params={k: trainer.torch.as_tensor(v) for k, v in stored.items()})
    size = (out / "unet_demag.npz").stat().st_size
    summary = dict(steps=trainer.step_count, seconds=round(trainer.seconds, 1), val_rel_l2=val_all,
                   val_rel_l2_inplane=val_xy, val_rel_l2_float16=val16[0], file_bytes=size,
                   parameters=unet.num_parameters(trainer.params), base_channels=args.base_channels)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    line = ("RESULT unet_demag_train " + " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                                  for k, v in summary.items()))
    print(line, flush=True)
    return line


if __name__ == "__main__":
    main()
