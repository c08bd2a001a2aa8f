r"""Evaluate the U-Net demagnetisation surrogate (``nm.UNetDemagField``) against NeuralMag's FFT demag field.

Four parts (``--parts``, default all), each writing CSV data and a figure to ``--out``:

``l2``
    Relative L2 error :math:`\|\mathbf{h}_\mathrm{UNet} - \mathbf{h}_\mathrm{FFT}\|/\|\mathbf{h}_\mathrm{FFT}\|` of the
    cell field over the magnetic cells (all components and in-plane), by sample size 32, 64 and 128 (128 was
    never seen in training), on fresh test trajectories of ``generate_data.py`` (other seed). ``l2.csv``,
    ``l2.png``.
``ground``
    The ground-state protocol: random samples (``--ground-size``, random shapes) start from random
    magnetisations (white noise) and relax with the LLG equation (α = 1, no field) for ``relax_time`` with the U-Net,
    then for ``cool_time`` with the FFT field ("FFT cooling": the end state is an equilibrium of the exact
    energy in the basin the surrogate reached); the reference relaxes with the FFT field for the same total
    time from the same start. Vortices and antivortices are cores of in-plane winding ±1 around a cell
    (:func:`winding`); a vortex's polarity is the sign of m_z at its core, its chirality the sense of the
    in-plane circulation around it. Reported: samples with the same number of vortices and antivortices,
    matched cores (within 4 cells), and polarity / chirality precision of the matched vortices.
    ``ground.csv``, ``ground.png``.
``mh``
    A hysteresis loop of a 320 nm × 160 nm × 3 nm permalloy rectangle (64 × 32 cells), field along the long axis
    (tilted by 1°), ±60 mT in 4 mT steps, each point 0.1 ns of LLG (α = 1) from the previous state; remanence
    M_r/M_s and coercive field H_c of the U-Net loop against the FFT loop. ``mh.csv``, ``mh.png``.
``timing``
    Time per field evaluation (the resolved ``h_demag`` of a uniform film, float32, one thread by default) of
    the U-Net and the FFT demag field (cell grid; the default dual grid too up to 512²) from 64² to 2048²
    cells, and the log-log slope of time against N. ``timing.csv``, ``timing.png``.

Weights: ``--weights`` (default: the shipped checkpoint). The last line is ``RESULT unet_demag ...``.

    python demos/unet_demag/evaluate.py                    # CPU default (about 20 min on one core)
    python demos/unet_demag/evaluate.py --quick            # seconds: tiny sizes, to check the plumbing
    python demos/unet_demag/evaluate.py --full             # more samples, longer relaxations
    options: --parts l2 ground mh timing --weights FILE --backend torch|jax --threads 1 --out DIR
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
for path in (HERE, HERE.parent):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import generate_data as gd  # noqa: E402
import validation_common as vc  # noqa: E402

import neuralmag as nm  # noqa: E402
from neuralmag.learned import unet  # noqa: E402

MU0 = 4e-7 * np.pi
PERMALLOY = dict(Ms=8e5, A=1.3e-11)
#: precision of the simulations: the network runs in float32 (its weights are stored in float16; float64
#: convolutions are several times slower on a CPU), the FFT reference in float64
DTYPES = {"unet": "float32", "fft": "float64"}

CONFIGS = {
    "quick": dict(l2_sizes=(16, 32), l2_trajectories=(2, 1), l2_snapshots=2, l2_t_end=2e-12, ground_samples=2,
                  ground_size=16, relax_time=4e-12, cool_time=2e-12, mh_cells=(16, 8), mh_step=20e-3,
                  mh_max=60e-3, mh_time=2e-12, timing_sizes=(16, 32), timing_dual_max=32),
    "cpu": dict(l2_sizes=(32, 64, 128), l2_trajectories=(16, 12, 6), l2_snapshots=6, l2_t_end=3e-10,
                ground_samples=10, ground_size=64, relax_time=3e-10, cool_time=1e-10, mh_cells=(64, 32),
                mh_step=4e-3, mh_max=60e-3, mh_time=1e-10, timing_sizes=(64, 128, 256, 512, 1024, 2048),
                timing_dual_max=512),
    "full": dict(l2_sizes=(32, 64, 128), l2_trajectories=(64, 48, 24), l2_snapshots=10, l2_t_end=1e-9,
                 ground_samples=100, ground_size=64, relax_time=2e-9, cool_time=2e-10, mh_cells=(64, 32),
                 mh_step=1e-3, mh_max=60e-3, mh_time=5e-10, timing_sizes=(64, 128, 256, 512, 1024, 2048),
                 timing_dual_max=1024),
}


# ---------------------------------------------------------------------------------------------- part 1: L2 errors
def network(weights, dtype="float32"):
    """``(params as torch tensors, metadata)`` and a predict function ``x (N,4,H,W) -> h (N,3,H,W)`` (no grad)."""
    import torch

    from neuralmag.backends.torch import nn

    params, meta = unet.load(weights)
    params = {k: torch.as_tensor(v, dtype=getattr(torch, dtype)) for k, v in params.items()}

    def predict(x):
        with torch.no_grad():
            return unet.predict(params, torch.as_tensor(x, dtype=getattr(torch, dtype)), nn).double().numpy()

    return predict, meta


def relative_l2(pred, target, mask):
    """``(all components, in-plane)`` relative L2 errors of one sample over the cells where ``mask`` is set."""
    e2 = ((pred - target) ** 2 * mask).sum((1, 2))
    t2 = (target**2 * mask).sum((1, 2))
    return float(np.sqrt(e2.sum() / t2.sum())), float(np.sqrt(e2[:2].sum() / t2[:2].sum()))


def l2_errors(config, weights, seed=1000, progress=True):
    predict, _ = network(weights)
    data = gd.generate(config["l2_sizes"], config["l2_trajectories"], config["l2_snapshots"], config["l2_t_end"],
                       seed=seed, progress=progress)
    rows, example = [], None
    for n, d in sorted(data.items()):
        for i in range(len(d["M"])):
            M, mask, h = d["M"][i], d["mask"][i][None].astype(float), d["h"][i].astype(float)
            pred = predict(np.concatenate([M, mask], 0)[None])[0]
            err, err_xy = relative_l2(pred, h, mask)
            rows.append((n, int(d["trajectory"][i]), float(d["time"][i]), err, err_xy))
            if n == max(data) and (example is None or d["time"][i] > example[0]):
                example = (d["time"][i], M, mask[0], h, pred, err_xy)
    return np.array(rows), example


def summarise_l2(rows):
    out = {}
    for n in np.unique(rows[:, 0]).astype(int).tolist():
        sel = rows[rows[:, 0] == n]
        out[n] = dict(samples=len(sel), mean=float(sel[:, 3].mean()), median=float(np.median(sel[:, 3])),
                      p90=float(np.percentile(sel[:, 3], 90)), mean_xy=float(sel[:, 4].mean()),
                      median_xy=float(np.median(sel[:, 4])))
    return out


def plot_l2(rows, example, path):
    sizes = np.unique(rows[:, 0]).astype(int)
    fig, axes = vc.figure(1, 4, figsize=(15, 3.6), gridspec_kw={"width_ratios": [1.2, 1, 1, 1]})
    ax = axes[0]
    ax.boxplot([rows[rows[:, 0] == n, 3] for n in sizes], tick_labels=[str(n) for n in sizes])
    ax.set_yscale("log")
    ax.set_xlabel("sample size n (cells; 128 unseen)")
    ax.set_ylabel("relative L2 error of h")
    ax.grid(alpha=0.3)
    _, M, mask, h, pred, err_xy = example
    vmax = np.abs(h[0][mask > 0]).max()
    difference = pred[0] - h[0]
    dmax = np.abs(difference[mask > 0]).max()
    for ax, image, title, scale in zip(axes[1:], [h[0], pred[0], difference],
                                       ["$h_x/M_s$ FFT", "$h_x/M_s$ U-Net", "U-Net − FFT"], [vmax, vmax, dmax]):
        im = ax.imshow(np.where(mask > 0, image, np.nan).T, origin="lower", cmap="RdBu_r", vmin=-scale, vmax=scale)
        ax.set_title(f"{title} (n={M.shape[-1]})" + (f", in-plane error {err_xy:.3f}" if "−" in title else ""),
                     fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, fraction=0.046)
    vc.save_figure(fig, path)


# ---------------------------------------------------------------------------------------------- part 2: vortices
def winding(m):
    r"""Winding number of the in-plane angle around each cell, ``(n_x, n_y)`` integers: the sum of the four
    angle increments along the cell's edges (each wrapped to :math:`(-\pi, \pi]`) over :math:`2\pi`. A vortex
    core gives +1, an antivortex −1 (nodal ``m`` of shape ``(n_x + 1, n_y + 1, 3)``)."""
    phi = np.arctan2(m[..., 1], m[..., 0])

    def step(a, b):
        return np.angle(np.exp(1j * (b - a)))

    total = (step(phi[:-1, :-1], phi[1:, :-1]) + step(phi[1:, :-1], phi[1:, 1:])
             + step(phi[1:, 1:], phi[:-1, 1:]) + step(phi[:-1, 1:], phi[:-1, :-1]))
    return np.rint(total / (2 * np.pi)).astype(int)


def cores(m, mask, ring=(2.0, 5.0)):
    """Vortex and antivortex cores of a relaxed state: list of ``(i, j, winding, polarity, chirality)`` (cell
    indices; chirality +1 counter-clockwise, −1 clockwise, 0 for antivortices) in cells whose four corners
    are all magnetic."""
    w = winding(m) * mask
    nx, ny = mask.shape
    X, Y = np.meshgrid(np.arange(nx + 1), np.arange(ny + 1), indexing="ij")
    found = []
    for i, j in zip(*np.nonzero(w)):
        corners = m[i:i + 2, j:j + 2]
        polarity = int(np.sign(corners[..., 2].mean()))
        chirality = 0
        if w[i, j] > 0:
            dx, dy = X - (i + 0.5), Y - (j + 0.5)
            r = np.hypot(dx, dy)
            near = (r >= ring[0]) & (r <= ring[1])
            chirality = int(np.sign(np.sum((dx * m[..., 1] - dy * m[..., 0])[near])))
        found.append((int(i), int(j), int(w[i, j]), polarity, chirality))
    return found


def match_cores(a, b, radius=4.0):
    """Greedy one-to-one matching of cores of the same winding within ``radius`` cells: list of index pairs."""
    pairs, used = [], set()
    candidates = sorted((np.hypot(p[0] - q[0], p[1] - q[1]), i, k) for i, p in enumerate(a) for k, q in enumerate(b)
                        if p[2] == q[2])
    taken = set()
    for d, i, k in candidates:
        if d <= radius and i not in taken and k not in used:
            pairs.append((i, k))
            taken.add(i)
            used.add(k)
    return pairs


class Relaxer:
    """LLG relaxation (α = 1: the fastest energy decay per unit time with precession) of one mesh with either demag
    term and an applied field; reused across samples and field steps (new values of ``rho``, ``m`` and the field
    keep the compiled solver)."""

    def __init__(self, cells, demag, weights=None, alpha=1.0):
        state = nm.State(nm.Mesh(cells, gd.CELL), dtype=DTYPES[demag])
        state.material.Ms = PERMALLOY["Ms"]
        state.material.A = PERMALLOY["A"]
        state.material.alpha = alpha
        state.m = nm.VectorFunction(state).fill((1.0, 0.0, 0.0))
        nm.ExchangeField().register(state)
        (nm.UNetDemagField(weights) if demag == "unet" else nm.DemagField(grid="cell")).register(state)
        nm.ExternalField((0.0, 0.0, 0.0)).register(state)
        nm.TotalField("exchange", "demag", "external").register(state)
        self.state, self.llg = state, nm.LLGSolver(state, rtol=1e-4, atol=1e-4)

    def relax(self, m0, duration, mask=None, field=(0.0, 0.0, 0.0), chunk=1e-10):
        """Nodal ``m`` after ``duration`` (s) of LLG from ``m0`` in the applied ``field`` (A/m); ``mask``: the
        sample's cells (``rho``), unchanged when None."""
        state = self.state
        if mask is not None:
            state.rho = mask.astype(float)
        state.h_external_applied = nm.VectorFunction(state).fill(field)
        state.m = m0 * state._magnetic_nodes()[..., None]
        state.t = 0.0
        while float(state.t) < duration - 1e-15:
            self.llg.step(min(chunk, duration - float(state.t)))
        return state.m.numpy()


