"""Stoner–Wohlfarth switching fields of a single-domain particle, quasi-static, against the astroid.

A cube of 2 nm (one cell, eight nodes, exchange-coupled) with uniaxial anisotropy K along z, no demag.
The particle starts saturated along +z; the field is applied at the angle ψ from the −z direction,
u = (sin ψ, 0, −cos ψ). Quasi-static protocol per angle: raise h = H/H_K in steps (``--step``), each step
an energy minimisation (``nm.EnergyMinimizer``) started from the state of the previous step, until m_z
turns negative (the irreversible jump); then bisect the last interval, always restarting from the most
recent state that had not switched, until it is shorter than ``--htol``. Analytic switching field
h_sw(ψ) = (cos^{2/3}ψ + sin^{2/3}ψ)^{−3/2} with H_K = 2K/(µ0 Ms).

Near h_sw the energy barrier vanishes, so a run just above h_sw crawls through the bottleneck where the
minimum used to be, with a torque of order h − h_sw: the minimiser tolerance (1e-10, relative torque) is
far below the bisection resolution, so it cannot stop there and call a switched state metastable.

Writes ``stoner_wohlfarth.csv`` (ψ, h_sw computed, analytic, relative error, minimiser iterations) and
``stoner_wohlfarth.png`` (astroid and computed switching points).

    python demos/stoner_wohlfarth.py [--backend jax|torch] [--quick] [--out results]
"""

from __future__ import annotations

import time

import numpy as np

import neuralmag as nm
from validation_common import figure, parser, result, save_figure, setup, write_csv

MU0 = 4e-7 * np.pi
MS, K, A = 8e5, 1e5, 1e-11
H_K = 2 * K / (MU0 * MS)
ANGLES = (5, 15, 30, 45, 60, 75, 85)
QUICK_ANGLES = (15, 45, 75)


def h_sw_analytic(psi):
    """Reduced SW switching field for the field at ψ (radians) from the easy axis."""
    return (np.cos(psi) ** (2 / 3) + np.sin(psi) ** (2 / 3)) ** -1.5


class Particle:
    """The single-domain particle and its minimiser; :meth:`relax` minimises at reduced field h along u."""

    def __init__(self, tol: float = 1e-10, dim: int = 3):
        state = nm.State(nm.Mesh((1,) * dim, (2e-9, 2e-9, 2e-9)))
        state.material.Ms = MS
        state.material.A = A
        state.material.Ku = K
        state.material.Ku_axis = (0.0, 0.0, 1.0)
        state.m = nm.VectorFunction(state).fill((0.0, 0.0, 1.0))
        nm.ExchangeField().register(state)
        nm.UniaxialAnisotropyField().register(state)
        nm.ExternalField().register(state)
        nm.TotalField("exchange", "uniaxial", "external").register(state)
        self.state = state
        self.minimizer = nm.EnergyMinimizer(state, tol=tol, max_iter=200_000)
        self.iterations = 0

    def relax(self, h: float, u, m0):
        state = self.state
        state.assign_m(m0)
        state.h_external_applied = nm.VectorFunction(state).fill(tuple(float(c) for c in h * H_K * u))
        info = self.minimizer.minimize()
        self.iterations += info["iterations"]
        return state.m.tensor, float(state.m.numpy()[..., 2].mean())


def switching_field(particle: Particle, psi_deg: float, step: float = 0.02, htol: float = 1e-5):
    """Quasi-static switching field (reduced) for the field at psi_deg from −z, and the minimiser iterations."""
    psi = np.radians(psi_deg)
    u = np.array([np.sin(psi), 0.0, -np.cos(psi)])
    particle.iterations = 0
    m_lo = nm.VectorFunction(particle.state).fill((0.0, 0.0, 1.0)).tensor
    h_lo = 0.0
    while True:  # field steps until the jump
        m, mz = particle.relax(h_lo + step, u, m_lo)
        if mz < 0:
            break
        h_lo, m_lo = h_lo + step, m
        if h_lo > 1.5:
            raise RuntimeError(f"no switching up to h = {h_lo} at psi = {psi_deg}")
    h_hi = h_lo + step
    while h_hi - h_lo > htol:  # bisection, restarting from the last unswitched state
        h = 0.5 * (h_lo + h_hi)
        m, mz = particle.relax(h, u, m_lo)
        if mz < 0:
            h_hi = h
        else:
            h_lo, m_lo = h, m
    return 0.5 * (h_lo + h_hi), particle.iterations


