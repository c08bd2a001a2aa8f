"""Cost of the two demag grids, ``DemagField(grid="dual")`` (default) vs ``grid="cell"``, side by side.

Usage::

    python benchmarks/bench_demag_grid.py [--repeat 20] [--backends jax torch] [--no-write]

Per mesh and backend (float64, CPU): the registration time (Newell kernel + spectrum on the FFT grid, NumPy)
and the time of one demag field evaluation ``h(m)`` — JAX: the jitted function from
``state.resolve("h_demag", ["m"])`` (best of ``--repeat`` after one compiling call), torch: the same function
eagerly. The dual grid has 2^d times the cells of the mesh, so its FFTs cost about 2^d times as much; the
ratio column shows what that means in practice. Writes ``benchmarks/results/demag_grid.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

import neuralmag as nm

CASES = [
    # (label, n, dx)
    ("SP4 film 100x25 (2D)", (100, 25), (5e-9, 5e-9, 3e-9)),
    ("SP4 film 100x25x1 (3D)", (100, 25, 1), (5e-9, 5e-9, 3e-9)),
    ("film 256x256 (2D)", (256, 256), (2e-9, 2e-9, 1e-9)),
    ("cube 32x32x32", (32, 32, 32), (2e-9, 2e-9, 2e-9)),
    ("slab 64x64x8", (64, 64, 8), (2e-9, 2e-9, 2e-9)),
]
RESULTS = Path(__file__).resolve().parent / "results"


def measure(backend, n, dx, grid, repeat):
    state = nm.State(nm.Mesh(n, dx), backend=backend, dtype="float64")
    state.material.Ms = 8e5
    rng = np.random.default_rng(0)
    state.m = rng.normal(size=state.mesh.nodes + (3,))
    t0 = time.perf_counter()
    nm.DemagField(grid=grid).register(state)
    setup = time.perf_counter() - t0
    h = state.resolve("h_demag", ["m"])
    m = state.m.tensor
    sync = (lambda x: x.block_until_ready()) if backend == "jax" else (lambda x: x)
    sync(h(m))  # JAX: compiles
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        sync(h(m))
        times.append(time.perf_counter() - t0)
    return setup, min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--backends", nargs="+", default=["jax", "torch"])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    header = ("| mesh | backend | set-up cell (s) | set-up dual (s) | h(m) cell (ms) | h(m) dual (ms) "
              "| dual / cell |\n|---|---|---|---|---|---|---|")
    rows = []
    print(header, flush=True)
    for label, n, dx in CASES:
        for backend in args.backends:
            (sc, tc), (sd, td) = (measure(backend, n, dx, g, args.repeat) for g in ("cell", "dual"))
            row = f"| {label} | {backend} | {sc:.2f} | {sd:.2f} | {tc * 1e3:.2f} | {td * 1e3:.2f} | {td / tc:.1f} |"
            rows.append(row)
            print(row, flush=True)
    if not args.no_write:
        load = os.getloadavg()[0]
        text = (f"# Demag grid benchmark (benchmarks/bench_demag_grid.py)\n\n"
                f"Run {time.strftime('%Y-%m-%d %H:%M')} on {platform.node()}: {os.cpu_count()} CPUs, "
                f"Python {platform.python_version()}; load average (1 min) {load:.1f} at the end (a shared "
                f"machine: times are indicative, the ratios within a row were measured back to back).\n\n"
                f"{header}\n" + "\n".join(rows) + "\n")
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "demag_grid.md").write_text(text)


if __name__ == "__main__":
    main()
