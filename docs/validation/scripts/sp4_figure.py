"""Figure of docs/validation/sp4.md from the CSVs of ``demos/sp4.py`` runs.

    python demos/sp4.py --dim 2 --out runs/jax2d_dual            # and --demag-grid cell, --dim 3, ...
    python docs/validation/scripts/sp4_figure.py runs/jax2d_dual runs/jax2d_cell runs/jax3d_dual runs/jax3d_cell

Each folder's name is used as its label; writes docs/validation/figures/sp4.png.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = ROOT / ".." / "shared" / "reference" / "sp4_field1_oommf_my.csv"

ref = np.loadtxt(REFERENCE, delimiter=",", skiprows=1)
fig, (ax, dev) = plt.subplots(2, 1, figsize=(7, 6), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
sel = ref[:, 0] <= 1e-9
ax.plot(ref[sel, 0] * 1e9, ref[sel, 1], "k-", lw=2.5, alpha=0.35, label="OOMMF")
for folder in map(Path, sys.argv[1:]):
    data = np.loadtxt(folder / "sp4.csv", delimiter=",", skiprows=1)
    t, my = data[:, 0], data[:, 2]
    style = "-" if "dual" in folder.name else "--"
    ax.plot(t * 1e9, my, style, lw=1, label=folder.name)
    dev.plot(t * 1e9, my - np.interp(t, ref[:, 0], ref[:, 1]), style, lw=1, label=folder.name)
ax.set_ylabel("⟨m_y⟩")
ax.legend(fontsize=8)
ax.set_title("µMAG SP4 field 1, 5 nm cells")
dev.axhspan(-0.02, 0.02, color="0.9", zorder=0)
dev.set_ylabel("⟨m_y⟩ − OOMMF")
dev.set_xlabel("t (ns)")
fig.tight_layout()
fig.savefig(ROOT / "docs" / "validation" / "figures" / "sp4.png", dpi=110)