def main(argv=None):
    p = parser(__doc__)
    p.add_argument("--step", type=float, default=0.02, help="field step of the quasi-static scan (units of H_K)")
    p.add_argument("--htol", type=float, default=1e-5, help="bisection interval (units of H_K)")
    args = p.parse_args(argv)
    out = setup(args)
    angles = QUICK_ANGLES if args.quick else ANGLES
    htol = max(args.htol, 1e-4) if args.quick else args.htol
    particle = Particle()
    t0 = time.perf_counter()
    rows = []
    for psi in angles:
        t1 = time.perf_counter()
        h, its = switching_field(particle, psi, args.step, htol)
        ref = float(h_sw_analytic(np.radians(psi)))
        rows.append((psi, h, ref, h / ref - 1, its))
        print(f"psi={psi:4.1f} deg: h_sw={h:.6f} analytic={ref:.6f} rel.err={h / ref - 1:+.2e} "
              f"iterations={its} {time.perf_counter() - t1:.1f} s", flush=True)
    seconds = time.perf_counter() - t0
    data = np.array(rows)
    write_csv(out / "stoner_wohlfarth.csv", {"psi_deg": data[:, 0], "h_sw": data[:, 1], "h_sw_analytic": data[:, 2],
                                             "rel_err": data[:, 3], "iterations": data[:, 4]})

    fig, (ax, ax2) = figure(1, 2, figsize=(10, 4.2))
    t = np.linspace(0, 2 * np.pi, 721)
    ax.plot(np.cos(t) ** 3, np.sin(t) ** 3, "k-", lw=1, label="SW astroid")
    psi = np.radians(data[:, 0])
    ax.plot(data[:, 1] * np.sin(psi), data[:, 1] * np.cos(psi), "o", mfc="none", label=f"NeuralMag ({nm.config.backend})")
    ax.set_xlabel("$h_\\perp = H \\sin\\psi / H_K$")
    ax.set_ylabel("$h_\\parallel = H \\cos\\psi / H_K$ (against m)")
    ax.set_aspect("equal")
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title("Stoner–Wohlfarth astroid")
    pf = np.linspace(0.5, 89.5, 400)
    ax2.plot(pf, h_sw_analytic(np.radians(pf)), "k-", lw=1, label="$(\\cos^{2/3}\\psi+\\sin^{2/3}\\psi)^{-3/2}$")
    ax2.plot(data[:, 0], data[:, 1], "o", mfc="none", label="NeuralMag quasi-static")
    for row in rows:
        ax2.annotate(f"{row[3]:+.0e}", (row[0], row[1]), textcoords="offset points", xytext=(0, 6), fontsize=7,
                     ha="center")
    ax2.set_xlabel("ψ (deg)")
    ax2.set_ylabel("$h_{sw} = H_{sw}/H_K$")
    ax2.legend(fontsize=8)
    ax2.set_title("switching field (labels: relative error)")
    save_figure(fig, out / "stoner_wohlfarth.png")

    worst = int(np.argmax(np.abs(data[:, 3])))
    metrics = {f"h{int(r[0])}": r[1] for r in rows}
    return result("stoner_wohlfarth", angles=len(rows), max_rel_err=float(np.abs(data[:, 3]).max()),
                  worst_psi=int(data[worst, 0]), htol=htol, **metrics, seconds=seconds)


if __name__ == "__main__":
    main()
