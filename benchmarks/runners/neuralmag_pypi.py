"""Runner for the PyPI ``neuralmag`` (peer; JAX or torch backend); prints one JSON record.

Runs only in the peer's own virtual environment (``benchmarks/peers.py``), never next to this repository's
package, which has the same import name. Written against the package's public API (``nm.Mesh``, ``nm.State``,
field terms, ``nm.TotalField``, ``nm.LLGSolver``, ``state.resolve``) with its defaults (``DemagField(p=20)``,
Dopri5 with rtol = atol = 1e-5, ``torch.compile`` on for the torch backend); the film is a 2D mesh of n x n
cells with thickness dx[2], as its documentation recommends.

RHS evaluations: torch — a forward hook on the solver module (``LLGSolverTorch`` is an ``nn.Module`` whose
``forward`` is the right-hand side handed to torchdiffeq), counted exactly; JAX — from the diffrax solution that
``llg.step`` returns: Dopri5 is first-same-as-last with 7 stages, so every attempted step (accepted or rejected)
costs 6 evaluations, plus one for the first stage at the start of every ``step`` call:
``n_rhs = 6 * stats["num_steps"] + 1`` (checked against a ``jax.debug.callback`` counter: 25 = 6 x 4 + 1 and
85 = 6 x 14 + 1 on a 16 x 16 film).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (starts the import clock)

CODE = "neuralmag"


def main(argv=None):
    args = common.parser(__doc__.splitlines()[0]).parse_args(argv)
    code = f"{CODE}-{args.backend}"
    os.environ["NM_BACKEND"] = args.backend
    os.environ["NM_DTYPE"] = args.dtype
    try:
        import neuralmag as nm

        if "site-packages" not in nm.__file__:
            raise RuntimeError(f"imported neuralmag from {nm.__file__}, not from the peer's venv")
        if args.backend == "jax":
            import jax
            if args.dtype == "float64":
                jax.config.update("jax_enable_x64", True)
            from neuralmag.backends.jax.llg_solver_jax import llg_rhs

            def sync(x):
                return x.block_until_ready()
        else:
            import torch  # noqa: F401
            from neuralmag.backends.torch.llg_solver_torch import llg_rhs  # noqa: F401

            def sync(x):
                return x
        nm.config.dtype = args.dtype
        t_import = time.perf_counter() - common.T_IMPORT0
        rss_import = common.rss_mb()

        t0 = time.perf_counter()
        mesh = nm.Mesh(common.cells(args), (common.DX,) * 3)
        # JAX takes the dtype from nm.config only (set above); torch also per state
        state = nm.State(mesh) if args.backend == "jax" else nm.State(mesh, dtype=args.dtype)
        state.material.Ms = common.MS
        state.material.A = common.A_EX
        state.material.alpha = common.ALPHA
        state.m = nm.VectorFunction(state).fill(common.m0_unit())
        terms = {}
        for name, make in (("exchange", lambda: nm.ExchangeField()), ("demag", lambda: nm.DemagField()),
                           ("external", lambda: nm.ExternalField(state.tensor(common.H_EXT)))):
            t1 = time.perf_counter()
            make().register(state, name)
            terms[name] = time.perf_counter() - t1
        t1 = time.perf_counter()
        nm.TotalField("exchange", "demag", "external").register(state)
        terms["total"] = time.perf_counter() - t1
        t_setup = time.perf_counter() - t0
        t0 = time.perf_counter()
        sync(state.h.tensor)
        t_first_h = time.perf_counter() - t0
        out = dict(import_s=t_import, setup_s=t_setup, first_h_s=t_first_h,
                   first_field_s=t_import + t_setup + t_first_h, register_s=terms,
                   rss_import_mb=round(rss_import, 1), version=nm.__version__, file=nm.__file__,
                   tensor_dtype=str(state.m.tensor.dtype))
        if args.mode == "first-field":
            common.emit(common.record(args, code, **out))
            return 0

        llg = nm.LLGSolver(state)
        m = state.m.tensor
        if args.backend == "jax":
            rhs_fn = jax.jit(state.resolve(llg_rhs, ["t", "m"]))
            t = state.tensor(0.0)

            def rhs():
                return rhs_fn(t, m)
        else:
            count = [0]
            llg.register_forward_hook(lambda module, inputs, output: count.__setitem__(0, count[0] + 1))
            t = state.tensor(0.0)

            def rhs():
                return llg(t, m)  # the solver's (scaled) right-hand side, as torchdiffeq calls it
        out.update(common.bare_call_fields(rhs, sync, args.rhs_min_time), solver="Dopri5 rtol=atol=1e-5")
        try:  # a failing integration still leaves the bare-RHS numbers in the record
            t0 = time.perf_counter()
            llg.step(args.warmup)
            sync(state.m.tensor)
            out["warmup_s"] = time.perf_counter() - t0
            if args.backend == "torch":
                count[0] = 0
            t0 = time.perf_counter()
            sol = llg.step(args.time)
            sync(state.m.tensor)
            wall = time.perf_counter() - t0
            if args.backend == "torch":
                n_rhs, how = count[0], "exact (forward hook)"
            else:
                n_rhs, how = 6 * int(sol.stats["num_steps"]) + 1, "6 x diffrax num_steps + 1 (Dopri5, FSAL)"
            out.update(t_sim=args.time, n_rhs=n_rhs, rhs_count=how, wall_s=wall,
                       per_rhs_ms=1e3 * wall / max(n_rhs, 1))
        except Exception as err:  # noqa: BLE001
            out["llg_error"] = f"{type(err).__name__}: {err}"[:500]
        common.emit(common.record(args, code, **out))
    except Exception as err:  # noqa: BLE001
        common.fail(args, code, err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
