"""LLG right-hand-side throughput of NeuralMag next to its peers (issue 8): the benchmark harness.

Usage::

    python benchmarks/bench_rhs.py [--sizes 32 64 ... 1024] [--sizes3d 8 16 32 64] [--dims 2 3]
        [--dtypes float32 float64] [--codes ours-jax,ours-torch,neuralmag-jax,neuralmag-torch,magnumnp]
        [--grids dual cell] [--quick] [--threads N] [--cache DIR] [--out benchmarks/results]
    neuralmag bench [same options]            # the same, from the command line
    python benchmarks/bench_rhs.py --report-only --out DIR    # rebuild csv/md/png from DIR/rhs.jsonl

Method (docs: "Benchmarks"): for every code, mesh and precision a new process builds the same problem
(``benchmarks/runners/common.py``: n x n film or n^3 cube of 2 nm cells, permalloy, alpha = 0.02, uniform
tilted m, Zeeman field, exchange + demag + Zeeman), integrates the LLG for ``--warmup`` seconds (JIT / torch
compilation, first steps) and then for ``--time`` seconds, timed, and divides the wall time by the number of
right-hand-side evaluations of the timed interval (counted exactly, see each runner's docstring). It also times
the bare RHS function in a loop (a cross-check that does not depend on the step-size controller), the time to
first field (import + register exchange + demag + Zeeman + first ``h``), registration time per term, the JIT
time of the bare RHS and the peak resident memory. The *floor* is a bare jitted zero-padded FFT convolution
(3 components in, 6 kernel spectra, 3 out) of the same size in JAX and torch (``runners/floor.py``); the report
gives RHS time / floor.

Peers run in their own virtual environments (``benchmarks/peers.py``; created on first use under ``--cache``):
the PyPI ``neuralmag`` (JAX and torch backends) and ``magnumnp``; a peer that cannot be installed is reported as
such and skipped. Our package runs in this environment (``runners/ours.py``), with ``DemagField(grid="dual")``
(default) and ``grid="cell"``.

Time to first field, cold and warm: at ``--cold-sizes`` every code runs twice in first-field mode on a fresh
cache directory (``NM_CACHEDIR`` for ours: generated kernels and the XLA cache; ``TORCHINDUCTOR_CACHE_DIR`` for
the torch codes): the first run is cold, the second warm.

Outputs in ``--out``: ``rhs.jsonl`` (raw records, appended as they come), ``rhs.csv``, ``rhs.md`` and ``rhs.png``
(log-log time per RHS vs n). Nothing here is asserted: the numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNNERS = HERE / "runners"
sys.path.insert(0, str(HERE))
import peers  # noqa: E402

ALL_CODES = ("ours-jax", "ours-torch", "neuralmag-jax", "neuralmag-torch", "magnumnp")
RUNNER_OF = {"ours": "ours.py", "neuralmag": "neuralmag_pypi.py", "magnumnp": "magnumnp_runner.py",
             "floor": "floor.py"}
PREFIX = "BENCH_JSON "
DEFAULTS = dict(sizes=[32, 64, 128, 256, 512, 1024], sizes3d=[8, 16, 32, 64], dtypes=["float32", "float64"],
                time=20e-12, warmup=2e-12, rhs_min_time=1.0, cold_sizes=[64], cold_sizes3d=[16])
QUICK = dict(sizes=[32, 64], sizes3d=[8, 16], dtypes=["float32"], time=2e-12, warmup=0.5e-12, rhs_min_time=0.2,
             cold_sizes=[32], cold_sizes3d=[8])


# ---------------------------------------------------------------------------------------------- running
def series(rec) -> str:
    """Label of a line in the plot / a column in the tables: code, backend and (ours) the demag grid."""
    code = rec["code"]
    if code == "ours":
        return f"ours-{rec['backend']} ({rec.get('grid') or 'dual'})"
    return code


def command_for(code: str, cache: Path):
    """(python, runner path, extra args) for a code name of ``--codes`` (plus 'floor-jax', 'floor-torch')."""
    family, _, backend = code.partition("-")
    if family in ("ours", "floor"):
        return sys.executable, RUNNERS / RUNNER_OF[family], ["--backend", backend]
    if code == "magnumnp":
        return str(peers.venv_python(cache, "magnumnp")), RUNNERS / RUNNER_OF["magnumnp"], []
    return str(peers.venv_python(cache, peers.PEER_CODES[code])), RUNNERS / RUNNER_OF["neuralmag"], ["--backend", backend]


def thread_env(threads):
    if not threads:
        return {}
    env = {k: str(threads) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    if threads == 1:
        env["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false "
                            "intra_op_parallelism_threads=1").strip()
    return env


def run_one(code, n, dim, dtype, args, mode="full", grid="dual", cache_dir=None, log=None) -> dict:
    """Run one runner process; returns its JSON record (or an error record)."""
    python, runner, extra = command_for(code, args.cache)
    cmd = [python, str(runner), "--n", str(n), "--dim", str(dim), "--dtype", dtype, "--mode", mode,
           "--time", repr(args.time), "--warmup", repr(args.warmup), "--rhs-min-time", repr(args.rhs_min_time),
           *extra]
    if code.startswith("ours"):
        cmd += ["--grid", grid]
        env = dict(os.environ)
    else:  # peers: nothing of our environment may leak in (same import name 'neuralmag')
        env = peers.clean_env()
    env.update(thread_env(args.threads))
    if cache_dir is not None:
        env["NM_CACHEDIR"] = str(Path(cache_dir) / "nm")
        env["TORCHINDUCTOR_CACHE_DIR"] = str(Path(cache_dir) / "inductor")
    base = {"code": code if not code.startswith("ours") else "ours", "backend": code.partition("-")[2] or "torch",
            "grid": grid if code.startswith("ours") else "", "dim": dim, "n": n, "dtype": dtype, "mode": mode}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=args.timeout,
                              cwd=tempfile.gettempdir())
    except subprocess.TimeoutExpired:
        return {**base, "error": f"timeout after {args.timeout} s"}
    if log is not None:
        log.write(f"$ {' '.join(cmd)}\n{proc.stdout[-4000:]}{proc.stderr[-4000:]}\n")
        log.flush()
    lines = [line for line in proc.stdout.splitlines() if line.startswith(PREFIX)]
    if not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {**base, "error": f"runner exit {proc.returncode}: {' | '.join(tail)}"[:500]}
    rec = json.loads(lines[-1][len(PREFIX):])
    rec["process_s"] = time.perf_counter() - t0
    return rec


def sizes_of(args):
    for dim in args.dims:
        for n in (args.sizes if dim == 2 else args.sizes3d):
            yield dim, n


def run_all(args) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    raw = out / "rhs.jsonl"
    if not args.append and raw.exists():
        raw.unlink()
    meta = {"kind": "meta", "started": time.strftime("%Y-%m-%d %H:%M"), "host": platform.node(),
            "cpus": os.cpu_count(), "python": platform.python_version(), "argv": sys.argv[1:],
            "threads": args.threads, "load_start": os.getloadavg()[0], "peers": {}}
    codes = [c for c in args.codes]
    for code in codes:
        if code in peers.PEER_CODES:
            venv = peers.PEER_CODES[code]
            if venv not in meta["peers"]:
                meta["peers"][venv] = peers.install(venv, args.cache) if not args.no_install else \
                    _installed_record(args.cache, venv)
    with open(raw, "a") as f:
        f.write(json.dumps(meta) + "\n")
    log = open(out / "rhs.log", "a")

    def keep(rec):
        with open(raw, "a") as f:
            f.write(json.dumps(rec) + "\n")
        if "error" in rec:
            status = rec["error"]
        elif rec.get("mode") == "first-field":
            status = f"first field {rec.get('first_field_s', 0):.2f} s ({rec.get('cache')})"
        else:
            status = (f"{rec.get('per_rhs_ms', float('nan')):.3f} ms/RHS ({rec.get('n_rhs', '-')} RHS), "
                      f"loop {rec.get('rhs_loop_ms', float('nan')):.3f} ms" + (
                          f"; LLG failed: {rec['llg_error'][:120]}" if "llg_error" in rec else ""))
        print(f"[bench] {series(rec):22s} dim={rec['dim']} n={rec['n']:5d} {rec['dtype']} {rec['mode']:11s} "
              f"{status}", flush=True)

    def available(code):
        if code not in peers.PEER_CODES:
            return True
        return meta["peers"][peers.PEER_CODES[code]].get("ok", False)

    grids = {c: (args.grids if c.startswith("ours") else [""]) for c in codes}
    # 1. time to first field, cold then warm, on a fresh cache directory
    for dim, n in sizes_of(args) if args.only != "throughput" else ():
        if n not in (args.cold_sizes if dim == 2 else args.cold_sizes3d):
            continue
        for code in codes:
            if not available(code):
                continue
            for dtype in args.dtypes:
                for grid in grids[code]:
                    tmp = Path(tempfile.mkdtemp(prefix="nm-bench-cold-"))
                    try:
                        for label in ("cold", "warm"):
                            rec = run_one(code, n, dim, dtype, args, "first-field", grid or "dual", tmp, log)
                            rec["cache"] = label
                            keep(rec)
                    finally:
                        shutil.rmtree(tmp, ignore_errors=True)
    # 2. throughput, memory, compile times (persistent cache per code: warm after the first run)
    run_cache = Path(args.cache) / "run-cache"
    for dim, n in sizes_of(args) if args.only != "first-field" else ():
        for dtype in args.dtypes:
            if not args.no_floor:
                for backend in ("jax", "torch"):
                    keep(run_one(f"floor-{backend}", n, dim, dtype, args, log=log))
            for code in codes:
                if not available(code):
                    continue
                for grid in grids[code]:
                    rec = run_one(code, n, dim, dtype, args, "full", grid or "dual", run_cache / code, log)
                    rec["cache"] = "run"
                    keep(rec)
    log.close()
    with open(raw, "a") as f:
        f.write(json.dumps({"kind": "meta-end", "finished": time.strftime("%Y-%m-%d %H:%M"),
                            "load_end": os.getloadavg()[0]}) + "\n")


def _installed_record(cache, venv):
    path = peers.venv_dir(cache, venv) / "install.json"
    if path.exists():
        return json.loads(path.read_text())
    return {"ok": False, "reason": "not installed (--no-install)"}


# ---------------------------------------------------------------------------------------------- reporting
def load(out: Path):
    metas, recs = [], []
    for line in (out / "rhs.jsonl").read_text().splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        (metas if rec.get("kind", "").startswith("meta") else recs).append(rec)
    return metas, recs


def flatten(rec) -> dict:
    flat = {}
    for k, v in rec.items():
        if isinstance(v, dict):
            for kk, vv in v.items():
                flat[f"{k}_{kk}"] = vv
        else:
            flat[k] = v
    flat["series"] = series(rec)
    return flat


def write_csv(recs, path: Path) -> None:
    rows = [flatten(r) for r in recs]
    first = ["series", "code", "backend", "grid", "dim", "n", "cells", "dtype", "mode", "cache", "per_rhs_ms",
             "rhs_loop_ms", "n_rhs", "wall_s", "first_field_s", "jit_rhs_s", "warmup_s", "peak_rss_mb", "error"]
    keys = first + sorted({k for r in rows for k in r} - set(first))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        for r in rows:
            writer.writerow(r)


def _fmt(x, digits=3):
    if x is None or x != x:
        return "–"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.{digits}g}" if x < 0.01 else f"{x:.{digits - 1}f}" if x < 1 else f"{x:.2f}"


SERIES_ORDER = ("ours-jax (dual)", "ours-jax (cell)", "ours-torch (dual)", "ours-torch (cell)", "neuralmag-jax",
                "neuralmag-torch", "magnumnp", "floor-jax", "floor-torch")
RATIOS = (("ours-jax (dual)", "neuralmag-jax"), ("ours-jax (cell)", "neuralmag-jax"),
          ("ours-torch (dual)", "neuralmag-torch"), ("ours-torch (cell)", "neuralmag-torch"),
          ("ours-jax (cell)", "magnumnp"), ("ours-torch (cell)", "magnumnp"),
          ("ours-jax (dual)", "floor-jax"), ("ours-jax (cell)", "floor-jax"),
          ("ours-torch (dual)", "floor-torch"), ("ours-torch (cell)", "floor-torch"),
          ("neuralmag-jax", "floor-jax"), ("neuralmag-torch", "floor-torch"), ("magnumnp", "floor-torch"))


def table(recs, key, title_unit, digits=3):
    full = [r for r in recs if r.get("mode") == "full"]
    present = [s for s in SERIES_ORDER if any(series(r) == s for r in full)]
    present += sorted({series(r) for r in full} - set(present))
    index = {(r["dim"], r["n"], r["dtype"], series(r)): r for r in full}
    rows = sorted({(r["dim"], r["n"], r["dtype"]) for r in full})
    lines = ["| mesh | dtype | " + " | ".join(present) + " |", "|---|---|" + "---|" * len(present)]
    for dim, n, dtype in rows:
        cells = []
        for s in present:
            r = index.get((dim, n, dtype, s))
            if r is None:
                cells.append("–")
            elif key in r:
                cells.append(_fmt(r[key], digits))
            else:
                cells.append("fail" if "error" in r or "llg_error" in r else "–")
        lines.append(f"| {_mesh(dim, n)} | {dtype} | " + " | ".join(cells) + " |")
    return f"{title_unit}\n\n" + "\n".join(lines) + "\n"


def _mesh(dim, n):
    return f"{n}² film" if dim == 2 else f"{n}³ cube"


def ratio_table(recs, key="per_rhs_ms"):
    full = [r for r in recs if r.get("mode") == "full" and key in r]
    index = {(r["dim"], r["n"], r["dtype"], series(r)): r[key] for r in full}
    have = {series(r) for r in full}
    pairs = [(a, b) for a, b in RATIOS if a in have and b in have]
    rows = sorted({(r["dim"], r["n"], r["dtype"]) for r in full})
    head = ["| mesh | dtype | " + " | ".join(f"{a} / {b}" for a, b in pairs) + " |", "|---|---|" + "---|" * len(pairs)]
    for dim, n, dtype in rows:
        vals = []
        for a, b in pairs:
            x, y = index.get((dim, n, dtype, a)), index.get((dim, n, dtype, b))
            vals.append("–" if x is None or y is None else f"{x / y:.2f}")
        head.append(f"| {_mesh(dim, n)} | {dtype} | " + " | ".join(vals) + " |")
    return "\n".join(head) + "\n"


def with_wall_per_ps(recs):
    """Adds ``wall_ms_per_ps`` (wall time of the timed integration per simulated picosecond) to the LLG runs:
    codes whose controllers take different numbers of steps compare per simulated time, not only per RHS."""
    for r in recs:
        if r.get("mode") == "full" and r.get("wall_s") and r.get("t_sim"):
            r["wall_ms_per_ps"] = 1e3 * r["wall_s"] / (r["t_sim"] * 1e12)
    return recs


def first_field_table(recs):
    ff = [r for r in recs if r.get("mode") == "first-field"]
    if not ff:
        return "(no first-field runs)\n"
    groups = {}
    for r in ff:
        groups.setdefault((series(r), r["dim"], r["n"], r["dtype"]), {})[r.get("cache", "")] = r
    lines = ["| code | mesh | dtype | cold (s) | warm (s) | import (s) | register exchange / demag / Zeeman, cold (s) "
             "| register, warm (s) | first h, cold / warm (s) |", "|---|---|---|---|---|---|---|---|---|"]
    for (s, dim, n, dtype), pair in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][3], kv[0][0])):
        cold, warm = pair.get("cold", {}), pair.get("warm", {})

        def reg(r):
            d = r.get("register_s") or {}
            return " / ".join(_fmt(d.get(k)) for k in ("exchange", "demag", "external")) if d else "–"
        err = cold.get("error") or warm.get("error")
        if err:
            lines.append(f"| {s} | {_mesh(dim, n)} | {dtype} | fail: {err[:80]} | | | | | |")
            continue
        lines.append(f"| {s} | {_mesh(dim, n)} | {dtype} | {_fmt(cold.get('first_field_s'))} | "
                     f"{_fmt(warm.get('first_field_s'))} | {_fmt(warm.get('import_s'))} | {reg(cold)} | {reg(warm)} | "
                     f"{_fmt(cold.get('first_h_s'))} / {_fmt(warm.get('first_h_s'))} |")
    return "\n".join(lines) + "\n"


def errors(recs, metas):
    lines = []
    for m in metas:
        for venv, rec in (m.get("peers") or {}).items():
            if not rec.get("ok"):
                lines.append(f"- peer venv `{venv}` NOT AVAILABLE: {rec.get('reason')}")
    for r in recs:
        for key in ("error", "llg_error"):
            if key in r:
                what = "LLG integration" if key == "llg_error" else r.get("mode")
                lines.append(f"- {series(r)} {_mesh(r['dim'], r['n'])} {r['dtype']} ({what}): {r[key]}")
    return "\n".join(lines) + "\n" if lines else "none\n"


def plot(recs, path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    full = [r for r in recs if r.get("mode") == "full" and "per_rhs_ms" in r]
    dims = sorted({r["dim"] for r in full})
    if not dims:
        return False
    fig, axes = plt.subplots(1, len(dims), figsize=(6.5 * len(dims), 5), squeeze=False)
    for ax, dim in zip(axes[0], dims):
        for s in SERIES_ORDER + tuple(sorted({series(r) for r in full} - set(SERIES_ORDER))):
            for dtype, marker in (("float32", "o"), ("float64", "s")):
                pts = sorted((r["n"], r["per_rhs_ms"]) for r in full
                             if r["dim"] == dim and series(r) == s and r["dtype"] == dtype)
                if not pts:
                    continue
                style = "--" if s.startswith("floor") else "-"
                ax.loglog(*zip(*pts), style, marker=marker, ms=4, label=f"{s} {dtype}")
        ax.set_xlabel("n (film n × n)" if dim == 2 else "n (cube n³)")
        ax.set_ylabel("time per RHS evaluation (ms)")
        ax.set_title("thin film, 2 nm cells" if dim == 2 else "cube, 2 nm cells")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def report(out: Path) -> str:
    metas, recs = load(out)
    recs = with_wall_per_ps(recs)
    write_csv(recs, out / "rhs.csv")
    have_png = plot(recs, out / "rhs.png")
    meta = next((m for m in metas if m.get("kind") == "meta"), {})
    end = next((m for m in reversed(metas) if m.get("kind") == "meta-end"), {})
    peer_lines = []
    for venv, rec in (meta.get("peers") or {}).items():
        peer_lines.append(f"`{venv}`: " + (", ".join(f"{k} {v}" for k, v in rec.get("versions", {}).items())
                                           if rec.get("ok") else f"not available ({rec.get('reason')})"))
    threads = meta.get("threads") or "framework default"
    # other jobs show in the load before the run; the load at the end includes the benchmark's own threads
    busy = meta.get("load_start", 0.0)
    quick_note = ""
    if "--quick" in meta.get("argv", []) or busy > 0.5 * (meta.get("cpus") or 1):
        quick_note = ("\n**Not a benchmark result:** " + ("a `--quick` smoke run (short integrations); " if "--quick" in
                      meta.get("argv", []) else "") + (f"the machine was busy (load {busy:.1f} on {meta.get('cpus')} "
                      "CPUs); " if busy > 0.5 * (meta.get("cpus") or 1) else "") + "rerun on a quiet machine.\n")
    text = f"""# LLG right-hand-side benchmark (benchmarks/bench_rhs.py)

