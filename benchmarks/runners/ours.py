"""Runner for this repository's ``neuralmag`` (both backends, both demag grids); prints one JSON record.

Run in the main environment (``python benchmarks/runners/ours.py --n 64 --backend jax --grid dual``); the
problem is defined in ``common.py``. RHS evaluations are counted exactly: the torch integrator counts them
itself (``Integrator.nfe``); for JAX a second, untimed pass of the same integration wraps the right-hand side
with a ``jax.debug.callback`` counter (the timed pass runs the uninstrumented program).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (starts the import clock)

CODE = "ours"


def build(args, nm):
    """State with exchange + demag + Zeeman registered; returns (state, per-term registration times)."""
    state = nm.State(nm.Mesh(common.cells(args), (common.DX,) * 3), backend=args.backend, dtype=args.dtype)
    state.material.Ms = common.MS
    state.material.A = common.A_EX
    state.material.alpha = common.ALPHA
    state.m = nm.VectorFunction(state).fill(common.m0_unit())
    terms = {}
    for name, term in (("exchange", nm.ExchangeField()), ("demag", nm.DemagField(grid=args.grid)),
                       ("external", nm.ExternalField(common.H_EXT))):
        t0 = time.perf_counter()
        term.register(state, name)
        terms[name] = time.perf_counter() - t0
    t0 = time.perf_counter()
    nm.TotalField("exchange", "demag", "external").register(state)
    terms["total"] = time.perf_counter() - t0
    return state, terms


def count_rhs_jax(nm, args, m0, t_start, duration):
    """Number of RHS evaluations of integrating ``duration`` from ``m0`` (a separate, instrumented pass)."""
    import jax

    from neuralmag.backends.jax import ode

    count = [0]

    def bump():
        count[0] += 1

    original = ode.Integrator.__init__

    def counting_init(self, f, *a, **k):
        def g(t, y, fargs):
            jax.debug.callback(bump)
            return f(t, y, fargs)

        original(self, g, *a, **k)

    ode.Integrator.__init__ = counting_init
    try:
        state, _ = build(args, nm)
        state.m = m0
        state.t = t_start
        llg = nm.LLGSolver(state)
        llg.step(duration)
        jax.effects_barrier()
    finally:
        ode.Integrator.__init__ = original
    return count[0]


def main(argv=None):
    args = common.parser(__doc__.splitlines()[0]).parse_args(argv)
    try:
        import neuralmag as nm

        if args.backend == "jax":
            import jax  # noqa: F401  (the framework import counts in the import time)
            import jax.numpy as jnp  # noqa: F401

            def sync(x):
                return x.block_until_ready()
        else:
            import torch  # noqa: F401

            def sync(x):
                return x
        t_import = time.perf_counter() - common.T_IMPORT0
        rss_import = common.rss_mb()
        t0 = time.perf_counter()
        state, terms = build(args, nm)
        t_setup = time.perf_counter() - t0
        t0 = time.perf_counter()
        h = state.h.tensor
        sync(h)
        t_first_h = time.perf_counter() - t0
        first_field = t_import + t_setup + t_first_h
        out = dict(grid=args.grid, import_s=t_import, setup_s=t_setup, first_h_s=t_first_h,
                   first_field_s=first_field, register_s=terms, rss_import_mb=round(rss_import, 1),
                   cache_dir=str(nm.config.cache_dir), version=nm.__version__,
                   tensor_dtype=str(state.m.tensor.dtype))
        if args.mode == "first-field":
            common.emit(common.record(args, CODE, **out))
            return 0

        llg = nm.LLGSolver(state)
        # bare RHS: the resolved dm/dt as a pure function of (t, m) (jitted for JAX)
        rhs = state.resolve("dmdt", ["t", "m"])
        m = state.m.tensor
        t = state.tensor(0.0)
        out.update(common.bare_call_fields(lambda: rhs(t, m), sync, args.rhs_min_time),
                   solver="Dopri5 rtol=atol=1e-5")
        try:  # a failing integration still leaves the bare-RHS numbers in the record
            t0 = time.perf_counter()
            llg.step(args.warmup)
            sync(state.m.tensor)
            out["warmup_s"] = time.perf_counter() - t0
            m_start, t_start = state.m.tensor, float(state.t)
            t0 = time.perf_counter()
            llg.step(args.time)
            sync(state.m.tensor)
            wall = time.perf_counter() - t0
            if args.backend == "torch":
                integ = next(iter(llg._integrators.values()))[0]
                n_rhs, how = integ.nfe, "exact (torch Integrator.nfe)"
            else:
                n_rhs, how = count_rhs_jax(nm, args, m_start, t_start, args.time), "exact (second pass, jax callback)"
            out.update(t_sim=args.time, n_rhs=n_rhs, rhs_count=how, wall_s=wall,
                       per_rhs_ms=1e3 * wall / max(n_rhs, 1))
        except Exception as err:  # noqa: BLE001
            out["llg_error"] = f"{type(err).__name__}: {err}"[:500]
        common.emit(common.record(args, CODE, **out))
    except Exception as err:  # noqa: BLE001 - reported in the record, the harness continues
        common.fail(args, CODE, err, grid=args.grid)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
