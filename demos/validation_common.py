"""Shared plumbing of the validation demos (``demos/<problem>.py``): command line, output folder, reference
data, figures and the final ``RESULT`` line. Physics lives in the demo scripts themselves.

Every validation demo runs as ``python demos/<problem>.py [--backend jax|torch] [--quick] [--out DIR]``,
writes its data (CSV) and a matplotlib figure to ``DIR`` and ends by printing one line
``RESULT <problem> key=value ...``; its ``main(argv)`` returns that line so tests can parse it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import neuralmag as nm

#: ../shared/reference beside the repository (reference data; read its README)
REFERENCE_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "reference"


def parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser with the common options ``--backend``, ``--quick``, ``--out`` (add your own)."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=["jax", "torch"], default=None, help="default: nm.config / NM_BACKEND")
    p.add_argument("--quick", action="store_true", help="a fast, coarser variant (used by the default tests)")
    p.add_argument("--out", default="results", help="output folder (created)")
    return p


def setup(args) -> Path:
    """Apply ``--backend`` (float64 unless NM_DTYPE says otherwise) and create ``--out``; returns the folder."""
    if args.backend:
        nm.config.backend = args.backend
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_csv(path, columns: dict) -> None:
    """Write equally long 1D ``columns`` (name -> values) as a CSV table with a header line."""
    names = list(columns)
    data = np.column_stack([np.asarray(columns[n], dtype=float) for n in names])
    np.savetxt(path, data, delimiter=",", header=",".join(names), comments="")


def figure(*args, **kwargs):
    """``matplotlib.pyplot.subplots`` with the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def save_figure(fig, path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    import matplotlib.pyplot as plt

    plt.close(fig)


def result(problem: str, **metrics) -> str:
    """Print and return ``RESULT <problem> key=value ...`` (floats with 5 significant digits)."""
    parts = [f"{k}={v:.5g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()]
    line = " ".join(["RESULT", problem, f"backend={nm.config.backend}", *parts])
    print(line, flush=True)
    return line


def parse_result(line: str) -> dict:
    """The ``key=value`` pairs of a RESULT line (values as float where they parse)."""
    out = {}
    for part in line.split()[2:]:
        key, _, value = part.partition("=")
        try:
            out[key] = float(value)
        except ValueError:
            out[key] = value
    return out
