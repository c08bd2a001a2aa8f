"""Training data for the latent-space model (issue 9, Kovacs et al. 2019): µMAG SP4 switching in many fields.

The SP4 permalloy film (500 nm × 125 nm × 3 nm, Ms = 8e5 A/m, A = 1.3e-11 J/m, α = 0.02; ``demos/sp4.py``) on a
2D mesh of ``nx × ny`` cells. All runs start from the same S-state (energy minimisation from m ∝ (1, 0.25, 0.1));
each applies one constant in-plane field µ0H and integrates the LLG equation for ``t_end`` (1 ns), saving the
cell averages of m every ``dt`` = 10 ps (101 snapshots, the first one the S-state).

Fields: magnitude 22–41 mT, direction within the 44° sector centred on −x (opposing the S-state's net
magnetisation along +x, 158°–202°); SP4's field 1 (−24.6, 4.3) mT and field 2 (−35.5, −6.3) mT lie in that
sector and are kept for the evaluation: sampled fields closer than 1 mT to either are skipped. The points cover
the annular sector evenly: a randomly shifted R2 low-discrepancy sequence in (r², angle) (area-uniform).

Output (in ``<out>/data``): ``index.json`` (configuration, fields, timings), ``s_state.npz`` (nodal S-state) and
one ``field_###.npz`` per field (``m``: float32 ``(n_snapshots, nx, ny, 3)`` cell averages, ``field`` in T, ``t``
in s). An interrupted run resumes: finished fields are kept.

    python demos/latent_dynamics/generate_data.py [--quick | --full] [--n-fields N] [--cells NX NY]
        [--backend jax|torch] [--out results/latent_dynamics/cpu]

Sizes: ``--quick`` 32 × 8 cells, 3 fields, 0.15 ns (seconds); default 128 × 32 cells (3.9 nm), 40 fields
(15–20 s of LLG per field on one shared CPU core with JAX, 13 min in all); ``--full`` the published 256 × 64 cells and 200 fields.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
for _p in (HERE, HERE.parent):  # this folder (sibling scripts) and demos/ (sp4.py)
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import neuralmag as nm  # noqa: E402
import sp4  # noqa: E402

MU0 = sp4.MU0
#: magnitude range of the applied fields, µ0|H| (T)
FIELD_MIN, FIELD_MAX = 22e-3, 41e-3
#: full opening angle (degrees) of the field sector, centred on CENTRE_DEG (−x)
SECTOR_DEG, CENTRE_DEG = 44.0, 180.0
#: sampled fields closer than this to SP4 field 1 or 2 are skipped (T)
EXCLUDE_RADIUS = 1e-3
#: SP4 fields 1 and 2, µ0H (T), held out for the evaluation
TEST_FIELDS = {k: np.array(v) for k, v in sp4.FIELDS.items()}


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Sizes of one data set: film grid ``cells`` = (nx, ny), number of fields, simulated time ``t_end`` (s),
    snapshot interval ``dt`` (s) and the seed of the field sequence."""

    cells: tuple[int, int] = (128, 32)
    n_fields: int = 40
    t_end: float = 1e-9
    dt: float = 1e-11
    seed: int = 0

    @property
    def n_snapshots(self) -> int:
        return int(round(self.t_end / self.dt)) + 1


CONFIGS = {
    "quick": DataConfig(cells=(32, 8), n_fields=3, t_end=1.5e-10),
    "cpu": DataConfig(),
    "full": DataConfig(cells=(256, 64), n_fields=200),
}


# ------------------------------------------------------------------------------------------- fields
def field_polar(fields) -> tuple[np.ndarray, np.ndarray]:
    """Magnitudes µ0|H| (T) and in-plane angles (degrees in [0, 360)) of fields ``(n, 2|3)`` in T."""
    f = np.atleast_2d(np.asarray(fields, dtype=float))
    return np.hypot(f[:, 0], f[:, 1]), np.degrees(np.arctan2(f[:, 1], f[:, 0])) % 360.0


