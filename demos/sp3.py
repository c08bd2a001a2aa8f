"""µMAG standard problem #3: the single-domain limit of a cube (flower vs vortex).

A cube of edge L (in units of the exchange length l_ex = sqrt(A/K_m), K_m = µ0 Ms²/2) with uniaxial anisotropy
K_u = 0.1 K_m along z, exchange and demagnetisation. Find the edge L at which the flower state (nearly uniform,
along z) and the vortex state (curling about the x axis) have the same reduced energy e = E/(K_m L³).
Published: L = 8.47 l_ex, e = 0.3027 (Rave, Fabian, Hubert 1998).

Method: one N³-cell mesh per resolution N with a fixed physical edge; L/l_ex is changed through the exchange
constant A (A = K_m (L_phys / λ)², e is scale invariant), so the demag kernel and the compiled minimiser are
reused for every λ. Each branch is swept in λ, starting from the relaxed state of the previous λ. The
anisotropy is written as K_u (1 − m_z²) as in the µMAG specification, i.e. K_u V is added to E_uniaxial.
The crossing is the root of the interpolated e_vortex − e_flower.

Writes ``sp3_energies.csv`` (N, λ, e_flower, e_vortex, ⟨m_z⟩ of both), ``sp3_crossing.csv`` (N, L_cross,
e_cross, seconds) and ``sp3.png`` to ``--out``, and prints a ``RESULT sp3 ...`` line for the finest N.

    python demos/sp3.py [--backend jax|torch] [--quick] [--cells N ...] [--lambdas L ...] [--out results]
"""

from __future__ import annotations

import time

import numpy as np

import neuralmag as nm
import validation_common as vc

MU0 = 4e-7 * np.pi
MS = 8e5  # A/m
KM = 0.5 * MU0 * MS**2  # J/m³
L_PHYS = 50e-9  # physical cube edge (m); only L / l_ex matters
REFERENCE = {"L": 8.47, "e": 0.3027}  # Rave, Fabian, Hubert (1998)
LAMBDAS = (8.0, 8.25, 8.5, 8.75, 9.0)
QUICK_LAMBDAS = (8.0, 9.0)
CELLS = (8, 10, 12, 16, 20, 24)
QUICK_CELLS = (6,)


def build_state(n: int):
    """N³ cells of edge L_PHYS/N with exchange, uniaxial anisotropy (z) and demag; A is set per λ."""
    state = nm.State(nm.Mesh((n, n, n), (L_PHYS / n,) * 3))
    state.material.Ms = MS
    state.material.A = 1.3e-11
    state.material.Ku = 0.1 * KM
    state.material.Ku_axis = (0.0, 0.0, 1.0)
    nm.ExchangeField().register(state)
    nm.UniaxialAnisotropyField().register(state)
    nm.DemagField().register(state)
    nm.TotalField("exchange", "uniaxial", "demag").register(state)
    return state


def initial_m(state, kind: str):
    """Flower: along z, slightly tilted. Vortex: curling about the x axis through the centre (core along x)."""
    c = L_PHYS / 2
    if kind == "flower":
        return nm.VectorFunction(state).fill((0.01, 0.02, 1.0))
    return nm.VectorFunction.from_expression(
        state, lambda x, y, z: (0.1 * L_PHYS + 0 * x, -(z - c), y - c), shape=(3,))


def reduced_energy(state) -> float:
    """e = E / (K_m L³) with the anisotropy energy K_u (1 − m_z²) of the specification."""
    E = float(state.E)  # exchange + uniaxial + demag (TotalField): one compiled function
    return E / (KM * L_PHYS**3) + 0.1


def sweep(n: int, lambdas, tol: float = 1e-5, log=print):
    """Relax both branches at every λ (ascending) on an N³ mesh. Returns a dict of arrays and timings."""
    state = build_state(n)
    minimizer = nm.EnergyMinimizer(state, tol=tol, max_iter=20000)
    out = {"lambda": np.asarray(lambdas, float)}
    t_start = time.perf_counter()
    for kind in ("flower", "vortex"):
        state.m = initial_m(state, kind)
        energies, mz, iters = [], [], []
        for lam in lambdas:
            state.material.A = KM * (L_PHYS / lam) ** 2
            t0 = time.perf_counter()
            info = minimizer.minimize()
            energies.append(reduced_energy(state))
            avg = state.to_numpy(state.m.avg())
            mz.append(float(avg[2]))
            iters.append(info["iterations"])
            log(f"  N={n:3d} {kind:6s} L={lam:.3f} e={energies[-1]:.6f} <m>=({avg[0]:+.3f},{avg[1]:+.3f},"
                f"{avg[2]:+.3f}) iter={info['iterations']} torque={info['torque']:.1e} "
                f"{time.perf_counter() - t0:.1f}s", flush=True)
        out[f"e_{kind}"] = np.array(energies)
        out[f"mz_{kind}"] = np.array(mz)
        out[f"iter_{kind}"] = np.array(iters)
    out["seconds"] = time.perf_counter() - t_start
    return out


def crossing(lambdas, e_flower, e_vortex):
    """Root of the (cubic/quadratic/linear, as many points allow) interpolant of e_vortex − e_flower and the
    interpolated energy there."""
    lam = np.asarray(lambdas, float)
    deg = min(len(lam) - 1, 3)
    diff = np.polyfit(lam, np.asarray(e_vortex) - np.asarray(e_flower), deg)
    roots = np.roots(diff)
    roots = roots[(abs(roots.imag) < 1e-12) & (roots.real >= lam.min() - 0.5) & (roots.real <= lam.max() + 0.5)].real
    if len(roots) == 0:
        return float("nan"), float("nan")
    L = float(roots[np.argmin(abs(roots - lam.mean()))])
    e = 0.5 * (np.polyval(np.polyfit(lam, e_flower, deg), L) + np.polyval(np.polyfit(lam, e_vortex, deg), L))
    return L, float(e)


