"""Peak memory, time and agreement of the LLG gradient modes as the horizon grows 10× (issues 5 and 7).

Usage::

    python benchmarks/bench_adjoint_memory.py [--horizon 2e-11] [--factor 10] [--backends jax torch]
        [--adjoints backsolve checkpoint direct] [--fresh torch|all] [--timeout 300]
        [--max-rss-gb 6] [--no-write]

The committed results took 9.5 min on a shared 2-core machine.

Problem: a 100 nm × 50 nm × 3 nm film, 20 × 10 × 1 cells (462 nodes), exchange + uniaxial anisotropy (z) + a
Zeeman field ``Hc/2 (sinθ cosφ, sinθ sinφ, cosθ)`` whose angles ``state.angles`` are the parameters, a
non-uniform initial m (so exchange matters), α = 0.05, Dopri5 with rtol = atol = 1e-6, float64. Loss: the
misfit of m(T) to m_target = (1/√2, 0, 1/√2), ``mean_nodes |m(T) − m_target|²``; gradient w.r.t. the angles.

Every torch (backend, adjoint, horizon) runs in a fresh Python process; a JAX (adjoint) runs in one process
for both horizons, because compiling the jitted gradient takes 0.5–2 min on a loaded 2-core machine and the
executable is the same for both (``--fresh all`` gives JAX a process per horizon too). A process

1. sets up the state and the solver (kernel generation, not measured);
2. per horizon, runs one forward solve to it (no gradient; JAX: a second one after compilation) → solver steps;
3. runs a warm-up gradient: JAX per horizon (this compiles the jitted ``value_and_grad`` for that grid of
   output times, which must be concrete so that the backsolve adjoint can restart every
   ``backsolve_interval``); torch once, at 1/100 of the first horizon (starts the autograd engine);
4. per horizon, releases free heap memory (``malloc_trim``), resets the kernel's peak-RSS counter
   (``/proc/self/clear_refs`` ← 5, so VmHWM = VmRSS) and measures **one** gradient call at that horizon:
   peak memory = VmHWM after the call − VmRSS before it, i.e. what the gradient computation itself needed on
   top of the set-up.

The parent kills a child after ``--timeout`` s or when its RSS exceeds ``--max-rss-gb`` and reports that. It
prints a markdown table and, unless ``--no-write``, writes ``benchmarks/results/adjoint_memory.{csv,md}``.

The committed table has rows ``torch / checkpoint-proposed``: per-step checkpointing, measured before it
replaced the per-interval checkpoint of the torch backend (``neuralmag/backends/torch/ode.py``); the torch
``checkpoint`` mode now is that implementation.
"""

from __future__ import annotations

import argparse
import csv
import ctypes
import gc
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
HC = 2e5
TARGET = (0.5**0.5, 0.0, 0.5**0.5)


# ---------------------------------------------------------------------------------------------- child process
def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak():
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)


def build(backend: str, adjoint: str):
    import numpy as np

    import neuralmag as nm

    nm.config.backend = backend
    nx, ny = 20, 10
    state = nm.State(nm.Mesh((nx, ny, 1), (5e-9, 5e-9, 3e-9)), dtype="float64")
    state.material.Ms = 8e5
    state.material.A = 1.3e-11
    state.material.Ku = 1e5
    state.material.Ku_axis = (0.0, 0.0, 1.0)
    state.material.alpha = 0.05
    x = np.linspace(0.0, 1.0, nx + 1)[:, None, None]
    m0 = np.zeros((nx + 1, ny + 1, 2, 3))
    m0[..., 0] = 0.3 * np.sin(np.pi * x)
    m0[..., 2] = 1.0
    state.m = nm.VectorFunction(state, tensor=state.tensor(m0 / np.linalg.norm(m0, axis=-1, keepdims=True)))
    state.angles = state.tensor([1.2, 0.4])
    if backend == "jax":
        import jax.numpy as xp
    else:
        import torch as xp

    def h_ext(angles):
        return HC / 2 * xp.stack([xp.sin(angles[0]) * xp.cos(angles[1]),
                                  xp.sin(angles[0]) * xp.sin(angles[1]), xp.cos(angles[0])])

    nm.ExternalField(h_ext).register(state)
    nm.ExchangeField().register(state)
    nm.UniaxialAnisotropyField().register(state)
    nm.TotalField("exchange", "uniaxial", "external").register(state)
    llg = nm.LLGSolver(state, parameters=["angles"], adjoint=adjoint, rtol=1e-6, atol=1e-6)
    target = state.tensor(np.array(TARGET))

    def loss(angles, ts):
        m_end = llg.solve(ts, angles).ys[-1]
        return ((m_end - target) ** 2).sum(-1).mean()

    return state, llg, loss