Run {meta.get('started', '?')} – {end.get('finished', '?')} on {meta.get('host', '?')}: {meta.get('cpus')} CPUs,
Python {meta.get('python')}, threads: {threads}; load average (1 min) {meta.get('load_start', float('nan')):.1f} at the
start, {end.get('load_end', float('nan')):.1f} at the end. Arguments: `{' '.join(meta.get('argv', []))}`.
Peers: {'; '.join(peer_lines) or 'none'}.

Problem: n × n film (2D mesh; magnum.np n × n × 1 cells) or n³ cube of 2 nm cells, Ms = 8e5 A/m,
A = 1.3e-11 J/m, alpha = 0.02, uniform m ∥ (1, 0.3, 0.1), Zeeman (-24.6, 4.3, 0) mT/µ0; exchange + demag +
Zeeman; each code's adaptive RK (Dopri5 / RKF45, rtol = atol = 1e-5). Method: docs "Benchmarks".
{quick_note}
## Time per RHS evaluation (ms), timed LLG integration / number of RHS evaluations

{table(recs, 'per_rhs_ms', '')}
## Ratios of the per-RHS times (ours / peer, code / floor; < 1: the first is faster)

{ratio_table(recs)}
## Wall time per simulated time (ms per ps of the timed integration) and its ratios

