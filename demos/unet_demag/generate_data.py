r"""Training data for the U-Net demagnetisation surrogate (``nm.UNetDemagField``): pairs of cell magnetisation
and FFT demag field of random thin-film samples, collected along LLG trajectories.

Each trajectory is one random sample:

* a square film of ``n × n`` cells (``n`` from ``--sizes``; cells 5 nm × 5 nm × 3 nm, :data:`CELL`); in two thirds
  of the samples the magnet is a random shape (ellipses, rotated rectangles, polygons, rings, smooth random blobs
  and unions of them; :func:`random_mask`), set through the region density ``state.rho`` (0 outside);
* random material (M_s 6–10 × 10⁵ A/m, A 0.8–1.6 × 10⁻¹¹ J/m, α 0.2–1), a random applied field (none, in-plane up to
  60 mT, or out of plane up to 1.2 M_s) and a random initial state (white noise, smooth noise, uniform, vortices,
  Voronoi domains; :func:`random_magnetisation`);
* evolved with NeuralMag's LLG solver and the FFT demag field (``nm.DemagField(grid="cell")``), exchange and the
  applied field; ``--snapshots`` states between t = 0 and ``--t-end`` (geometrically spaced) are kept.

For each kept state the pair is the cell magnetisation :math:`\mathbf{M}_c/M_s = \rho_c\bar{\mathbf{m}}_c` (the
mean of the four corner values) and the cell demag field :math:`\mathbf{h}_c/M_s = -\sum_{c'} N(\mathbf{r}_c -
\mathbf{r}_{c'})\mathbf{M}_{c'}/M_s` — what ``DemagField(grid="cell")`` computes before its cell-to-node step,
evaluated here with NumPy's FFT and the same Newell kernel (:class:`ReferenceDemag`).

Output (``--out``, default ``data/unet_demag``): ``<name>.npz`` with, per size ``n``, ``M_<n>`` (S, 3, n, n),
``mask_<n>`` (S, n, n), ``h_<n>`` (S, 3, n, n) (float32), ``trajectory_<n>`` and ``time_<n>`` (S,), and JSON
metadata; ``<name>_examples.png``; last line ``RESULT unet_demag_data ...``.

    python demos/unet_demag/generate_data.py                 # CPU default: sizes 32 64 96, 96/48/24 samples
    python demos/unet_demag/generate_data.py --quick         # seconds: two 16 × 16 samples
    python demos/unet_demag/generate_data.py --full          # published scale: 800/400/200 samples, 1 ns, 10 snapshots
    options: --sizes N.. --trajectories K.. --snapshots S --t-end T --seed S --name train
             --backend jax|torch --threads 1
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
for path in (HERE, HERE.parent):  # this folder and demos/ (validation_common)
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import neuralmag as nm  # noqa: E402
from neuralmag.field_terms import newell  # noqa: E402

#: cell edges (m): the SP4 discretisation of a 3 nm permalloy film
CELL = (5e-9, 5e-9, 3e-9)
MU0 = 4e-7 * np.pi

CONFIGS = {
    "quick": dict(sizes=(16,), trajectories=(2,), snapshots=2, t_end=4e-12),
    "cpu": dict(sizes=(32, 64, 96), trajectories=(96, 48, 24), snapshots=6, t_end=3e-10),
    "full": dict(sizes=(32, 64, 96), trajectories=(800, 400, 200), snapshots=10, t_end=1e-9),
}


def limit_threads(threads: int) -> None:
    """One process, ``threads`` intra-op threads for XLA and PyTorch (set before the frameworks start)."""
    if threads > 0:
        os.environ.setdefault("XLA_FLAGS", f"--xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'} "
                                           f"intra_op_parallelism_threads={threads}")
        try:
            import torch

            torch.set_num_threads(threads)
        except ImportError:
            pass


# ---------------------------------------------------------------------------------------------- random samples
def _grid(n):
    """Cell-centre coordinates in units of the sample size, in [-0.5, 0.5]."""
    c = (np.arange(n) + 0.5) / n - 0.5
    return np.meshgrid(c, c, indexing="ij")


def _smooth_noise(shape, length, rng):
    """Gaussian random field of correlation length ``length`` (cells), unit variance (FFT filtering)."""
    noise = rng.normal(size=shape)
    kx = np.fft.fftfreq(shape[0])[:, None]
    ky = np.fft.fftfreq(shape[1])[None, :]
    smooth = np.fft.ifft2(np.fft.fft2(noise) * np.exp(-2 * (np.pi * length) ** 2 * (kx**2 + ky**2))).real
    return smooth / (smooth.std() + 1e-12)


def _primitive(n, rng):
    """One random shape as a boolean cell mask."""
    x, y = _grid(n)
    cx, cy = rng.uniform(-0.2, 0.2, 2)
    angle = rng.uniform(0, np.pi)
    u = (x - cx) * np.cos(angle) + (y - cy) * np.sin(angle)
    v = -(x - cx) * np.sin(angle) + (y - cy) * np.cos(angle)
    kind = rng.choice(["ellipse", "rectangle", "polygon", "ring", "blob"])
    if kind == "ellipse":
        a, b = rng.uniform(0.15, 0.5, 2)
        return (u / a) ** 2 + (v / b) ** 2 <= 1
    if kind == "rectangle":
        a, b = rng.uniform(0.15, 0.48, 2)
        return (np.abs(u) <= a) & (np.abs(v) <= b)
    if kind == "polygon":  # a star-shaped polygon: radius r(phi) interpolated between random corners
        corners = rng.integers(3, 8)
        radii = rng.uniform(0.2, 0.5, corners)
        phi = np.mod(np.arctan2(v, u), 2 * np.pi) / (2 * np.pi) * corners
        i = np.floor(phi).astype(int)
        r = radii[i % corners] * (1 - (phi - i)) + radii[(i + 1) % corners] * (phi - i)
        return np.hypot(u, v) <= r
    if kind == "ring":
        outer = rng.uniform(0.3, 0.5)
        inner = rng.uniform(0.1, 0.7) * outer
        r = np.hypot(u, v)
        return (r <= outer) & (r >= inner)
    return _smooth_noise((n, n), rng.uniform(0.05, 0.15) * n, rng) > rng.uniform(-0.5, 0.5)


def random_mask(n: int, rng, shaped_fraction: float = 2 / 3) -> np.ndarray:
    """Boolean ``(n, n)`` cell mask: the full square with probability ``1 - shaped_fraction``, else one to three
    random shapes (unions, or a difference for holes), with at least 10 % of the cells magnetic."""
    if rng.uniform() >= shaped_fraction:
        return np.ones((n, n), dtype=bool)
    while True:
        mask = _primitive(n, rng)
        for _ in range(rng.integers(0, 3)):
            other = _primitive(n, rng)
            mask = mask & ~other if rng.uniform() < 0.25 else mask | other
        if mask.mean() >= 0.1:
            return mask


def random_magnetisation(n: int, rng, kind: str | None = None) -> np.ndarray:
    """Random nodal unit vectors ``(n + 1, n + 1, 3)`` of one of five kinds (``"white"`` noise, ``"smooth"``
    noise, ``"uniform"`` with noise, one to three ``"vortex"``/antivortex cores, Voronoi ``"domains"``; random
    when ``kind`` is None)."""
    shape = (n + 1, n + 1)
    c = np.arange(n + 1) / n - 0.5
    x, y = np.meshgrid(c, c, indexing="ij")
    if kind is None:
        kind = rng.choice(["white", "smooth", "uniform", "vortex", "domains"], p=[0.2, 0.3, 0.15, 0.2, 0.15])
    if kind == "white":
        m = rng.normal(size=shape + (3,))
    elif kind == "smooth":
        length = rng.uniform(1.0, 0.25 * n)
        m = np.stack([_smooth_noise(shape, length, rng) for _ in range(3)], -1)
        m[..., 2] *= rng.uniform(0.1, 1.0)
    elif kind == "uniform":
        theta, phi = np.arccos(rng.uniform(-1, 1)), rng.uniform(0, 2 * np.pi)
        m = np.array([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)])
        m = m + 0.2 * rng.normal(size=shape + (3,))
    elif kind == "vortex":
        m = np.zeros(shape + (3,))
        for _ in range(rng.integers(1, 4)):
            x0, y0 = rng.uniform(-0.35, 0.35, 2)
            chirality, polarity, winding = rng.choice([-1, 1], 3)
            dx, dy = x - x0, (y - y0) * winding  # winding -1: an antivortex
            r2 = dx**2 + dy**2 + 1e-12
            core = np.exp(-r2 / (2 * (rng.uniform(1.0, 3.0) / n) ** 2))
            m += np.stack([-chirality * dy, chirality * dx, polarity * core * np.sqrt(r2)], -1) / np.sqrt(r2)[..., None]
    else:
        seeds = rng.uniform(-0.5, 0.5, (rng.integers(2, 9), 2))
        nearest = np.argmin((x[..., None] - seeds[:, 0]) ** 2 + (y[..., None] - seeds[:, 1]) ** 2, -1)
        directions = rng.normal(size=(len(seeds), 3)) * np.array([1.0, 1.0, 0.3])
        m = directions[nearest] + 0.05 * rng.normal(size=shape + (3,))
    return m / np.linalg.norm(m, axis=-1, keepdims=True)


def random_material(rng) -> dict:
    """Material and applied field (A/m) of one trajectory."""
    ms = rng.uniform(6e5, 1e6)
    kind = rng.choice(["none", "in-plane", "out-of-plane"], p=[0.35, 0.5, 0.15])
    if kind == "none":
        field = np.zeros(3)
    elif kind == "in-plane":
        phi = rng.uniform(0, 2 * np.pi)
        field = rng.uniform(0, 60e-3) / MU0 * np.array([np.cos(phi), np.sin(phi), rng.uniform(-0.1, 0.1)])
    else:
        field = np.array([0.0, 0.0, rng.choice([-1, 1]) * rng.uniform(0.3, 1.2) * ms])
    return {"Ms": ms, "A": rng.uniform(0.8e-11, 1.6e-11), "alpha": rng.uniform(0.2, 1.0), "field": field}


# ---------------------------------------------------------------------------------------------- reference field
class ReferenceDemag:
    r"""Cell-grid FFT demag field of an ``n``-cell 2D film in NumPy (float64): :math:`\mathbf{h}_c = -\sum_{c'}
    N(\mathbf{r}_c - \mathbf{r}_{c'})\mathbf{M}_{c'}` with the Newell kernel of :mod:`neuralmag.field_terms.newell`
    (the same numbers ``nm.DemagField(grid="cell")`` uses)."""

    def __init__(self, n, cell=CELL):
        self.n = tuple(n)
        self.shape = newell.padded_shape(self.n)
        self.kernel = newell.kernel_spectrum(self.n, cell)  # (6, Sx, Sy // 2 + 1): xx yy zz xy xz yz

    def __call__(self, M):
        """``M`` (..., 3, nx, ny) (any unit) → ``h`` of the same shape and unit."""
        X = np.fft.rfft2(M, s=self.shape)
        xx, yy, zz, xy, xz, yz = self.kernel
        H = np.stack([xx * X[..., 0, :, :] + xy * X[..., 1, :, :] + xz * X[..., 2, :, :],
                      xy * X[..., 0, :, :] + yy * X[..., 1, :, :] + yz * X[..., 2, :, :],
                      xz * X[..., 0, :, :] + yz * X[..., 1, :, :] + zz * X[..., 2, :, :]], -3)
        return -np.fft.irfft2(H, s=self.shape)[..., : self.n[0], : self.n[1]]


def cell_average(m):
    """Mean of the four corner values of each cell: nodal ``(n+1, n+1, 3)`` → cells ``(3, n, n)``."""
    return 0.25 * (m[:-1, :-1] + m[1:, :-1] + m[:-1, 1:] + m[1:, 1:]).transpose(2, 0, 1)


# ---------------------------------------------------------------------------------------------- simulation
class Simulator:
    """One LLG set-up per sample size, reused for every trajectory of that size (assigning new values to
    ``m``, ``rho`` and the materials keeps the compiled solver)."""

    def __init__(self, n: int, cell=CELL, rtol: float = 1e-3):
        state = nm.State(nm.Mesh((n, n), cell))
        state.material.Ms = 8e5
        state.material.A = 1.3e-11
        state.material.alpha = 0.5
        state.m = nm.VectorFunction(state).fill((1.0, 0.0, 0.0))
        nm.ExchangeField().register(state)
        nm.DemagField(grid="cell").register(state)
        nm.ExternalField((0.0, 0.0, 0.0)).register(state)
        nm.TotalField("exchange", "demag", "external").register(state)
        self.state, self.n = state, n
        self.llg = nm.LLGSolver(state, rtol=rtol, atol=rtol)
        self.reference = ReferenceDemag((n, n), cell)

    def trajectory(self, mask, m0, material, times):
        """Nodal ``m`` at ``times`` (s) from ``m0``; each entry ``(n + 1, n + 1, 3)`` (zero off the sample)."""
        state = self.state
        state.rho = mask.astype(float)
        state.material.Ms = material["Ms"]
        state.material.A = material["A"]
        state.material.alpha = material["alpha"]
        state.h_external_applied = nm.VectorFunction(state).fill(material["field"])
        magnetic = state._magnetic_nodes()
        state.m = m0 * magnetic[..., None]
        state.t = 0.0
        states = []
        for t in times:
            if t > float(state.t):
                try:
                    self.llg.step(t - float(state.t))
                except nm.SolverError:  # keep what was reached (never seen with α ≥ 0.2, but a dataset must not stop)
                    break
            states.append(state.m.numpy())
        return states


def snapshot_times(count: int, t_end: float) -> np.ndarray:
    """t = 0 and ``count - 1`` geometrically spaced times up to ``t_end`` (s): early states are rough, late ones
    are relaxed textures."""
    if count == 1:
        return np.array([0.0])
    return np.concatenate([[0.0], np.geomspace(t_end / 50, t_end, count - 1)])


def generate(sizes, trajectories, snapshots: int, t_end: float, seed: int = 0, progress: bool = True) -> dict:
    """Run the trajectories; returns ``{n: {"M", "mask", "h", "trajectory", "time"}}`` (NumPy, float32 fields)."""
    from tqdm.auto import tqdm

    rng = np.random.default_rng(seed)
    times = snapshot_times(snapshots, t_end)
    data = {}
    total = sum(trajectories)
    with tqdm(total=total, desc="trajectories", unit="traj", disable=not progress) as bar:
        for n, count in zip(sizes, trajectories):
            sim = Simulator(n)
            rows = {"M": [], "mask": [], "h": [], "trajectory": [], "time": []}
            for k in range(count):
                mask = random_mask(n, rng)
                m0 = random_magnetisation(n, rng)
                material = random_material(rng)
                for t, m in zip(times, sim.trajectory(mask, m0, material, times)):
                    M = cell_average(m) * mask  # M / Ms
                    rows["M"].append(M.astype(np.float32))
                    rows["mask"].append(mask.astype(np.uint8))
                    rows["h"].append(sim.reference(M).astype(np.float32))
                    rows["trajectory"].append(k)
                    rows["time"].append(t)
                bar.set_postfix_str(f"n={n}", refresh=False)
                bar.update()
            data[n] = {key: np.stack(value) if key != "time" else np.array(value) for key, value in rows.items()}
    return data


# ---------------------------------------------------------------------------------------------- files
def save_dataset(path, data: dict, metadata: dict) -> Path:
    arrays = {"__metadata__": np.array(json.dumps(dict(metadata, sizes=sorted(data))))}
    for n, rows in data.items():
        for key, value in rows.items():
            arrays[f"{key}_{n}"] = value
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return path


def load_dataset(path) -> tuple[dict, dict]:
    """``(data, metadata)`` as written by :func:`save_dataset`."""
    with np.load(path, allow_pickle=False) as f:
        meta = json.loads(str(f["__metadata__"]))
        data = {n: {key: f[f"{key}_{n}"] for key in ("M", "mask", "h", "trajectory", "time")} for n in meta["sizes"]}
    return data, meta


def plot_examples(data: dict, path) -> None:
    import validation_common as vc

    sizes = sorted(data)
    fig, axes = vc.figure(len(sizes), 4, figsize=(11, 2.8 * len(sizes)), squeeze=False)
    rng = np.random.default_rng(1)
    for row, n in zip(axes, sizes):
        i = rng.integers(len(data[n]["M"]))
        M, h, mask = data[n]["M"][i], data[n]["h"][i], data[n]["mask"][i]
        angle = np.where(mask, np.arctan2(M[1], M[0]), np.nan)
        panels = [(angle, "hsv", "in-plane angle of M"), (np.where(mask, M[2], np.nan), "RdBu_r", "$M_z/M_s$"),
                  (np.where(mask, h[0], np.nan), "RdBu_r", "$h_x/M_s$"), (np.where(mask, h[1], np.nan), "RdBu_r",
                                                                          "$h_y/M_s$")]
        for ax, (image, cmap, title) in zip(row, panels):
            im = ax.imshow(image.T, origin="lower", cmap=cmap)
            ax.set_title(f"{title} (n={n})", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
            fig.colorbar(im, ax=ax, fraction=0.046)
    vc.save_figure(fig, path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    scale = p.add_mutually_exclusive_group()
    scale.add_argument("--quick", action="store_true", help="seconds: two 16 x 16 samples, 2 snapshots")
    scale.add_argument("--full", action="store_true", help="the published data scale (hours on a CPU)")
    p.add_argument("--sizes", type=int, nargs="+", help="sample sizes n (cells per side)")
    p.add_argument("--trajectories", type=int, nargs="+", help="trajectories per size")
    p.add_argument("--snapshots", type=int, help="kept states per trajectory")
    p.add_argument("--t-end", type=float, help="simulated time per trajectory (s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", default="train", help="file name (without .npz)")
    p.add_argument("--backend", choices=["jax", "torch"], default="jax")
    p.add_argument("--threads", type=int, default=1, help="intra-op threads (0: the frameworks' default)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--out", default="data/unet_demag")
    args = p.parse_args(argv)
    limit_threads(args.threads)
    nm.config.backend = args.backend
    nm.config.dtype = "float64"
    config = dict(CONFIGS["quick" if args.quick else "full" if args.full else "cpu"])
    for key in ("sizes", "trajectories", "snapshots", "t_end"):
        if getattr(args, key) is not None:
            config[key] = tuple(getattr(args, key)) if key in ("sizes", "trajectories") else getattr(args, key)
    if len(config["trajectories"]) == 1:
        config["trajectories"] = config["trajectories"] * len(config["sizes"])
    if len(config["trajectories"]) != len(config["sizes"]):
        p.error("--trajectories needs one count, or one per size")
    out = Path(args.out)
    t0 = time.perf_counter()
    data = generate(config["sizes"], config["trajectories"], config["snapshots"], config["t_end"], args.seed,
                    progress=not args.no_progress)
    seconds = time.perf_counter() - t0
    meta = dict(cell_size=list(CELL), seed=args.seed, backend=args.backend, seconds=seconds,
                **{k: list(v) if isinstance(v, tuple) else v for k, v in config.items()})
    path = save_dataset(out / f"{args.name}.npz", data, meta)
    plot_examples(data, out / f"{args.name}_examples.png")
    pairs = sum(len(rows["M"]) for rows in data.values())
    line = (f"RESULT unet_demag_data name={args.name} sizes={','.join(map(str, config['sizes']))} pairs={pairs} "
            f"trajectories={sum(config['trajectories'])} seconds={seconds:.1f} file={path}")
    print(line, flush=True)
    return line


if __name__ == "__main__":
    main()