def child(backend: str, adjoint: str, horizons: list[float]) -> list[dict]:
    """Set up once, then for each horizon: forward solve, warm-up gradient (first horizon only), one measured
    gradient call with the peak counter reset before it."""
    rss_start = _status_kb("VmRSS")
    t_setup = time.perf_counter()
    state, llg, loss = build(backend, adjoint)
    integ, constants = llg._integrator("dmdt")
    setup_s = time.perf_counter() - t_setup

    def forward(horizon):
        args = (state.angles, *state.values(constants))
        return integ(state.m.tensor, llg._times(state.tensor([0.0, horizon])), args)

    if backend == "jax":
        import jax
        import jax.numpy as jnp

        # compiled per output-time grid: with concrete times the backsolve adjoint restarts its backward pass
        # every backsolve_interval (traced times would switch that off, see LLGSolver._backsolve_grid)
        compiled = {}
        angles = jnp.asarray(state.angles)

        def value_and_grad(angles, ts):
            key = tuple(ts)
            if key not in compiled:
                import numpy as np  # NumPy times: a jnp array created inside the jitted function is a tracer

                compiled[key] = jax.jit(jax.value_and_grad(lambda a: loss(a, np.asarray(key))))
            return compiled[key](angles)

        def timed_forward(horizon):
            forward(horizon)  # compiles the forward solve on the first call
            t0 = time.perf_counter()
            ys, steps, ok = forward(horizon)
            jax.block_until_ready(ys)
            return time.perf_counter() - t0, int(steps), bool(ok)

        def grad_call(ts):
            value, g = value_and_grad(angles, ts)
            jax.block_until_ready(g)
            return float(value), [float(v) for v in g], None
    else:
        def timed_forward(horizon):
            t0 = time.perf_counter()
            ys, steps, ok = forward(horizon)  # accepted steps (torchdiffeq step callbacks)
            return time.perf_counter() - t0, int(steps), bool(ok)

        def grad_call(ts):
            angles = state.angles.detach().clone().requires_grad_(True)
            value = loss(angles, state.tensor(ts))
            value.backward()
            return float(value.detach()), [float(v) for v in angles.grad], integ.nfe

    rows = []
    warmup_s = None
    for horizon in horizons:
        fwd_s, steps, ok = timed_forward(horizon)
        if warmup_s is None or backend == "jax":  # JAX: compiles value_and_grad; torch: starts autograd
            t0 = time.perf_counter()
            grad_call([0.0, horizon] if backend == "jax" else [0.0, horizons[0] / 100])
            warmup_s = time.perf_counter() - t0
        _reset_peak()
        rss0 = _status_kb("VmRSS")
        t0 = time.perf_counter()
        value, grad, nfe_grad = grad_call([0.0, horizon])
        grad_s = time.perf_counter() - t0
        hwm = _status_kb("VmHWM")
        rows.append({
            "backend": backend, "adjoint": adjoint, "T": horizon, "status": "ok" if ok else "forward failed",
            "steps": steps, "nfe_grad": nfe_grad, "setup_s": setup_s, "fwd_s": fwd_s, "warmup_s": warmup_s,
            "grad_s": grad_s, "peak_MB": (hwm - rss0) / 1024, "rss_before_MB": rss0 / 1024,
            "rss_start_MB": rss_start / 1024, "loss": value, "grad_theta": grad[0], "grad_phi": grad[1],
            "process": "shared" if len(horizons) > 1 else "fresh",
        })
        print(json.dumps(rows[-1]), flush=True)  # the parent keeps what finished if a later horizon times out
    return rows


