"""Time of each generated field kernel and of the whole LLG right-hand side, per backend, mesh and dtype.

Usage::

    python benchmarks/bench_kernels.py [--sizes 64 256] [--dims 2 3] [--backends jax torch]
        [--dtypes float32] [--repeat 9] [--clock cpu|wall] [--out benchmarks/results/kernels.md]

For the benchmark film/cube of ``bench_rhs.py`` (2 nm cells, exchange + cell-grid demag + Zeeman, LLG) it
times ``state.resolve(name, ["m"])`` for ``h_exchange``, ``h_demag``, ``h_external`` and the total ``h``, and
``dmdt`` (jitted for JAX, eager for torch): the median over ``--repeat`` batches of calls after one warm-up
call. ``--clock wall`` (default) is the latency, meaningful on a quiet machine only; ``--clock cpu`` is the
process CPU time summed over threads, less disturbed by other jobs but inflated by PyTorch's spinning worker
threads. To compare a compiler change, run it on both versions alternately in one session.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

import neuralmag as nm

MU0 = 4e-7 * np.pi
KERNELS = ["h_exchange", "h_demag", "h_external", "h", "dmdt"]


def build(n: int, dim: int, backend: str, dtype: str):
    cells = (n, n) if dim == 2 else (n, n, n)
    state = nm.State(nm.Mesh(cells, (2e-9, 2e-9, 2e-9)), backend=backend, dtype=dtype)
    state.material.Ms, state.material.A, state.material.alpha = 8e5, 1.3e-11, 0.02
    state.m = nm.VectorFunction(state).fill((1.0, 0.3, 0.1))
    nm.ExchangeField().register(state)
    nm.DemagField(grid="cell").register(state)
    nm.ExternalField((-24.6e-3 / MU0, 4.3e-3 / MU0, 0.0)).register(state)
    nm.TotalField("exchange", "demag", "external").register(state)
    nm.LLGSolver(state)  # registers dmdt
    return state


def time_call(f, args, sync, repeat: int, clock) -> float:
    """Median seconds per call over ``repeat`` batches sized to ~0.2 s each."""
    sync(f(*args))
    t0 = clock()
    calls = 0
    while clock() - t0 < 0.05:
        sync(f(*args))
        calls += 1
    batch = max(1, int(calls * 4))
    samples = []
    for _ in range(repeat):
        t0 = clock()
        for _ in range(batch):
            out = f(*args)
        sync(out)
        samples.append((clock() - t0) / batch)
    return float(np.median(samples))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[64, 256])
    p.add_argument("--dims", type=int, nargs="+", default=[2])
    p.add_argument("--backends", nargs="+", default=["jax", "torch"])
    p.add_argument("--dtypes", nargs="+", default=["float32"])
    p.add_argument("--repeat", type=int, default=9)
    p.add_argument("--clock", choices=["cpu", "wall"], default="wall")
    p.add_argument("--out", type=Path, default=None, help="markdown table (default: print only)")
    args = p.parse_args(argv)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    rows = []
    for backend in args.backends:
        for dtype in args.dtypes:
            for dim in args.dims:
                for n in args.sizes:
                    state = build(n, dim, backend, dtype)
                    sync = (lambda x: x.block_until_ready()) if backend == "jax" else (lambda x: x)
                    times = {}
                    for name in KERNELS:
                        inputs = ["t", "m"] if name == "dmdt" else ["m"]
                        f = state.resolve(name, inputs)
                        call_args = (state.tensor(0.0), state.m.tensor) if name == "dmdt" else (state.m.tensor,)
                        times[name] = time_call(f, call_args, sync, args.repeat, clock)
                    label = f"{n}² film" if dim == 2 else f"{n}³ cube"
                    rows.append((backend, dtype, label, times))
                    print(backend, dtype, label, " ".join(f"{k}={v * 1e3:.3f}ms" for k, v in times.items()), flush=True)
    lines = [f"# Generated kernels and LLG right-hand side (`benchmarks/bench_kernels.py`)", "",
             f"{platform.node()}, {os.cpu_count()} CPUs, clock: {args.clock} time, median of {args.repeat} batches; "
             f"load average at the end {os.getloadavg()[0]:.1f}. Milliseconds per call.", "",
             "| backend | dtype | mesh | " + " | ".join(KERNELS) + " |", "|---|---|---|" + "---|" * len(KERNELS)]
    for backend, dtype, label, times in rows:
        lines.append(f"| {backend} | {dtype} | {label} | " + " | ".join(f"{times[k] * 1e3:.3f}" for k in KERNELS) + " |")
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    return rows


if __name__ == "__main__":
    main()
