"""Shared pieces of the runner scripts of ``benchmarks/bench_rhs.py``: the problem, the command line, timing
and memory helpers, and the JSON record.

This module imports only the standard library (and NumPy lazily): it is loaded by the runners in *our*
environment and in the peers' virtual environments alike, so it must never import ``neuralmag``.

The problem (identical for every code):

* thin film of ``n x n x 1`` cells (``--dim 2``) or a cube of ``n x n x n`` cells (``--dim 3``), cell
  2 nm x 2 nm x 2 nm (the nodal codes use a 2D mesh of ``n x n`` cells with thickness ``dx[2]`` for the film,
  as recommended by both NeuralMag packages; magnum.np, a cell-centred code, uses ``n x n x 1`` cells);
* Ms = 8e5 A/m, A = 1.3e-11 J/m, alpha = 0.02 (permalloy, µMAG SP4);
* uniform initial magnetisation along (1, 0.3, 0.1) (normalised), Zeeman field (-24.6, 4.3, 0) mT / mu0
  (SP4 field 1), exchange + demag + Zeeman;
* LLG with each code's default adaptive Runge–Kutta scheme (Dopri5 / RKF45, rtol = atol = 1e-5), warm-up
  integration of ``--warmup`` seconds (compiles), then ``--time`` seconds timed; the per-RHS time is the wall
  time divided by the number of right-hand-side evaluations of the timed interval.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import sys
import time

DX = 2e-9
MS = 8e5
A_EX = 1.3e-11
ALPHA = 0.02
MU0 = 4e-7 * math.pi
M0 = (1.0, 0.3, 0.1)
H_EXT = (-24.6e-3 / MU0, 4.3e-3 / MU0, 0.0)
PREFIX = "BENCH_JSON "

T_IMPORT0 = time.perf_counter()  # runners import this module first: import times are measured from here


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--n", type=int, required=True, help="cells per axis")
    p.add_argument("--dim", type=int, choices=(2, 3), default=2, help="2: n x n film, 3: n^3 cube")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--backend", choices=("jax", "torch"), default="jax")
    p.add_argument("--grid", choices=("dual", "cell"), default="dual", help="demag grid (ours only)")
    p.add_argument("--time", type=float, default=20e-12, help="timed simulated time (s)")
    p.add_argument("--warmup", type=float, default=2e-12, help="simulated time of the warm-up (s)")
    p.add_argument("--rhs-min-time", type=float, default=1.0, help="seconds spent in the bare-RHS loop")
    p.add_argument("--mode", choices=("full", "first-field"), default="full")
    return p


def cells(args) -> tuple:
    return (args.n,) * args.dim if args.dim == 3 else (args.n, args.n)


def m0_unit() -> tuple:
    norm = math.sqrt(sum(c * c for c in M0))
    return tuple(c / norm for c in M0)


def rss_mb() -> float:
    """Current resident set size (MB), from /proc (Linux) or the peak as a fallback."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return peak_rss_mb()


def peak_rss_mb() -> float:
    """Peak resident set size of this process (MB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def loop_time(call, sync, min_time: float, min_calls: int = 5, max_calls: int = 10_000) -> dict:
    """Median and minimum wall time (s) of ``sync(call())`` over at least ``min_calls`` calls and ``min_time``
    seconds (after one untimed call)."""
    sync(call())
    times, t_start = [], time.perf_counter()
    while len(times) < min_calls or (time.perf_counter() - t_start < min_time and len(times) < max_calls):
        t0 = time.perf_counter()
        sync(call())
        times.append(time.perf_counter() - t0)
    return {"median": statistics.median(times), "min": min(times), "calls": len(times)}


def bare_call_fields(call, sync, min_time: float) -> dict:
    """Record fields of a function called bare: the first (compiling) call timed on its own, then
    :func:`loop_time`; see :func:`loop_fields`."""
    t0 = time.perf_counter()
    sync(call())
    t_first = time.perf_counter() - t0
    return loop_fields(loop_time(call, sync, min_time), t_first)


def loop_fields(loop: dict, t_first: float) -> dict:
    """Record fields of a :func:`loop_time` result: bare-call times (ms) and the compile time of the first call
    (its wall time minus a warm call's)."""
    return {"rhs_loop_ms": 1e3 * loop["median"], "rhs_loop_min_ms": 1e3 * loop["min"], "rhs_loop_calls": loop["calls"],
            "jit_rhs_s": max(t_first - loop["median"], 0.0)}


def record(args, code: str, **fields) -> dict:
    rec = {"code": code, "backend": args.backend, "grid": fields.pop("grid", ""), "dim": args.dim, "n": args.n,
           "cells": args.n ** args.dim if args.dim == 3 else args.n ** 2, "dtype": args.dtype,
           "mode": args.mode, "python": platform.python_version(), "cpus": os.cpu_count()}
    rec.update(fields)
    rec["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return rec


def emit(rec: dict) -> None:
    print(PREFIX + json.dumps(rec), flush=True)


def fail(args, code: str, err: BaseException, **fields) -> None:
    emit(record(args, code, error=f"{type(err).__name__}: {err}"[:500], **fields))
