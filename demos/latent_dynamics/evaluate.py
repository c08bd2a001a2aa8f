"""Evaluate the trained latent-space model on SP4 fields 1 and 2 (never seen in training; issue 9).

For each field: the full simulation (the S-state of the data set, 1 ns of LLG on the same 2D film grid, cell
averages every 10 ps) against the reduced model started from the first 4 simulated snapshots (t = 0–30 ps) and
rolled out in latent space to 1 ns (97 steps), on every backend in ``--rom-backends``. Reported:

* the error of ⟨m⟩(t) per component over t = 40 ps … 1 ns: maximum and mean of |⟨m⟩_ROM − ⟨m⟩_sim|;
* the autoencoder alone (encode and decode every simulated snapshot): mean |m̂ − m| per cell and the ⟨m⟩ error it
  causes, the floor of the rollout's error;
* wall times (after jit warm-up, median of ``--repeats``): the LLG for 1 ns, the rollout, and the speed-ups
  ``sim / rollout`` and ``sim / (30 ps of LLG for the 4 start states + rollout)``;
* the largest ⟨m⟩ difference between the JAX and PyTorch rollouts.

Writes ``evaluate_field{1,2}.csv``, ``evaluation.png`` (⟨m⟩(t)), ``snapshots.png`` (m of field 1 at three times)
and ``evaluation.json`` to ``--out``, and prints a ``RESULT latent_dynamics ...`` line.

    python demos/latent_dynamics/evaluate.py [--quick | --full] [--rom-backends jax torch] [--rom-dtype float32]
        [--out results/latent_dynamics/cpu]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
for _p in (HERE, HERE.parent):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import generate_data  # noqa: E402

import neuralmag as nm  # noqa: E402
from neuralmag.learned import LatentDynamics  # noqa: E402


def time_rollout(rom, m_start, field, n_steps: int, repeats: int):
    """``(rollout, median seconds)``; the first call compiles (JAX) and is not timed."""
    rom.rollout(m_start, field, n_steps)
    seconds = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = rom.rollout(m_start, field, n_steps)
        np.asarray(rom.backend.to_numpy(result.m_avg))  # wait for asynchronous (JAX) results
        seconds.append(time.perf_counter() - t0)
    return result, float(np.median(seconds))


def evaluate_field(sim, roms, field, n_snapshots: int, dt: float, repeats: int) -> dict:
    """Simulation and rollouts for one field; arrays and numbers in a dict."""
    m_sim, sim_s, steps = sim.run(field, n_snapshots, dt)
    _, start_s, _ = sim.run(field, 4, dt)  # the 30 ps that produce the 4 start states
    avg_sim = m_sim.mean(axis=(1, 2))
    hist = next(iter(roms.values())).history
    res = {"t": dt * np.arange(n_snapshots), "avg_sim": avg_sim, "m_sim": m_sim, "sim_s": sim_s, "start_s": start_s,
           "solver_steps": steps, "rom": {}}
    for name, rom in roms.items():
        out, rom_s = time_rollout(rom, m_sim[:hist], field, n_snapshots - hist, repeats)
        avg = np.concatenate([avg_sim[:hist], rom.backend.to_numpy(out.m_avg)])
        err = np.abs(avg - avg_sim)[hist:]
        rec = rom.backend.to_numpy(rom.decode(rom.encode(m_sim)))
        res["rom"][name] = {
            "avg": avg, "m": rom.backend.to_numpy(out.m), "rollout_s": rom_s,
            "max_err": float(err.max()), "mean_err": float(err.mean()),
            "max_err_xyz": err.max(0).tolist(), "mean_err_xyz": err.mean(0).tolist(),
            "ae_cell_err": float(np.linalg.norm(rec - m_sim, axis=-1).mean()),
            "ae_avg_max_err": float(np.abs(rec.mean(axis=(1, 2)) - avg_sim).max()),
            "speedup": sim_s / rom_s, "speedup_with_start": sim_s / (rom_s + start_s)}
    return res


def plot(results, path, backend):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4), squeeze=False)
    for ax, (k, r) in zip(axes[0], results.items()):
        t = r["t"] * 1e9
        rom = r["rom"][backend]
        for i, (c, label) in enumerate(zip("C0 C1 C2".split(), ("⟨mx⟩", "⟨my⟩", "⟨mz⟩"))):
            ax.plot(t, r["avg_sim"][:, i], color=c, label=f"LLG {label}")
            ax.plot(t, rom["avg"][:, i], "--", color=c, label=f"latent ROM {label}")
        ax.axvline(t[3], color="k", lw=0.5, ls=":")
        ax.set_title(f"SP4 field {k}: max |Δ⟨m⟩| = {rom['max_err']:.3f}, speed-up ×{rom['speedup']:.0f}")
        ax.set_xlabel("t (ns)")
        ax.set_ylabel("average magnetisation")
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_snapshots(result, path, backend, times_ns=(0.1, 0.2, 0.5, 1.0)):
    """In-plane angle of m (colour) of the simulation and the ROM at a few times."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = result["t"] * 1e9
    fig, axes = plt.subplots(len(times_ns), 2, figsize=(9, 1.3 * len(times_ns) + 0.6), squeeze=False)
    for row, tn in enumerate(times_ns):
        k = int(np.argmin(np.abs(t - tn)))
        for col, (m, name) in enumerate(((result["m_sim"][k], "LLG"),
                                         (result["rom"][backend]["m"][k - 4], "latent ROM"))):
            ax = axes[row, col]
            angle = (np.degrees(np.arctan2(m[..., 1], m[..., 0])) % 360.0).T  # +x red, +y green-yellow, −x cyan
            ax.imshow(angle, origin="lower", cmap="hsv", vmin=0, vmax=360, extent=(0, 500, 0, 125))
            ax.set_title(f"{name}, t = {t[k]:.2f} ns", fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle("SP4 field 1: in-plane angle of m (hue; +x red, −x cyan)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    generate_data.add_size_arguments(parser)
    parser.add_argument("--rom-backends", nargs="+", choices=["jax", "torch"], default=["jax", "torch"])
    parser.add_argument("--rom-dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 on a shared CPU)")
    args = parser.parse_args(argv)
    if args.backend:
        nm.config.backend = args.backend
    if "torch" in args.rom_backends or nm.config.backend == "torch":
        import torch

        torch.set_num_threads(args.threads)
    out = generate_data.out_dir(args)
    index = json.loads((out / "data" / "index.json").read_text())
    cfg = index["config"]
    model = out / "model.npz"
    roms = {b: LatentDynamics(model, backend=b, dtype=args.rom_dtype) for b in args.rom_backends}
    s_path = out / "data" / "s_state.npz"
    sim = generate_data.Simulator(tuple(cfg["cells"]), np.load(s_path)["m"] if s_path.exists() else None)
    n_snap = int(round(cfg["t_end"] / cfg["dt"])) + 1
    results = {k: evaluate_field(sim, roms, generate_data.TEST_FIELDS[k], n_snap, cfg["dt"], args.repeats)
               for k in (1, 2)}

    main_backend = args.rom_backends[0]
    for k, r in results.items():
        rom = r["rom"][main_backend]
        np.savetxt(out / f"evaluate_field{k}.csv", np.column_stack([r["t"], r["avg_sim"], rom["avg"]]), delimiter=",",
                   header="t,mx_sim,my_sim,mz_sim,mx_rom,my_rom,mz_rom", comments="")
    plot(results, out / "evaluation.png", main_backend)
    plot_snapshots(results[1], out / "snapshots.png", main_backend,
                   times_ns=tuple(x for x in (0.1, 0.2, 0.5, 1.0) if x <= cfg["t_end"] * 1e9 + 1e-9) or (cfg["t_end"],))
    backend_diff = max(float(np.abs(r["rom"][a]["avg"] - r["rom"][b]["avg"]).max())
                       for r in results.values() for a in roms for b in roms)
    summary = {f"field{k}": {"sim_s": r["sim_s"], "start_s": r["start_s"], "solver_steps": r["solver_steps"],
                             **{b: {key: v for key, v in rr.items() if key not in ("avg", "m")}
                                for b, rr in r["rom"].items()}}
               for k, r in results.items()}
    summary["backend_max_avg_diff"] = backend_diff
    summary["rom_dtype"], summary["sim_backend"] = args.rom_dtype, nm.config.backend
    (out / "evaluation.json").write_text(json.dumps(summary, indent=1))

    parts = [f"RESULT latent_dynamics cells={cfg['cells'][0]}x{cfg['cells'][1]} sim_backend={nm.config.backend}"]
    for k, r in results.items():
        for b, rom in r["rom"].items():
            parts.append(f"f{k}_{b}_max_err={rom['max_err']:.4f} f{k}_{b}_mean_err={rom['mean_err']:.4f} "
                         f"f{k}_{b}_speedup={rom['speedup']:.0f}")
        rom = r["rom"][main_backend]
        parts.append(f"f{k}_ae_cell_err={rom['ae_cell_err']:.4f} f{k}_ae_avg_max_err={rom['ae_avg_max_err']:.4f} "
                     f"f{k}_sim_s={r['sim_s']:.1f} f{k}_speedup_with_start={rom['speedup_with_start']:.1f}")
    parts.append(f"backend_max_diff={backend_diff:.1e}")
    result = " ".join(parts)
    print(f"wrote {out / 'evaluation.png'}, {out / 'snapshots.png'} and {out / 'evaluation.json'}")
    print(result)
    return result


if __name__ == "__main__":
    main()