# ---------------------------------------------------------------------------------------------- parent process
def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_child(backend: str, adjoint: str, horizons: list[float], timeout: float, max_rss_kb: int) -> list[dict]:
    cmd = [sys.executable, __file__, "--child", backend, adjoint, *map(repr, horizons)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.perf_counter()
    status = None
    peak_child = 0
    while proc.poll() is None:
        peak_child = max(peak_child, _rss_kb(proc.pid))
        if time.perf_counter() - t0 > timeout:
            status = f"timeout (> {timeout:.0f} s)"
        elif peak_child > max_rss_kb:
            status = f"killed: RSS > {max_rss_kb / 2**20:.0f} GB"
        if status:
            proc.kill()
            break
        time.sleep(0.05)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    done = {r["T"]: r for r in (json.loads(ln) for ln in out.splitlines() if ln.startswith("{"))}
    if status is None and proc.returncode != 0:
        status = f"error (rc {proc.returncode}): " + (err.strip().splitlines() or ["?"])[-1][:200]
    rows = []
    for horizon in horizons:
        row = done.get(horizon, {"backend": backend, "adjoint": adjoint, "T": horizon,
                                 "status": status or "no result"})
        row["wall_s"] = wall
        rows.append(row)
    return rows


COLUMNS = ["backend", "adjoint", "T", "status", "process", "steps", "nfe_grad", "peak_MB", "grad_s", "fwd_s",
           "warmup_s", "setup_s", "wall_s", "rss_before_MB", "loss", "grad_theta", "grad_phi"]


def _fmt(v, spec):
    return "–" if v is None or v == "" else format(v, spec)


def rel_diff(a: dict, b: dict) -> float | None:
    if a.get("status") != "ok" or b.get("status") != "ok":
        return None
    ga, gb = (a["grad_theta"], a["grad_phi"]), (b["grad_theta"], b["grad_phi"])
    num = math.hypot(ga[0] - gb[0], ga[1] - gb[1])
    return num / math.hypot(*gb)


def report(rows: list[dict], horizons: list[float], header: str) -> str:
    out = [header, ""]
    out.append("| backend | adjoint | T (ns) | steps | peak MB | grad time s | forward s | dL/dθ | dL/dφ | "
               "rel. diff vs same-backend checkpoint |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    by = {(r["backend"], r["adjoint"], r["T"]): r for r in rows}
    for r in rows:
        if r.get("status") != "ok":
            out.append(f"| {r['backend']} | {r['adjoint']} | {r['T'] * 1e9:g} | – | {r['status']} "
                       "| – | – | – | – | – |")
            continue
        ref = by.get((r["backend"], "checkpoint", r["T"]))
        d = rel_diff(r, ref) if ref is not None and ref is not r else None
        out.append(f"| {r['backend']} | {r['adjoint']} | {r['T'] * 1e9:g} | {r['steps']} | {r['peak_MB']:.1f} | "
                   f"{r['grad_s']:.2f} | {r['fwd_s']:.2f} | {r['grad_theta']:.9g} | {r['grad_phi']:.9g} | "
                   f"{'(ref)' if ref is r else _fmt(d, '.2e')} |")
    if len(horizons) == 2:
        t1, t2 = horizons
        out += ["", f"Peak-memory ratio peak({t2 * 1e9:g} ns) / peak({t1 * 1e9:g} ns) and step ratio:", "",
                "| backend | adjoint | peak(T) MB | peak(10T) MB | ratio | steps ratio | grad time ratio |",
                "|---|---|---|---|---|---|---|"]
        seen = []
        for r in rows:
            key = (r["backend"], r["adjoint"])
            if key in seen:
                continue
            seen.append(key)
            a, b = by.get((*key, t1)), by.get((*key, t2))
            if a and b and a.get("status") == "ok" and b.get("status") == "ok":
                out.append(f"| {key[0]} | {key[1]} | {a['peak_MB']:.1f} | {b['peak_MB']:.1f} | "
                           f"{b['peak_MB'] / max(a['peak_MB'], 1e-9):.2f} | {b['steps'] / a['steps']:.1f} | "
                           f"{b['grad_s'] / a['grad_s']:.1f} |")
            else:
                out.append(f"| {key[0]} | {key[1]} | {a.get('status') if a else '–'} | "
                           f"{b.get('status') if b else '–'} | – | – | – |")
    # gradient agreement: every pair of ok rows at the same horizon
    for t in horizons:
        ok = [r for r in rows if r["T"] == t and r.get("status") == "ok"]
        if len(ok) < 2:
            continue
        names = [f"{r['backend']}/{r['adjoint']}" for r in ok]
        out += ["", f"Relative gradient difference |g_a − g_b| / |g_b| at T = {t * 1e9:g} ns:", "",
                "| a \\ b | " + " | ".join(names) + " |", "|---" * (len(ok) + 1) + "|"]
        for ra, na in zip(ok, names):
            cells = ["–" if ra is rb else f"{rel_diff(ra, rb):.1e}" for rb in ok]
            out.append(f"| {na} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def machine_line() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "?")
    except OSError:
        cpu = "?"
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import importlib.metadata as md

    vers = ", ".join(f"{p} {md.version(p)}" for p in ("jax", "diffrax", "torch", "torchdiffeq"))
    return (f"{platform.node() or 'machine'}: {os.cpu_count()} CPUs ({cpu}), {mem:.0f} GiB RAM, "
            f"Linux {platform.release()}, Python {platform.python_version()}; {vers}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizon", type=float, default=2e-11, help="T in seconds (default 20 ps)")
    parser.add_argument("--factor", type=float, default=10.0)
    parser.add_argument("--backends", nargs="+", default=["jax", "torch"])
    parser.add_argument("--adjoints", nargs="+", default=["backsolve", "checkpoint", "direct"])
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--max-rss-gb", type=float, default=6.0)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--fresh", choices=["torch", "all"], default="torch",
                        help="which backends get a fresh process per horizon (default torch: a JAX process "
                             "compiles value_and_grad once, 1-2 min on a loaded 2-core machine, then measures "
                             "both horizons)")
    parser.add_argument("--child", nargs="+", metavar="BACKEND ADJOINT T", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        backend, adjoint, *horizons = args.child
        child(backend, adjoint, [float(h) for h in horizons])
        return

    horizons = [args.horizon, args.horizon * args.factor]
    load0 = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M")
    rows = []
    for backend in args.backends:
        adjoints = list(args.adjoints)
        for adjoint in adjoints:
            groups = [[h] for h in horizons] if args.fresh == "all" or backend == "torch" else [horizons]
            for group in groups:
                for row in run_child(backend, adjoint, group, args.timeout, int(args.max_rss_gb * 2**20)):
                    rows.append(row)
                    print(json.dumps({k: row.get(k) for k in COLUMNS}), flush=True)
    load1 = os.getloadavg()
    header = (f"LLG gradient w.r.t. two field angles, 462-node film, Dopri5 rtol = atol = 1e-6, float64; "
              f"T = {horizons[0] * 1e9:g} ns and {horizons[1] * 1e9:g} ns. Run {started} on {machine_line()}. "
              f"Load average (1 min) {load0[0]:.1f} at the start and {load1[0]:.1f} at the end (the machine is "
              f"shared: times are indicative). peak MB = VmHWM during the one gradient call − VmRSS before it.")
    text = report(rows, horizons, header)
    print()
    print(text)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        with open(RESULTS / "adjoint_memory.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        md = RESULTS / "adjoint_memory.md"
        # a hand-written "## Findings" section of an earlier file is kept below the new numbers
        findings = ""
        if md.exists() and "\n## Findings" in md.read_text():
            findings = "\n## Findings" + md.read_text().split("\n## Findings", 1)[1]
        md.write_text("# Adjoint memory benchmark (benchmarks/bench_adjoint_memory.py)\n\n" + text + "\n" + findings)


if __name__ == "__main__":
    main()