def ground_states(config, weights, seed=2000, progress=True):
    from tqdm.auto import tqdm

    n = config["ground_size"]
    rng = np.random.default_rng(seed)
    surrogate, reference = Relaxer((n, n), "unet", weights), Relaxer((n, n), "fft")
    rows, examples = [], []
    seconds = {"unet": 0.0, "fft": 0.0}
    for k in tqdm(range(config["ground_samples"]), desc="ground states", disable=not progress):
        mask = gd.random_mask(n, rng)
        m0 = gd.random_magnetisation(n, rng, kind="white")
        t0 = time.perf_counter()
        m_unet = surrogate.relax(m0, config["relax_time"], mask)
        seconds["unet"] += time.perf_counter() - t0
        m_cooled = reference.relax(m_unet, config["cool_time"], mask)
        t0 = time.perf_counter()
        m_fft = reference.relax(m0, config["relax_time"] + config["cool_time"], mask)
        seconds["fft"] += time.perf_counter() - t0
        a, b = cores(m_cooled, mask), cores(m_fft, mask)
        pairs = match_cores(a, b)
        vort = [(a[i], b[j]) for i, j in pairs if a[i][2] > 0]
        count = lambda c, s: sum(1 for x in c if x[2] == s)  # noqa: E731
        node_mask = reference.state._magnetic_nodes()
        overlap = float(np.mean(np.sum(m_cooled * m_fft, -1)[node_mask]))
        rows.append(dict(sample=k, vortices_fft=count(b, 1), antivortices_fft=count(b, -1),
                         vortices_unet=count(a, 1), antivortices_unet=count(a, -1), matched=len(pairs),
                         matched_vortices=len(vort), polarity_agree=sum(p[3] == q[3] for p, q in vort),
                         chirality_agree=sum(p[4] == q[4] for p, q in vort), overlap=overlap))
        if len(examples) < 3:
            examples.append((mask, m_cooled, m_fft, a, b))
    return rows, examples, seconds


