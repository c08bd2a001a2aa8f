"""Runner for magnum.np (peer, PyTorch, cell-centred finite differences); prints one JSON record.

Runs only in the peer's own virtual environment (``benchmarks/peers.py``). Written against magnum.np's public
API (``Mesh``, ``State``, ``state.material``, ``DemagField``, ``ExchangeField``, ``ExternalField``,
``LLGSolver([...])``, ``llg.step(state, dt)``) with its defaults (``DemagField(p=20)``, RKF45 with
rtol = atol = 1e-5, eager PyTorch). magnum.np works with cells, so the film is ``n x n x 1`` cells (the
nodal codes carry ``(n+1)^2`` nodes for the same film). The precision is PyTorch's default dtype, which
magnum.np sets to float64 on import; ``--dtype float32`` sets it back before the mesh is created.

RHS evaluations are counted exactly by a subclass of ``LLGSolver`` whose ``dm`` (the documented LLG
right-hand side that the ODE solver calls) increments a counter before calling the original.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (starts the import clock)

CODE = "magnumnp"


def main(argv=None):
    args = common.parser(__doc__.splitlines()[0]).parse_args(argv)
    args.backend = "torch"
    try:
        import magnumnp as mnp
        import torch

        torch.set_default_dtype(getattr(torch, args.dtype))
        t_import = time.perf_counter() - common.T_IMPORT0
        rss_import = common.rss_mb()

        class CountingLLG(mnp.LLGSolver):
            calls = 0

            def dm(self, *a, **k):
                CountingLLG.calls += 1
                return super().dm(*a, **k)

        t0 = time.perf_counter()
        n = (args.n,) * 3 if args.dim == 3 else (args.n, args.n, 1)
        state = mnp.State(mnp.Mesh(n, (common.DX,) * 3))
        state.material = {"Ms": common.MS, "A": common.A_EX, "alpha": common.ALPHA}
        state.m = state.Constant(list(common.m0_unit()))
        terms, fields = {}, {}
        for name, make in (("exchange", lambda: mnp.ExchangeField()), ("demag", lambda: mnp.DemagField()),
                           ("external", lambda: mnp.ExternalField(list(common.H_EXT)))):
            t1 = time.perf_counter()
            fields[name] = make()
            terms[name] = time.perf_counter() - t1
        t_setup = time.perf_counter() - t0
        t0 = time.perf_counter()
        h = sum(term.h(state) for term in fields.values())  # the demag kernel is set up on first use
        t_first_h = time.perf_counter() - t0
        out = dict(import_s=t_import, setup_s=t_setup, first_h_s=t_first_h,
                   first_field_s=t_import + t_setup + t_first_h, register_s=terms,
                   rss_import_mb=round(rss_import, 1), version=getattr(mnp, "__version__", ""),
                   file=mnp.__file__, tensor_dtype=str(h.dtype), device=str(state.device))
        if args.mode == "first-field":
            common.emit(common.record(args, CODE, **out))
            return 0

        llg = CountingLLG(list(fields.values()))
        m = state.m.clone()

        def rhs():
            return llg.dm(state.t, m, state)
        out.update(common.bare_call_fields(rhs, lambda x: x, args.rhs_min_time), solver="RKF45 rtol=atol=1e-5")
        state.m = m
        state.t = 0.0

        try:  # a failing integration still leaves the bare-RHS numbers in the record
            t0 = time.perf_counter()
            llg.step(state, args.warmup)
            out["warmup_s"] = time.perf_counter() - t0
            CountingLLG.calls = 0
            t0 = time.perf_counter()
            llg.step(state, args.time)
            wall = time.perf_counter() - t0
            n_rhs = CountingLLG.calls
            out.update(t_sim=args.time, n_rhs=n_rhs, rhs_count="exact (LLGSolver.dm subclass)", wall_s=wall,
                       per_rhs_ms=1e3 * wall / max(n_rhs, 1))
        except Exception as err:  # noqa: BLE001
            out["llg_error"] = f"{type(err).__name__}: {err}"[:500]
        common.emit(common.record(args, CODE, **out))
    except Exception as err:  # noqa: BLE001
        common.fail(args, CODE, err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
