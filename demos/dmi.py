"""DMI standard problems (Cortés-Ortuño et al., New J. Phys. 20, 113015 (2018)), interfacial DMI, no demag.

Material: D = 3 mJ/m², A = 13 pJ/m, Ms = 0.86 MA/m, Ku = 0.4 MJ/m³ along z.

* ``1d``: wire of 100 nm along x on a 1D mesh, free ends, energy minimisation from m = +z. The edge canting
  is compared with the semi-infinite analytic value sin θ0 = D/(2√(AK)) (m_z = 0.7532) and the whole profile
  with the 1D Euler–Lagrange equation A θ'' = K sin θ cos θ, θ'(0) = θ'(L) = D/(2A), solved with
  ``scipy.integrate.solve_bvp`` (m = (sin θ, 0, cos θ)); the cell size is halved to show convergence.
* ``2d``: disk of diameter 100 nm, 2 nm thick, on a 2D thin-film mesh; core r < 25 nm +z, rest −z; energy
  minimisation to a Néel skyrmion; m_z(0) (≈ 1) and m_z at the edge r = 50 nm (−0.7605). The disk is the
  region density ``state.rho``: by default the area fraction of each cell inside the circle (``--mask
  fraction``), or 1/0 by cell centre (``--mask staircase``).

Writes ``dmi_1d.csv`` (x, m of the 1D run, θ of the scipy solution), ``dmi_1d_convergence.csv``,
``dmi_2d_profile.csv`` (m along the +x radius), ``dmi_2d_edge.csv`` (m_z interpolated on r = 50 nm),
``dmi_2d_convergence.csv``, ``dmi_1d.png`` and ``dmi_2d.png``.

    python demos/dmi.py [--problem 1d|2d|both] [--backend jax|torch] [--quick] [--out results]
"""

from __future__ import annotations

import time

import numpy as np

import neuralmag as nm
from validation_common import figure, parser, result, save_figure, setup, write_csv

D, A, MS, KU = 3e-3, 13e-12, 0.86e6, 0.4e6
L_WIRE = 100e-9
R_DISK, THICKNESS, R_CORE = 50e-9, 2e-9, 25e-9
#: semi-infinite edge canting, sin θ0 = D / (2 √(A K))
SIN_THETA0 = D / (2 * np.sqrt(A * KU))
MZ_EDGE_1D_REF = 0.7532  # Cortés-Ortuño et al. (analytic, semi-infinite)
MZ_EDGE_2D_REF = -0.7605  # Cortés-Ortuño et al. (simulations), m_z at r = 50 nm


def _material(state):
    state.material.Ms = MS
    state.material.A = A
    state.material.D = D
    state.material.Ku = KU
    state.material.Ku_axis = (0.0, 0.0, 1.0)
    nm.ExchangeField().register(state)
    nm.InterfaceDMIField().register(state)
    nm.UniaxialAnisotropyField().register(state)
    nm.TotalField("exchange", "dmi", "uniaxial").register(state)


# ----------------------------------------------------------------------------------------------------- 1D
def wire_1d(dx: float = 1e-9, tol: float = 1e-9):
    """Relaxed 1D wire: node coordinates x (m), nodal m (N, 3) and minimiser info (with the run time)."""
    t0 = time.perf_counter()
    n = int(round(L_WIRE / dx))
    state = nm.State(nm.Mesh((n,), (dx, 1e-9, 1e-9)))
    _material(state)
    state.m = nm.VectorFunction(state).fill((0.0, 0.0, 1.0))
    info = nm.EnergyMinimizer(state, tol=tol, max_iter=200_000).minimize()
    info["seconds"] = time.perf_counter() - t0
    x = state.coordinates("n", numpy=True)[0]
    return x, state.m.numpy().astype(np.float64), info