def summarise_ground(rows):
    same_count = np.mean([r["vortices_fft"] == r["vortices_unet"] and r["antivortices_fft"] == r["antivortices_unet"]
                          for r in rows])
    cores_fft = sum(r["vortices_fft"] + r["antivortices_fft"] for r in rows)
    cores_unet = sum(r["vortices_unet"] + r["antivortices_unet"] for r in rows)
    matched = sum(r["matched"] for r in rows)
    matched_v = sum(r["matched_vortices"] for r in rows)
    return dict(samples=len(rows), count_agreement=float(same_count), cores_fft=cores_fft, cores_unet=cores_unet,
                vortices_fft=sum(r["vortices_fft"] for r in rows), vortices_unet=sum(r["vortices_unet"] for r in rows),
                matched_fraction=matched / max(1, max(cores_fft, cores_unet)), matched_vortices=matched_v,
                polarity_precision=sum(r["polarity_agree"] for r in rows) / max(1, matched_v),
                chirality_precision=sum(r["chirality_agree"] for r in rows) / max(1, matched_v),
                mean_overlap=float(np.mean([r["overlap"] for r in rows])))


def plot_ground(examples, path):
    fig, axes = vc.figure(2, len(examples), figsize=(3.6 * len(examples), 7), squeeze=False)
    for col, (mask, m_unet, m_fft, a, b) in enumerate(examples):
        for row, (m, found, label) in enumerate([(m_unet, a, "U-Net + FFT cooling"), (m_fft, b, "FFT")]):
            ax = axes[row, col]
            cells = gd.cell_average(m)
            angle = np.where(mask, np.arctan2(cells[1], cells[0]), np.nan)
            ax.imshow(angle.T, origin="lower", cmap="hsv", vmin=-np.pi, vmax=np.pi)
            for i, j, w, p, c in found:
                ax.plot(i, j, "o" if w > 0 else "s", ms=7, mfc="white" if p > 0 else "black", mec="k")
            ax.set_title(f"{label}: {sum(f[2] > 0 for f in found)} V, {sum(f[2] < 0 for f in found)} AV", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
    vc.save_figure(fig, path)


# ---------------------------------------------------------------------------------------------- part 3: MH loop
def hysteresis(config, demag, weights=None, progress=True):
    """Field sweep ``+B_max → −B_max → +B_max`` (T) along x, tilted by 1° in-plane; at each field ``mh_time``
    of LLG (α = 1) from the previous state. Returns ``(fields in T, <m_x>)``."""
    from tqdm.auto import tqdm

    relaxer = Relaxer(config["mh_cells"], demag, weights)
    top, step = config["mh_max"], config["mh_step"]
    down = np.arange(top, -top - step / 2, -step)
    fields = np.concatenate([down, -down[1:]])
    direction = np.array([np.cos(np.radians(1.0)), np.sin(np.radians(1.0)), 0.0])
    m = np.broadcast_to(np.array([1.0, 0.05, 0.0]) / np.hypot(1.0, 0.05), relaxer.state.m.tensor_shape).copy()
    mx = []
    for b in tqdm(fields, desc=f"MH loop ({demag})", disable=not progress):
        # steps of at most 10 ps: from a state near equilibrium the solver's first step is the whole interval,
        # whose Runge-Kutta stages leave the unit sphere far enough for the network (trained on |M| <= Ms) to
        # return fields that make the step-size control fail (float32); the FFT field, linear, is indifferent
        m = relaxer.relax(m, config["mh_time"], field=b / MU0 * direction, chunk=1e-11)
        mx.append(float(relaxer.state.to_numpy(relaxer.state.m.avg())[0]))
    return fields, np.array(mx)


def loop_figures(fields, mx):
    """Remanence (descending branch at B = 0) and coercive field (mean |B| of the zero crossings of both
    branches, linear interpolation), in units of M_s and T."""
    half = len(fields) // 2 + 1
    branches = [(fields[:half], mx[:half]), (fields[half - 1:], mx[half - 1:])]
    remanence = float(np.interp(0.0, fields[:half][::-1], mx[:half][::-1]))
    crossings = []
    for f, m in branches:
        s = np.nonzero(np.sign(m[:-1]) != np.sign(m[1:]))[0]
        if len(s):
            i = s[0]
            crossings.append(abs(f[i] - m[i] * (f[i + 1] - f[i]) / (m[i + 1] - m[i])))
    return remanence, float(np.mean(crossings)) if crossings else float("nan")


# ---------------------------------------------------------------------------------------------- part 4: timing
def time_field(n, demag, backend, weights=None, repeats=None):
    """Seconds per evaluation of the resolved ``h_demag`` of an ``n × n`` film (float32), best of ``repeats``."""
    state = nm.State(nm.Mesh((n, n), gd.CELL), backend=backend, dtype="float32")
    state.material.Ms = PERMALLOY["Ms"]
    state.m = nm.VectorFunction(state).fill((1.0, 0.1, 0.0))
    if demag == "unet":
        nm.UNetDemagField(weights).register(state)
    else:
        nm.DemagField(grid=demag).register(state)
    field = state.resolve("h_demag", ["m"])
    m = state.m.tensor

    def run():
        h = field(m)
        if backend == "jax":
            h.block_until_ready()
        return h

    run()  # compile / warm up
    repeats = repeats or (5 if n <= 512 else 2)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return min(times)


def timing(config, weights, backends, progress=True):
    from tqdm.auto import tqdm

    rows = []
    jobs = [(b, n, d) for b in backends for n in config["timing_sizes"] for d in ("unet", "cell", "dual")
            if d != "dual" or n <= config["timing_dual_max"]]
    for backend, n, demag in tqdm(jobs, desc="timing", disable=not progress):
        rows.append((backend, n, demag, time_field(n, demag, backend, weights)))
    return rows


def slope(sizes, seconds):
    """Exponent p of t ∝ N^p (N = n² cells), least squares in log-log over the sizes ≥ 256² (smaller ones are
    dominated by per-call overhead), or over all when fewer than two are that large."""
    sizes, seconds = np.asarray(sizes, float), np.asarray(seconds, float)
    big = sizes >= 256
    sel = big if big.sum() >= 2 else np.ones_like(big)
    return float(np.polyfit(np.log(sizes[sel] ** 2), np.log(seconds[sel]), 1)[0])


def plot_timing(rows, path) -> dict:
    """Log-log plot of the timings ``rows`` = ``[(backend, n, method, seconds)]``; returns slopes and times."""
    labels = {"unet": "U-Net", "cell": "FFT, cell grid", "dual": "FFT, dual grid (default)"}
    fig, ax = vc.figure(figsize=(6.5, 4.5))
    result = {}
    for backend in dict.fromkeys(r[0] for r in rows):
        for demag, style in (("unet", "o-"), ("cell", "s--"), ("dual", "^:")):
            sel = [(r[1], r[3]) for r in rows if r[0] == backend and r[2] == demag]
            if not sel:
                continue
            n, t = np.array(sel).T
            ax.loglog(n**2, t, style, label=f"{labels[demag]} ({backend})")
            result[f"{backend}_{demag}"] = dict(slope=slope(n, t), seconds=dict(zip(map(int, n), t)))
    ax.set_xlabel("cells N")
    ax.set_ylabel("seconds per field")
    ax.set_title("U-Net vs FFT demag (CPU, float32, 1 thread)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    vc.save_figure(fig, path)
    return result


# ---------------------------------------------------------------------------------------------- main
def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    scale = p.add_mutually_exclusive_group()
    scale.add_argument("--quick", action="store_true")
    scale.add_argument("--full", action="store_true")
    p.add_argument("--parts", nargs="+", default=["l2", "ground", "mh", "timing"],
                   choices=["l2", "ground", "mh", "timing"])
    p.add_argument("--weights", default=None, help="weight file (default: the shipped checkpoint)")
    p.add_argument("--backend", choices=["jax", "torch"], default="torch",
                   help="backend of the simulations (ground states, MH loop)")
    p.add_argument("--timing-backends", nargs="+", default=["torch", "jax"], choices=["jax", "torch"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--out", default="results/unet_demag/eval")
    args = p.parse_args(argv)
    gd.limit_threads(args.threads)
    nm.config.backend = args.backend
    nm.config.dtype = "float64"
    config = CONFIGS["quick" if args.quick else "full" if args.full else "cpu"]
    weights = Path(args.weights) if args.weights else unet.default_weights()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    progress = not args.no_progress
    summary_path = out / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}  # parts run separately add up
    summary.update(weights=str(weights), config="quick" if args.quick else "full" if args.full else "cpu")

    if "l2" in args.parts:
        t0 = time.perf_counter()
        rows, example = l2_errors(config, weights, progress=progress)
        vc.write_csv(out / "l2.csv", {"size": rows[:, 0], "trajectory": rows[:, 1], "time": rows[:, 2],
                                      "rel_l2": rows[:, 3], "rel_l2_inplane": rows[:, 4]})
        np.savez_compressed(out / "l2_example.npz", **dict(zip(("time", "M", "mask", "h", "pred", "err_xy"), example)))
        plot_l2(rows, example, out / "l2.png")
        summary["l2"] = summarise_l2(rows)
        summary["l2_seconds"] = time.perf_counter() - t0
        for n, s in summary["l2"].items():
            print(f"size {n}: relative L2 error mean {s['mean']:.4f} median {s['median']:.4f} p90 {s['p90']:.4f}; "
                  f"in-plane mean {s['mean_xy']:.4f} ({s['samples']} samples)", flush=True)

    if "ground" in args.parts:
        t0 = time.perf_counter()
        rows, examples, seconds = ground_states(config, weights, progress=progress)
        vc.write_csv(out / "ground.csv", {k: [r[k] for r in rows] for k in rows[0]})
        plot_ground(examples, out / "ground.png")
        summary["ground"] = dict(summarise_ground(rows), seconds_unet=seconds["unet"], seconds_fft=seconds["fft"])
        summary["ground_seconds"] = time.perf_counter() - t0
        print("ground states:", json.dumps(summary["ground"]), flush=True)

    if "mh" in args.parts:
        t0 = time.perf_counter()
        loops = {d: hysteresis(config, d, weights, progress) for d in ("fft", "unet")}
        fields = loops["fft"][0]
        vc.write_csv(out / "mh.csv", {"B_T": fields, "mx_fft": loops["fft"][1], "mx_unet": loops["unet"][1]})
        fig, ax = vc.figure(figsize=(6, 4.2))
        for d, style in (("fft", "k-"), ("unet", "r--")):
            ax.plot(loops[d][0] * 1e3, loops[d][1], style, label={"fft": "FFT demag", "unet": "U-Net demag"}[d])
        ax.set_xlabel("$\\mu_0 H$ (mT)")
        ax.set_ylabel("$\\langle m_x \\rangle$")
        ax.set_title(f"{config['mh_cells'][0] * 5} nm × {config['mh_cells'][1] * 5} nm × 3 nm permalloy")
        ax.grid(alpha=0.3)
        ax.legend()
        vc.save_figure(fig, out / "mh.png")
        summary["mh"] = {d: dict(zip(("Mr", "Hc_T"), loop_figures(*loops[d]))) for d in loops}
        summary["mh_seconds"] = time.perf_counter() - t0
        print("MH loop:", json.dumps(summary["mh"]), flush=True)

    if "timing" in args.parts:
        rows = timing(config, weights, args.timing_backends, progress)
        vc.write_csv(out / "timing.csv", {"backend": [0 if r[0] == "torch" else 1 for r in rows],
                                          "n": [r[1] for r in rows],
                                          "method": [("unet", "cell", "dual").index(r[2]) for r in rows],
                                          "seconds": [r[3] for r in rows]})
        (out / "timing.json").write_text(json.dumps(rows))
        summary["timing"] = plot_timing(rows, out / "timing.png")
        print("timing:", json.dumps(summary["timing"]), flush=True)

    summary_path.write_text(json.dumps(summary, indent=1, default=str))
    parts = []
    for n, s in summary.get("l2", {}).items():
        parts.append(f"l2_{n}={s['mean']:.4f} l2xy_{n}={s['mean_xy']:.4f}")
    if "ground" in summary:
        g = summary["ground"]
        parts.append(f"count_agreement={g['count_agreement']:.3f} polarity_precision={g['polarity_precision']:.3f} "
                     f"chirality_precision={g['chirality_precision']:.3f}")
    if "mh" in summary:
        mh = summary["mh"]
        parts.append(f"Mr_fft={mh['fft']['Mr']:.4f} Mr_unet={mh['unet']['Mr']:.4f} "
                     f"Hc_fft_mT={mh['fft']['Hc_T'] * 1e3:.2f} Hc_unet_mT={mh['unet']['Hc_T'] * 1e3:.2f}")
    if "timing" in summary:
        for key in ("torch_unet", "torch_cell"):
            if key in summary["timing"]:
                parts.append(f"slope_{key}={summary['timing'][key]['slope']:.3f}")
    line = "RESULT unet_demag " + " ".join(parts)
    print(line, flush=True)
    return line


if __name__ == "__main__":
    main()