def sample_fields(n: int, seed: int = 0) -> np.ndarray:
    """``n`` in-plane fields µ0H (T), shape ``(n, 3)``, spread evenly over the annular sector 22–41 mT × 44°
    around −x, none within ``EXCLUDE_RADIUS`` of SP4 fields 1 and 2.

    Points of the R2 sequence (the 2D golden-ratio lattice, ``u_i = frac(s + i (1/φ₂, 1/φ₂²))``), shifted by
    a random ``s`` from ``seed``, are mapped to ``r² ∈ [r_min², r_max²]`` and the angle, which makes them
    uniform in area; the first ``n`` that are not too close to a test field are returned.
    """
    phi2 = 1.32471795724474602596  # the plastic number, root of x³ = x + 1
    alpha = np.array([1.0 / phi2, 1.0 / phi2**2])
    shift = np.random.default_rng(seed).random(2)
    out, i = [], 0
    while len(out) < n:
        u = (shift + (i + 1) * alpha) % 1.0
        i += 1
        r = np.sqrt(FIELD_MIN**2 + u[0] * (FIELD_MAX**2 - FIELD_MIN**2))
        theta = np.radians(CENTRE_DEG + SECTOR_DEG * (u[1] - 0.5))
        h = np.array([r * np.cos(theta), r * np.sin(theta), 0.0])
        if min(np.linalg.norm(h - f) for f in TEST_FIELDS.values()) >= EXCLUDE_RADIUS:
            out.append(h)
    return np.array(out).reshape(n, 3)


# ------------------------------------------------------------------------------------------- simulation
class Simulator:
    """The SP4 film on a 2D mesh of ``cells``: S-state once, then :meth:`run` for any field from it."""

    def __init__(self, cells=(128, 32), s_state=None):
        self.state = sp4.build_state(2, cells=tuple(cells))
        t0 = time.perf_counter()
        if s_state is None:
            info = nm.EnergyMinimizer(self.state, tol=1e-6, max_iter=20000).minimize()
            self.minimizer_iterations = info["iterations"]
        else:
            self.state.m = s_state
            self.minimizer_iterations = 0
        self.relax_s = time.perf_counter() - t0
        #: the nodal S-state (NumPy), the start of every run
        self.s_state = self.state.m.numpy()
        self.llg = nm.LLGSolver(self.state)

    def reset(self, field):
        """Back to the S-state at t = 0 with the applied field µ0H = ``field`` (T)."""
        state = self.state
        state.m = self.s_state
        state.t = 0.0
        state.h_external_applied = nm.VectorFunction(state).fill(np.asarray(field, dtype=float) / MU0)

    def snapshot(self) -> np.ndarray:
        """Cell averages of the current nodal m, ``(nx, ny, 3)``."""
        return nm.io.nodes_to_cells(self.state.mesh, self.state.m.numpy())

    def run(self, field, n_snapshots: int, dt: float = 1e-11, warm_up: bool = True):
        """Simulate from the S-state; returns ``(m, seconds, steps)``: cell averages ``(n_snapshots, nx, ny, 3)``
        every ``dt`` (s) starting with the S-state, the wall time of the integration and the solver's steps.

        With ``warm_up`` one short step is taken first (and undone) so that the jit compilation of the solver is
        not part of the timing."""
        if warm_up:
            self.reset(field)
            self.llg.step(dt / 100)
        self.reset(field)
        steps0 = self.llg.num_steps
        out = [self.snapshot()]
        t0 = time.perf_counter()
        for _ in range(n_snapshots - 1):
            self.llg.step(dt)
            out.append(self.snapshot())
        seconds = time.perf_counter() - t0
        return np.array(out), seconds, self.llg.num_steps - steps0


# ------------------------------------------------------------------------------------------- data set files
def load_data(data_dir) -> tuple[dict, np.ndarray, np.ndarray]:
    """``(index, fields (n, 3) in T, m (n, n_snapshots, nx, ny, 3) float32)`` of a generated data set."""
    data_dir = Path(data_dir)
    index = json.loads((data_dir / "index.json").read_text())
    runs = [r for r in index["runs"] if (data_dir / r["file"]).exists()]
    if not runs:
        raise FileNotFoundError(f"No simulated fields in {data_dir}; run generate_data.py first.")
    m = np.stack([np.load(data_dir / r["file"])["m"] for r in runs])
    return index, np.array([r["field"] for r in runs]), m