def euler_lagrange_1d(length: float = L_WIRE, tol: float = 1e-10):
    r"""θ(x) of the 1D problem from the Euler–Lagrange equation, as a callable of x (m).

    With m = (sin θ, 0, cos θ) the interfacial DMI density of ``InterfaceDMIField``,
    D (m_x ∂x m_z − m_z ∂x m_x), is −D θ', so E = ∫ A θ'² + K sin²θ dx − D [θ(L) − θ(0)]. Its variation gives
    A θ'' = K sin θ cos θ inside and the natural boundary conditions 2A θ'(0) = D and 2A θ'(L) = D: θ rises at
    both ends, so m_x < 0 at x = 0 and m_x > 0 at x = L. Solved in units of nm with ``solve_bvp`` from the
    superposition of the two semi-infinite solutions tan(θ/2) = ∓tan(θ0/2) exp(−d/Δ), Δ = √(A/K).
    """
    from scipy.integrate import solve_bvp

    nm_ = 1e-9
    k = KU / A * nm_**2  # 1/nm²
    slope = D / (2 * A) * nm_  # 1/nm
    ell = length / nm_
    delta = np.sqrt(1 / k)
    t0 = np.tan(np.arcsin(SIN_THETA0) / 2)

    def guess(x):
        a, b = t0 * np.exp(-x / delta), t0 * np.exp((x - ell) / delta)
        theta = -2 * np.arctan(a) + 2 * np.arctan(b)
        dtheta = 2 * a / (delta * (1 + a**2)) + 2 * b / (delta * (1 + b**2))
        return np.vstack([theta, dtheta])

    def rhs(x, y):
        return np.vstack([y[1], k * np.sin(y[0]) * np.cos(y[0])])

    def bc(ya, yb):
        return np.array([ya[1] - slope, yb[1] - slope])

    xs = np.linspace(0, ell, 2001)
    sol = solve_bvp(rhs, bc, xs, guess(xs), tol=tol, max_nodes=200_000)
    if not sol.success:
        raise RuntimeError(f"solve_bvp failed: {sol.message}")
    return lambda x: sol.sol(np.asarray(x) / nm_)[0]


def run_1d(out, quick: bool):
    cells = [1e-9, 0.5e-9] if quick else [1e-9, 0.5e-9, 0.25e-9]
    theta = euler_lagrange_1d()
    mz_bvp_edge = float(np.cos(theta(0.0)))
    runs = {}
    for dx in cells:
        x, m, info = wire_1d(dx)
        th = theta(x)
        dev = np.abs(m - np.stack([np.sin(th), 0 * th, np.cos(th)], -1)).max()
        runs[dx] = dict(x=x, m=m, info=info, dev=float(dev), mz_edge=float(0.5 * (m[0, 2] + m[-1, 2])),
                        mx_left=float(m[0, 0]), mx_right=float(m[-1, 0]))
        print(f"1D dx={dx * 1e9:g} nm: m_z(edges)=({m[0, 2]:.5f}, {m[-1, 2]:.5f}) m_x(edges)=({m[0, 0]:.5f}, "
              f"{m[-1, 0]:.5f}) max|m - m_BVP|={dev:.2e} iterations={info['iterations']} "
              f"{info['seconds']:.1f} s", flush=True)
    r1 = runs[1e-9]
    th = theta(r1["x"])
    write_csv(out / "dmi_1d.csv", {"x": r1["x"], "mx": r1["m"][:, 0], "my": r1["m"][:, 1], "mz": r1["m"][:, 2],
                                   "theta_bvp": th, "mx_bvp": np.sin(th), "mz_bvp": np.cos(th)})
    write_csv(out / "dmi_1d_convergence.csv",
              {"dx": list(runs), "mz_edge": [r["mz_edge"] for r in runs.values()],
               "max_dev_bvp": [r["dev"] for r in runs.values()],
               "iterations": [r["info"]["iterations"] for r in runs.values()],
               "seconds": [r["info"]["seconds"] for r in runs.values()]})

    fig, (ax, ax2) = figure(1, 2, figsize=(10, 3.8))
    xf = np.linspace(0, L_WIRE, 1001)
    thf = theta(xf)
    ax.plot(xf * 1e9, np.cos(thf), "k-", lw=1, label="Euler–Lagrange (scipy) $m_z$")
    ax.plot(xf * 1e9, np.sin(thf), "k--", lw=1, label="Euler–Lagrange (scipy) $m_x$")
    ax.plot(r1["x"] * 1e9, r1["m"][:, 2], "o", ms=3, mfc="none", label="NeuralMag $m_z$ (1 nm)")
    ax.plot(r1["x"] * 1e9, r1["m"][:, 0], "s", ms=3, mfc="none", label="NeuralMag $m_x$ (1 nm)")
    ax.axhline(MZ_EDGE_1D_REF, color="gray", lw=0.5, ls=":")
    ax.set_xlabel("x (nm)")
    ax.set_ylabel("m")
    ax.set_title(f"DMI 1D wire ({nm.config.backend})")
    ax.legend(fontsize=7)
    for dx, r in runs.items():
        sel = r["x"] <= 6e-9
        ax2.plot(r["x"][sel] * 1e9, r["m"][sel, 2], ".-", ms=4, label=f"NeuralMag {dx * 1e9:g} nm")
    sel = xf <= 6e-9
    ax2.plot(xf[sel] * 1e9, np.cos(thf[sel]), "k-", lw=1, label="Euler–Lagrange")
    ax2.axhline(MZ_EDGE_1D_REF, color="gray", lw=0.8, ls=":", label="semi-infinite edge 0.7532")
    ax2.set_xlabel("x (nm)")
    ax2.set_ylabel("$m_z$")
    ax2.set_title("left edge")
    ax2.legend(fontsize=7)
    save_figure(fig, out / "dmi_1d.png")

    fine = runs[cells[1]]
    return result("dmi_1d", dx_nm=1.0, mz_edge=r1["mz_edge"], mz_edge_ref=MZ_EDGE_1D_REF,
                  mz_edge_semi_infinite=float(np.sqrt(1 - SIN_THETA0**2)), mz_edge_bvp=mz_bvp_edge,
                  mx_left=r1["mx_left"], mx_right=r1["mx_right"], max_dev_bvp=r1["dev"],
                  dx_fine_nm=cells[1] * 1e9, mz_edge_fine=fine["mz_edge"], max_dev_bvp_fine=fine["dev"],
                  iterations=r1["info"]["iterations"], seconds=float(r1["info"]["seconds"]))


