"""Does torch.compile pay for the generated local kernels? Eager vs compiled time per call and compile time.

    python benchmarks/bench_torch_compile.py [--sizes 64 256] [--repeat 50]

For each 2D film of N×N×1 cells it times the exchange and the LLG-torque kernels (the local part of every
right-hand side) eagerly and after ``torch.compile``, and prints a markdown table. Run on an otherwise idle
machine; nothing is asserted.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import neuralmag as nm


def kernel_calls(n: int):
    nm.config.backend = "torch"
    state = nm.State(nm.Mesh((n, n, 1), (5e-9, 5e-9, 3e-9)))
    state.material.Ms = 8e5
    state.material.A = 1.3e-11
    state.material.alpha = 0.1
    state.material.gamma = nm.GAMMA
    rng = np.random.default_rng(0)
    state.m = rng.normal(size=(n + 1, n + 1, 2, 3))
    nm.ExchangeField().register(state)
    nm.solvers.LLGTorque(field="h_exchange").register(state, "llg")
    calls = {}
    for name in ("h_exchange", "dmdt_llg"):
        func = state._attrs[name]
        params = func.__code__.co_varnames[: func.__code__.co_argcount]
        values = [state.h_exchange.tensor if p == "h_exchange" else state.values([p])[0] for p in params]
        calls[name] = (func, values)
    return calls


def timed(func, args, repeat):
    func(*args)
    t = time.perf_counter()
    for _ in range(repeat):
        func(*args)
    return (time.perf_counter() - t) / repeat


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args(argv)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print("| N | kernel | eager ms | compiled ms | compile s | speed-up |")
    print("|---|---|---|---|---|---|")
    for n in args.sizes:
        for name, (func, values) in kernel_calls(n).items():
            eager = timed(func, values, args.repeat)
            compiled = torch.compile(func)
            t = time.perf_counter()
            compiled(*values)
            compile_s = time.perf_counter() - t
            fast = timed(compiled, values, args.repeat)
            print(f"| {n}² | {name} | {eager * 1e3:.3f} | {fast * 1e3:.3f} | {compile_s:.1f} | {eager / fast:.2f}× |",
                  flush=True)


if __name__ == "__main__":
    main()