The per-RHS time times the RHS evaluations each code's step-size controller needed (column n_rhs in rhs.csv);
the floors simulate nothing.

{table(recs, 'wall_ms_per_ps', '')}
{ratio_table([r for r in recs if not series(r).startswith('floor')], 'wall_ms_per_ps')}
## Bare RHS call in a loop (ms, median)

{table(recs, 'rhs_loop_ms', '')}
## Peak resident memory (MB, whole process)

{table(recs, 'peak_rss_mb', '')}
## JIT time of the bare RHS (s, first call minus a steady call; torch codes with torch.compile compile here)

{table(recs, 'jit_rhs_s', '')}
## Warm-up integration (s, includes compiling the integrator)

{table(recs, 'warmup_s', '')}
## Time to first field (import + register exchange, demag, Zeeman + first h), cold and warm cache

{first_field_table(recs)}
## Failures

{errors(recs, metas)}"""
    if have_png:
        text += "\n![time per RHS](rhs.png)\n"
    (out / "rhs.md").write_text(text)
    return text


# ---------------------------------------------------------------------------------------------- command line
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench_rhs", description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", help="film sizes n (n x n); default 32 64 128 256 512 1024")
    p.add_argument("--sizes3d", type=int, nargs="+", help="cube sizes n (n^3); default 8 16 32 64")
    p.add_argument("--dims", type=int, nargs="+", choices=(2, 3), default=[2, 3])
    p.add_argument("--dtypes", nargs="+", choices=("float32", "float64"), help="default both")
    p.add_argument("--codes", default=",".join(ALL_CODES), help=f"comma-separated subset of {','.join(ALL_CODES)}")
    p.add_argument("--grids", nargs="+", choices=("dual", "cell"), default=["dual", "cell"], help="our demag grids")
    p.add_argument("--time", type=float, help="timed simulated time (s), default 20 ps")
    p.add_argument("--warmup", type=float, help="warm-up simulated time (s), default 2 ps")
    p.add_argument("--rhs-min-time", type=float, help="seconds in the bare-RHS loop per run (default 1)")
    p.add_argument("--cold-sizes", type=int, nargs="*",
                   help="film sizes with cold/warm first-field runs (default 64; none: no cold runs)")
    p.add_argument("--cold-sizes3d", type=int, nargs="*", help="cube sizes with cold/warm first-field runs (default 16)")
    p.add_argument("--threads", type=int, default=None,
                   help="limit every process to N threads (OMP/MKL; N=1 also single-threaded XLA); "
                        "default: the frameworks' own choice")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per runner process")
    p.add_argument("--quick", action="store_true",
                   help="smoke test: films 32, 64; cubes 8, 16; float32; 0.5 ps warm-up, 2 ps timed")
    p.add_argument("--no-floor", action="store_true", help="skip the FFT-convolution floor")
    p.add_argument("--only", choices=("first-field", "throughput"),
                   help="run only the cold/warm first-field runs or only the throughput runs")
    p.add_argument("--no-install", action="store_true", help="do not create missing peer venvs (skip those peers)")
    p.add_argument("--append", action="store_true", help="append to an existing rhs.jsonl instead of starting anew")
    p.add_argument("--report-only", action="store_true", help="only rebuild rhs.csv/md/png from rhs.jsonl")
    p.add_argument("--cache", type=Path, default=peers.default_cache(),
                   help="cache directory for the peer venvs (default ~/.cache/neuralmag-bench or NM_BENCH_CACHE)")
    p.add_argument("--out", type=Path, default=HERE / "results", help="results folder (default benchmarks/results)")
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.codes = [c.strip() for c in args.codes.split(",") if c.strip()]
    unknown = set(args.codes) - set(ALL_CODES)
    if unknown:
        parser.error(f"unknown codes {sorted(unknown)}; valid: {','.join(ALL_CODES)}")
    for key, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, key) is None:  # explicit options win over --quick
            setattr(args, key, value)
    if not args.report_only:
        run_all(args)
    print(report(Path(args.out)))
    print(f"[bench] wrote {args.out}/rhs.jsonl, rhs.csv, rhs.md" + (", rhs.png" if (Path(args.out) / "rhs.png").exists()
                                                                   else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