# ----------------------------------------------------------------------------------------------------- 2D
def disk_density(state, mask: str = "fraction", samples: int = 16):
    """Region density of the disk on the cells: the area fraction inside r ≤ 50 nm (``fraction``, estimated
    with samples² points per cell) or 1 where the cell centre is inside (``staircase``)."""
    x, y, _ = state.coordinates("c", numpy=True)
    if mask == "staircase":
        return (((x - R_DISK) ** 2 + (y - R_DISK) ** 2) <= R_DISK**2).astype(float)
    hx, hy = state.mesh.dx[0], state.mesh.dx[1]
    off = (np.arange(samples) + 0.5) / samples - 0.5
    frac = np.zeros(x.shape)
    for a in off:
        for b in off:
            frac += ((x + a * hx - R_DISK) ** 2 + (y + b * hy - R_DISK) ** 2) <= R_DISK**2
    return frac / samples**2


def disk_2d(dx: float = 1e-9, mask: str = "fraction", tol: float = 1e-7):
    """Relaxed skyrmion disk: node coordinates (x, y), nodal m (nx+1, ny+1, 3), a boolean mask of the magnetic
    nodes, and minimiser info. The disk centre is the middle node (dx must divide 50 nm)."""
    t0 = time.perf_counter()
    n = int(round(2 * R_DISK / dx))
    state = nm.State(nm.Mesh((n, n), (dx, dx, THICKNESS)))
    rho = disk_density(state, mask)
    state.rho = nm.CellFunction(state, tensor=rho)
    _material(state)
    xn, yn = state.coordinates("n", numpy=True)[:2]
    m0 = np.zeros(xn.shape + (3,))
    m0[..., 2] = np.where((xn - R_DISK) ** 2 + (yn - R_DISK) ** 2 < R_CORE**2, 1.0, -1.0)
    state.m = nm.VectorFunction(state, tensor=m0)
    info = nm.EnergyMinimizer(state, tol=tol, max_iter=200_000).minimize()
    info["seconds"] = time.perf_counter() - t0
    x, y = state.coordinates("n", numpy=True)[:2]
    padded = np.pad(rho > 0, 1)
    magnetic = padded[1:, 1:] | padded[:-1, 1:] | padded[1:, :-1] | padded[:-1, :-1]
    return x - R_DISK, y - R_DISK, state.m.numpy().astype(np.float64), magnetic, info


def edge_values(x, y, m, n_phi: int = 360):
    """m_z at r = 50 nm: at the four nodes on the axes (exactly on the circle) and bilinearly interpolated
    (the finite-element interpolation of the nodal m) on ``n_phi`` points of the circle."""
    from scipy.interpolate import RegularGridInterpolator

    c = (x.shape[0] - 1) // 2
    axis = np.array([m[-1, c, 2], m[0, c, 2], m[c, -1, 2], m[c, 0, 2]])
    phi = np.linspace(0, 2 * np.pi, n_phi, endpoint=False)
    interp = RegularGridInterpolator((x[:, 0], y[0, :]), m[..., 2])
    pts = np.stack([R_DISK * np.cos(phi), R_DISK * np.sin(phi)], -1)
    pts = np.clip(pts, x.min(), x.max())
    return axis, phi, interp(pts)