def extrapolate(cells, values):
    """Richardson extrapolation N → ∞ assuming ``value(N) = value_∞ + c / N²`` (least squares over the given N);
    None with fewer than two resolutions."""
    if len(cells) < 2:
        return None
    A = np.column_stack([np.ones(len(cells)), 1.0 / np.asarray(cells, float) ** 2])
    return float(np.linalg.lstsq(A, np.asarray(values, float), rcond=None)[0][0])


def main(argv=None):
    p = vc.parser(__doc__)
    p.add_argument("--cells", type=int, nargs="+", default=None, help=f"cells per edge (default {CELLS})")
    p.add_argument("--lambdas", type=float, nargs="+", default=None, help=f"L / l_ex values (default {LAMBDAS})")
    p.add_argument("--tol", type=float, default=1e-5, help="minimiser torque tolerance")
    args = p.parse_args(argv)
    out = vc.setup(args)
    cells = args.cells or (QUICK_CELLS if args.quick else CELLS)
    lambdas = sorted(args.lambdas or (QUICK_LAMBDAS if args.quick else LAMBDAS))

    t_total = time.perf_counter()
    rows, cross = [], []
    for n in sorted(cells):
        res = sweep(n, lambdas, tol=args.tol)
        L, e = crossing(res["lambda"], res["e_flower"], res["e_vortex"])
        print(f"N={n}: L_cross={L:.4f} e_cross={e:.5f} ({res['seconds']:.1f} s)", flush=True)
        rows.append((n, res))
        cross.append((n, L, e, res["seconds"]))
    seconds = time.perf_counter() - t_total

    vc.write_csv(out / "sp3_energies.csv", {
        "N": np.concatenate([[n] * len(r["lambda"]) for n, r in rows]),
        "L_over_lex": np.concatenate([r["lambda"] for _, r in rows]),
        "e_flower": np.concatenate([r["e_flower"] for _, r in rows]),
        "e_vortex": np.concatenate([r["e_vortex"] for _, r in rows]),
        "mz_flower": np.concatenate([r["mz_flower"] for _, r in rows]),
        "mz_vortex": np.concatenate([r["mz_vortex"] for _, r in rows]),
    })
    c = np.array(cross)
    fit_cells = c[:, 0] >= 10 if (c[:, 0] >= 10).sum() >= 2 else np.ones(len(c), bool)  # asymptotic range
    L_inf = extrapolate(c[fit_cells, 0], c[fit_cells, 1])
    e_inf = extrapolate(c[fit_cells, 0], c[fit_cells, 2])
    if L_inf is not None:
        print(f"extrapolated (N >= {int(c[fit_cells, 0].min())}, c/N²): L_cross={L_inf:.4f} e_cross={e_inf:.5f}")
    vc.write_csv(out / "sp3_crossing.csv", {"N": c[:, 0], "L_cross": c[:, 1], "e_cross": c[:, 2], "seconds": c[:, 3]})

    fig, (ax1, ax2) = vc.figure(1, 2, figsize=(10, 4))
    n_fine, r = rows[-1]
    ax1.plot(r["lambda"], r["e_flower"], "o-", label="flower")
    ax1.plot(r["lambda"], r["e_vortex"], "s-", label="vortex")
    ax1.plot([REFERENCE["L"]], [REFERENCE["e"]], "k*", ms=10, label="Rave et al. 1998")
    ax1.plot([c[-1, 1]], [c[-1, 2]], "rx", ms=10, label=f"crossing N={n_fine}")
    ax1.set_xlabel("L / l_ex")
    ax1.set_ylabel("e = E / (K_m L³)")
    ax1.set_title(f"µMAG SP3, {n_fine}³ cells, {nm.config.backend}")
    ax1.legend(fontsize=8)
    ax2.plot(1 / c[:, 0] ** 2, c[:, 1], "o", label="NeuralMag")
    if L_inf is not None:
        slope = np.polyfit(1 / c[fit_cells, 0] ** 2, c[fit_cells, 1], 1)[0]
        x = np.linspace(0, 1 / c[:, 0].min() ** 2, 20)
        ax2.plot(x, L_inf + slope * x, "C0--", lw=1, label=f"fit L∞ + c/N²: L∞ = {L_inf:.3f}")
    ax2.axhline(REFERENCE["L"], color="k", ls="--", lw=1, label="8.47 (Rave et al.)")
    ax2.axhspan(REFERENCE["L"] * 0.995, REFERENCE["L"] * 1.005, color="0.85", label="±0.5 %")
    for n, L, _, _ in cross:
        ax2.annotate(f"N={int(n)}", (1 / n**2, L), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax2.set_xlabel("1 / N²")
    ax2.set_ylabel("crossing L / l_ex")
    ax2.set_xlim(left=0)
    ax2.legend(fontsize=8)
    vc.save_figure(fig, out / "sp3.png")
    print(f"wrote {out / 'sp3_energies.csv'}, {out / 'sp3_crossing.csv'} and {out / 'sp3.png'}")

    n, L, e, _ = cross[-1]
    extra = {}
    if L_inf is not None:
        extra = {"L_extrap": L_inf, "e_extrap": e_inf}
    return vc.result("sp3", L_cross=L, e_cross=e, N=int(n), L_ref=REFERENCE["L"], e_ref=REFERENCE["e"],
                     L_rel_err=float(abs(L / REFERENCE["L"] - 1)), e_rel_err=float(abs(e / REFERENCE["e"] - 1)),
                     **extra, seconds=float(seconds))


if __name__ == "__main__":
    main()
