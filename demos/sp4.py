"""µMAG standard problem #4: switching of a permalloy film (500 nm × 125 nm × 3 nm).

1. S-state: energy minimisation from m ∝ (1, 0.25, 0.1) without applied field.
2. Dynamics with α = 0.02 in field 1, µ0H = (−24.6, 4.3, 0) mT, or field 2, µ0H = (−35.5, −6.3, 0) mT, for 1 ns.

Writes ``sp4.csv`` (t, ⟨mx⟩, ⟨my⟩, ⟨mz⟩) and ``sp4.png`` to ``--out``; for field 1 the plot and the final
``RESULT`` line compare ⟨my⟩ with the OOMMF reference curve of ``../shared/reference`` (when present).

    python demos/sp4.py [--backend jax|torch] [--dim 2|3] [--field 1|2] [--quick] [--demag-grid dual|cell]
        [--out results]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import neuralmag as nm

MU0 = 4e-7 * np.pi
FIELDS = {1: (-24.6e-3, 4.3e-3, 0.0), 2: (-35.5e-3, -6.3e-3, 0.0)}  # µ0 H in T
REFERENCE = Path(__file__).resolve().parents[1] / ".." / "shared" / "reference" / "sp4_field1_oommf_my.csv"


def build_state(dim: int, demag_grid: str = "dual", cells: tuple[int, int] = (100, 25)):
    """The SP4 film, 500 nm × 125 nm × 3 nm, in ``cells`` = (nx, ny) cells (default 5 nm × 5 nm × 3 nm): one node
    layer (2D) or two (3D)."""
    nx, ny = cells
    n = (nx, ny, 1) if dim == 3 else (nx, ny)
    state = nm.State(nm.Mesh(n, (500e-9 / nx, 125e-9 / ny, 3e-9)))
    state.material.Ms = 8e5
    state.material.A = 1.3e-11
    state.material.alpha = 0.02
    state.m = nm.VectorFunction(state).fill((1.0, 0.25, 0.1))
    nm.ExchangeField().register(state)
    nm.DemagField(grid=demag_grid).register(state)
    nm.ExternalField((0.0, 0.0, 0.0)).register(state)
    nm.TotalField("exchange", "demag", "external").register(state)
    return state


def run(dim: int = 3, field: int = 1, t_end: float = 1e-9, dt: float = 1e-11, demag_grid: str = "dual"):
    """Returns ``(t, <m>)`` arrays and timing information."""
    state = build_state(dim, demag_grid)
    t0 = time.perf_counter()
    sstate = nm.EnergyMinimizer(state, tol=1e-6, max_iter=20000).minimize()
    t_relax = time.perf_counter() - t0
    state.h_external_applied = nm.VectorFunction(state).fill(np.array(FIELDS[field]) / MU0)
    llg = nm.LLGSolver(state)
    times, averages = [0.0], [state.to_numpy(state.m.avg())]
    t0 = time.perf_counter()
    for _ in range(int(round(t_end / dt))):
        llg.step(dt)
        times.append(float(state.t))
        averages.append(state.to_numpy(state.m.avg()))
    info = {"relax_s": t_relax, "minimizer_iterations": sstate["iterations"], "dynamics_s": time.perf_counter() - t0,
            "solver_steps": llg.num_steps}
    return np.array(times), np.array(averages), info


def compare_with_oommf(t, my):
    """Max |⟨my⟩ − OOMMF| over the simulated times, or None without the reference file."""
    if not REFERENCE.exists():
        return None, None
    ref = np.loadtxt(REFERENCE, delimiter=",", skiprows=1)
    return float(np.abs(my - np.interp(t, ref[:, 0], ref[:, 1])).max()), ref


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["jax", "torch"], default=None, help="default: nm.config / NM_BACKEND")
    parser.add_argument("--dim", type=int, choices=[2, 3], default=3)
    parser.add_argument("--field", type=int, choices=[1, 2], default=1)
    parser.add_argument("--quick", action="store_true", help="simulate 0.2 ns instead of 1 ns")
    parser.add_argument("--demag-grid", choices=["dual", "cell"], default="dual",
                        help="DemagField grid (see neuralmag.field_terms.demag; 'cell' drifts from OOMMF)")
    parser.add_argument("--out", default="results")
    args = parser.parse_args(argv)
    if args.backend:
        nm.config.backend = args.backend
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    t, m, info = run(args.dim, args.field, 2e-10 if args.quick else 1e-9, demag_grid=args.demag_grid)
    np.savetxt(out / "sp4.csv", np.column_stack([t, m]), delimiter=",", header="t,mx,my,mz", comments="")
    deviation, ref = compare_with_oommf(t, m[:, 1]) if args.field == 1 else (None, None)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for i, label in enumerate(("⟨mx⟩", "⟨my⟩", "⟨mz⟩")):
        ax.plot(t * 1e9, m[:, i], label=f"NeuralMag {label}")
    if ref is not None:
        sel = ref[:, 0] <= t[-1]
        ax.plot(ref[sel, 0] * 1e9, ref[sel, 1], "k--", lw=1, label="OOMMF ⟨my⟩")
    ax.set_xlabel("t (ns)")
    ax.set_ylabel("average magnetisation")
    ax.set_title(f"µMAG SP4 field {args.field}, {args.dim}D mesh, {args.demag_grid} demag grid, {nm.config.backend}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "sp4.png", dpi=120)

    result = (f"RESULT sp4 field={args.field} dim={args.dim} backend={nm.config.backend} "
              f"demag_grid={args.demag_grid} t_end={t[-1]:.3e} "
              f"my_final={m[-1, 1]:.4f} max_my={m[:, 1].max():.4f} min_my={m[:, 1].min():.4f}")
    if deviation is not None:
        result += f" max_dev_my_oommf={deviation:.4f}"
    result += f" relax_s={info['relax_s']:.1f} dynamics_s={info['dynamics_s']:.1f} steps={info['solver_steps']}"
    print(f"wrote {out / 'sp4.csv'} and {out / 'sp4.png'}")
    print(result)
    return result


if __name__ == "__main__":
    main()