def run_2d(out, quick: bool, mask: str = "fraction"):
    cells = [2e-9] if quick else [2e-9, 1e-9, 0.5e-9]
    runs = {}
    for dx in cells:
        x, y, m, magnetic, info = disk_2d(dx, mask)
        c = (x.shape[0] - 1) // 2
        axis, phi, circle = edge_values(x, y, m)
        runs[dx] = dict(x=x, y=y, m=m, magnetic=magnetic, info=info, mz0=float(m[c, c, 2]),
                        mz_edge_axis=float(axis.mean()), mz_edge_circle=float(circle.mean()),
                        circle_spread=float(circle.max() - circle.min()), phi=phi, circle=circle)
        print(f"2D dx={dx * 1e9:g} nm ({mask}): m_z(0)={m[c, c, 2]:.6f} m_z(edge, axis nodes)={axis.mean():.5f} "
              f"m_z(r=50 nm, interpolated, mean over φ)={circle.mean():.5f} (spread {circle.max() - circle.min():.1e})"
              f" iterations={info['iterations']} {info['seconds']:.1f} s", flush=True)
    r = runs[cells[-1]]
    x, y, m, magnetic = r["x"], r["y"], r["m"], r["magnetic"]
    c = (x.shape[0] - 1) // 2
    write_csv(out / "dmi_2d_profile.csv", {"r": x[c:, c], "mx": m[c:, c, 0], "my": m[c:, c, 1], "mz": m[c:, c, 2]})
    write_csv(out / "dmi_2d_edge.csv", {"phi": r["phi"], "mz": r["circle"]})
    write_csv(out / "dmi_2d_convergence.csv",
              {"dx": list(runs), "mz_center": [v["mz0"] for v in runs.values()],
               "mz_edge_axis": [v["mz_edge_axis"] for v in runs.values()],
               "mz_edge_circle": [v["mz_edge_circle"] for v in runs.values()],
               "iterations": [v["info"]["iterations"] for v in runs.values()],
               "seconds": [v["info"]["seconds"] for v in runs.values()]})

    fig, (ax, ax2) = figure(1, 2, figsize=(10, 4.2))
    for dx, v in runs.items():
        cc = (v["x"].shape[0] - 1) // 2
        ax.plot(v["x"][cc:, cc] * 1e9, v["m"][cc:, cc, 2], ".-", ms=3, lw=0.8, label=f"$m_z$, {dx * 1e9:g} nm cells")
    rr = np.hypot(x, y)[magnetic]
    ax.plot(rr * 1e9, m[..., 2][magnetic], ".", ms=1, color="gray", alpha=0.4, label=f"all nodes ({cells[-1] * 1e9:g} nm)")
    ax.plot(x[c:, c] * 1e9, m[c:, c, 0], "-", lw=0.8, label="$m_r$ (+x radius)")
    ax.plot([50], [MZ_EDGE_2D_REF], "k*", ms=10, label="Cortés-Ortuño et al. edge −0.7605")
    ax.set_xlabel("r (nm)")
    ax.set_ylabel("m")
    ax.set_title(f"DMI 2D disk: skyrmion profile ({nm.config.backend})")
    ax.legend(fontsize=7, loc="upper right")
    mz = np.where(magnetic, m[..., 2], np.nan)
    im = ax2.pcolormesh(x * 1e9, y * 1e9, mz, cmap="RdBu_r", vmin=-1, vmax=1, shading="nearest")
    s = max(1, x.shape[0] // 20)
    sel = (slice(None, None, s), slice(None, None, s))
    q = magnetic[sel]
    ax2.quiver((x[sel] * 1e9)[q], (y[sel] * 1e9)[q], m[sel][..., 0][q], m[sel][..., 1][q], scale=25, width=0.004)
    ax2.add_patch(__import__("matplotlib").patches.Circle((0, 0), 50, fill=False, lw=0.8, ls="--"))
    ax2.set_aspect("equal")
    ax2.set_xlabel("x (nm)")
    ax2.set_ylabel("y (nm)")
    ax2.set_title(f"$m_z$ and in-plane m, {cells[-1] * 1e9:g} nm cells")
    fig.colorbar(im, ax=ax2, shrink=0.8)
    save_figure(fig, out / "dmi_2d.png")

    return result("dmi_2d", dx_nm=cells[-1] * 1e9, mask=mask, mz_center=r["mz0"], mz_edge_axis=r["mz_edge_axis"],
                  mz_edge_circle=r["mz_edge_circle"], mz_edge_ref=MZ_EDGE_2D_REF,
                  mz_edge_coarse=runs[cells[0]]["mz_edge_axis"], dx_coarse_nm=cells[0] * 1e9,
                  iterations=r["info"]["iterations"], seconds=float(r["info"]["seconds"]))


def main(argv=None):
    p = parser(__doc__)
    p.add_argument("--problem", choices=["1d", "2d", "both"], default="both")
    p.add_argument("--mask", choices=["fraction", "staircase"], default="fraction",
                   help="disk region density: area fraction per cell (default) or 1/0 by cell centre")
    args = p.parse_args(argv)
    out = setup(args)
    lines = []
    if args.problem in ("1d", "both"):
        lines.append(run_1d(out, args.quick))
    if args.problem in ("2d", "both"):
        lines.append(run_2d(out, args.quick, args.mask))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