def generate(cfg: DataConfig, data_dir, progress: bool = True) -> dict:
    """Simulate the fields of ``cfg`` into ``data_dir`` (skipping finished ones); returns the index."""
    from tqdm.auto import tqdm

    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    fields = sample_fields(cfg.n_fields, cfg.seed)
    index_path = data_dir / "index.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else {}
    if index and tuple(index["config"]["cells"]) != tuple(cfg.cells):
        raise ValueError(f"{data_dir} holds data for {index['config']['cells']} cells, not {cfg.cells}.")
    runs = {r["file"]: r for r in index.get("runs", [])}
    s_path = data_dir / "s_state.npz"
    sim = Simulator(cfg.cells, np.load(s_path)["m"] if s_path.exists() else None)
    if not s_path.exists():
        np.savez(s_path, m=sim.s_state)
    index = {"config": dataclasses.asdict(cfg), "backend": nm.config.backend, "dtype": nm.config.dtype,
             "relax_s": index.get("relax_s", sim.relax_s), "runs": []}
    for i, field in enumerate(tqdm(fields, desc="fields", unit="field", disable=not progress)):
        name = f"field_{i:03d}.npz"
        done = runs.get(name)
        if done is not None and np.allclose(done["field"], field) and (data_dir / name).exists():
            index["runs"].append(done)
            continue
        m, seconds, steps = sim.run(field, cfg.n_snapshots, cfg.dt)
        np.savez(data_dir / name, m=m.astype(np.float32), field=field, t=cfg.dt * np.arange(cfg.n_snapshots))
        index["runs"].append({"file": name, "field": field.tolist(), "dynamics_s": seconds, "steps": steps})
        index_path.write_text(json.dumps(index, indent=1))  # after every field: the run can resume
    index_path.write_text(json.dumps(index, indent=1))
    return index


def config_from_args(args) -> DataConfig:
    cfg = CONFIGS["quick" if args.quick else "full" if args.full else "cpu"]
    changes = {k: v for k, v in (("n_fields", args.n_fields), ("cells", tuple(args.cells) if args.cells else None),
                                 ("t_end", args.t_end), ("seed", args.seed)) if v is not None}
    return dataclasses.replace(cfg, **changes)


def add_size_arguments(parser):
    """The options shared by the three scripts that select the data set and its output folder."""
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="tiny sizes: seconds")
    size.add_argument("--full", action="store_true", help="published sizes: 256 × 64 cells, 200 fields")
    parser.add_argument("--out", default=None, help="results folder (default results/latent_dynamics/<size>)")
    parser.add_argument("--backend", choices=["jax", "torch"], default=None, help="default: nm.config / NM_BACKEND")


def out_dir(args) -> Path:
    size = "quick" if args.quick else "full" if args.full else "cpu"
    return Path(args.out or f"results/latent_dynamics/{size}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_size_arguments(parser)
    parser.add_argument("--n-fields", type=int, default=None)
    parser.add_argument("--cells", type=int, nargs=2, default=None, metavar=("NX", "NY"))
    parser.add_argument("--t-end", type=float, default=None, help="simulated time per field (s)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the field sequence")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.backend:
        nm.config.backend = args.backend
    cfg = config_from_args(args)
    data_dir = out_dir(args) / "data"
    t0 = time.perf_counter()
    index = generate(cfg, data_dir, progress=not args.no_progress)
    total = time.perf_counter() - t0
    seconds = [r["dynamics_s"] for r in index["runs"]]
    result = (f"RESULT latent_dynamics_data cells={cfg.cells[0]}x{cfg.cells[1]} fields={len(index['runs'])} "
              f"snapshots={cfg.n_snapshots} backend={nm.config.backend} relax_s={index['relax_s']:.1f} "
              f"mean_dynamics_s={np.mean(seconds):.1f} wall_s={total:.1f}")
    print(f"wrote {data_dir}")
    print(result)
    return result


if __name__ == "__main__":
    main()
