"""Domain-wall pinning at a phase boundary (Heistracher et al., JMMM 548, 168875 (2022)).

A rod of 80 nm × 1 nm × 1 nm along x, easy axis x, α = 1, no demag. Phase I (x < 0) and phase II (x ≥ 0);
each of the eight cases (akj, ak, aj, a, kj, k, j, none) names the parameters (A, K, Js) that take the soft
value in phase I; all others are hard in both phases. A field along +x pushes a head-to-head wall from
phase I into phase II; the pinning field is compared with the analytic value (Eq. 28)

    µ0 H_p = µ0 (2 K_II / Js_II) (1 − ε_K ε_A) / (1 + √(ε_J ε_A))²,   ε_X = X_I / X_II,

and with the published dynamic results (NeuralMag paper, magnum.af).

Discretisation (``--scheme``): ``projected`` (default) integrates the exchange and anisotropy energies of the
interpolant projected onto the unit sphere, m/|m|, with 3 Gauss points per cell (``ExchangeField(projected=True)``,
``UniaxialAnisotropyField(projected=True)``); ``standard`` uses the plain forms (exchange of the linear
interpolant, anisotropy with the nodal rule). The soft-A wall is √(A/K) = 1.6 nm wide, so on the specified 1 nm
cells m turns by up to ~60° per cell; there the linear interpolant is markedly shorter than 1 and the standard
forms make the wall too soft at the boundary (case a: +9 % on 1 nm, converging as h²); the projected forms are
within 0.35 % of Eq. 28 in every case on 1 nm.

Protocols (``--protocol``):

* ``quasistatic``: energy minimisation (nm.EnergyMinimizer) at stepped fields 0.01 T, 0.1 T, 0.2 T, ... until
  the wall leaves the phase boundary, then bisection between the last pinned and the first depinned field.
  The specified 1 nm mesh is repeated at 0.5 nm (and 0.25 nm without ``--quick``): the pinning field
  converges with the square of the cell size, and the Richardson extrapolation of the two finest meshes is
  the quasi-static continuum value compared with Eq. 28.
* ``dynamic``: the published protocol on the 1 nm mesh: LLG (α = 1) with the ramp µ0 H_x = r t,
  r = 2e7 T/s; the pinning field is the field at which ⟨m_x⟩ first reaches 0.999.

Writes ``dw_pinning.csv`` and ``dw_pinning.png`` to ``--out`` and prints ``RESULT dw_pinning ...``.

``--quick`` (the default test): quasi-static only, on 1 nm and 0.5 nm, the scan of the pinning cases at 0.5, 0.9,
1.0, ... × Eq. 28, bisection to 2e-3. ``--dyn-cells 80 160`` adds the ramp on 0.5 nm cells (about 15 min).

    python demos/dw_pinning.py [--backend jax|torch] [--quick] [--scheme projected|standard]
                               [--protocol quasistatic|dynamic|both]
                               [--dyn-cells 80 [160]] [--out results]
"""

from __future__ import annotations

import time

import numpy as np

import neuralmag as nm
from validation_common import figure, parser, result, save_figure, setup, write_csv

MU0 = 4e-7 * np.pi
LENGTH = 80e-9
HARD = {"A": 1.0e-11, "K": 1.0e6, "Js": 1.00}
SOFT = {"A": 2.5e-12, "K": 1.0e5, "Js": 0.25}
CASES = ["akj", "ak", "aj", "a", "kj", "k", "j", "none"]
#: published dynamic results (µ0 H_p in T), Heistracher et al. / NeuralMag paper
PAPER = {"akj": 1.580, "ak": 1.112, "aj": 1.205, "a": 0.867, "kj": 1.012, "k": 0.571}
MAGNUMAF = {"akj": 1.585, "ak": 1.116, "aj": 1.256, "a": 0.868, "kj": 1.020, "k": 0.582}
RATE = 2e7  # T/s


def analytic(case: str) -> float:
    """µ0 H_p (T) of Eq. 28 for ``case`` (0 for j and none)."""
    eps = {key: (SOFT[key] / HARD[key] if flag in case else 1.0) for key, flag in (("A", "a"), ("K", "k"), ("Js", "j"))}
    hp = 2 * HARD["K"] / HARD["Js"] * (1 - eps["K"] * eps["A"]) / (1 + np.sqrt(eps["Js"] * eps["A"])) ** 2
    return float(MU0 * hp)


def nucleation_field(case: str, cells: int = 800) -> float:
    """µ0 H_n (T): the field along +x at which the uniform reversed rod (m = −x everywhere, the state left when
    the wall leaves through phase I) becomes linearly unstable.

    Small deviations u ⊥ x̂ cost ∫ A u'² + (K − µ0 Ms H / 2) u² dx, so µ0 H_n = 2 λ_min of
    −(A u')' + K u = λ Ms u with free ends (linear elements, lumped mass; converged to 4 digits at 0.1 nm).
    Without a wall the rod can only reverse by this instability, or, under a ramp, somewhat later.
    """
    from scipy.linalg import eigh

    dx = LENGTH / cells
    soft = -LENGTH / 2 + (np.arange(cells) + 0.5) * dx < 0
    value = {key: np.where(soft & (flag in case), SOFT[key], HARD[key]) for key, flag in (("A", "a"), ("K", "k"),
                                                                                         ("Js", "j"))}
    stiffness = np.zeros((cells + 1, cells + 1))
    potential, moment = np.zeros(cells + 1), np.zeros(cells + 1)
    for c in range(cells):
        stiffness[c:c + 2, c:c + 2] += value["A"][c] / dx * np.array([[1.0, -1.0], [-1.0, 1.0]])
        potential[c:c + 2] += value["K"][c] * dx / 2
        moment[c:c + 2] += value["Js"][c] / MU0 * dx / 2
    lowest = eigh(stiffness + np.diag(potential), np.diag(moment), eigvals_only=True, subset_by_index=[0, 0])[0]
    return 2.0 * lowest


class Rod:
    """The rod on a 1D mesh of ``n`` cells (cell size 80 nm / n) with exchange, uniaxial anisotropy and an
    applied field. The state is built once; :meth:`set_case` only replaces material values, so the generated
    (and jitted) functions are reused for all cases. ``field`` is a constant (quasi-static) or a callable of
    ``t`` (the dynamic ramp)."""

    def __init__(self, n: int = 80, field=(0.0, 0.0, 0.0), projected: bool = True):
        self.n = n
        self.state = state = nm.State(nm.Mesh((n,), (LENGTH / n, 1e-9, 1e-9), origin=(-LENGTH / 2, 0, 0)))
        self.xc = state.coordinates("c", numpy=True)[0]
        self.xn = state.coordinates("n", numpy=True)[0]
        self.set_case("none")
        state.material.Ku_axis = (1.0, 0.0, 0.0)
        state.material.alpha = 1.0
        self.init_m("spec")
        nm.ExchangeField(projected=projected).register(state)
        nm.UniaxialAnisotropyField(projected=projected).register(state)
        nm.ExternalField(field).register(state)
        nm.TotalField("exchange", "uniaxial", "external").register(state)

    def set_case(self, case: str) -> None:
        soft_phase = self.xc < 0
        for key, flag, name in (("A", "a", "A"), ("K", "k", "Ku"), ("Js", "j", "Ms")):
            value = np.where(soft_phase & (flag in case), SOFT[key], HARD[key])
            setattr(self.state.material, name, value / MU0 if key == "Js" else value)

    def init_m(self, kind: str = "spec") -> None:
        """``"spec"``: (+1, 0.3, 0) for x < 0, (−1, 0.3, 0) for x ≥ 0 (normalised); ``"tanh"``: a smooth wall of
        the hard-phase width √(A/K) centred on the phase boundary."""
        m = np.zeros((self.n + 1, 3))
        if kind == "spec":
            m[:, 0] = np.where(self.xn < 0, 1.0, -1.0)
            m[:, 1] = 0.3
        else:
            u = self.xn / np.sqrt(HARD["A"] / HARD["K"])
            m[:, 0], m[:, 1] = -np.tanh(u), 1 / np.cosh(u)
        self.state.m = m

    def set_field(self, b: float) -> None:
        """A constant applied field µ0 H_x = ``b`` (T)."""
        self.state.h_external_applied = nm.VectorFunction(self.state).fill((b / MU0, 0.0, 0.0))

    def mx(self) -> float:
        return float(self.state.to_numpy(self.state.m.tensor)[:, 0].mean())


class Depinning:
    """Quasi-static protocol on one :class:`Rod`.

    :meth:`relax` minimises at a field starting from a given state and classifies the result: *pinned* when the
    minimiser converged (max |m × h|/|h| < ``tol``) with the wall still near the boundary (⟨m_x⟩ < 0.5),
    *depinned* as soon as ⟨m_x⟩ > 0.5 (the wall is 20 nm deep in phase II, which has no pinning) or, with
    ``saturate=True``, only once the wall has left the rod (⟨m_x⟩ ≥ 0.999).
    """

    def __init__(self, rod: Rod, tol: float = 1e-8, chunk: int = 500, max_iter: int = 400_000):
        self.rod, self.tol, self.max_iter = rod, tol, max_iter
        self.minimizer = nm.EnergyMinimizer(rod.state, tol=tol, max_iter=chunk)
        self.iterations = 0
        self.minimisations = 0

    def relax(self, b: float, m0=None, saturate: bool = False) -> bool:
        """Minimise at field ``b`` (T) from ``m0`` (default: current m); True if the wall depinned."""
        rod = self.rod
        if m0 is not None:
            rod.state.assign_m(m0)
        rod.set_field(b)
        self.minimisations += 1
        threshold = 0.999 if saturate else 0.5
        it = 0
        while it < self.max_iter:
            info = self.minimizer.minimize()
            it += info["iterations"]
            mx = rod.mx()
            if mx >= threshold:
                self.iterations += it
                return True
            if info["torque"] < self.tol and mx < 0.5:
                self.iterations += it
                return False
        raise RuntimeError(f"no convergence at µ0H = {b} T after {it} iterations (torque {info['torque']:.2e}, "
                           f"⟨m_x⟩ = {mx:.4f}); raise max_iter")

    def run(self, case: str, rel_tol: float = 1e-4, fields=None, confirm: bool = True):
        """Pinning field (T) of ``case``.

        Minimises at the ``fields`` (default 0.01 T, 0.1 T, 0.2 T, ..., 3 T), each from the relaxed state at the
        previous one, until the wall depins; then bisects between the last pinned field ``lo`` (starting every
        trial from the pinned state at ``lo``) and the first depinned one ``hi`` to ``hi − lo ≤ rel_tol · hi``.
        With ``confirm``, ``hi`` is finally re-run from the last pinned state until the wall has left the rod
        (⟨m_x⟩ ≥ 0.999); should the wall stay pinned there (the minimiser's non-monotone steps can carry a wall
        over a tiny barrier when started farther away), ``hi`` becomes the new ``lo`` and bisection goes on.
        Returns a dict: ``field`` (bracket midpoint), ``bracket``, ``first_step`` (depinned at the first field),
        minimisations, iterations, retries and the fields at which the wall was expelled through phase I.
        """
        rod = self.rod
        rod.set_case(case)
        rod.init_m("tanh")
        self.iterations = self.minimisations = 0
        fields = list(fields) if fields is not None else [0.01] + [0.1 * k for k in range(1, 31)]
        lo, hi, m_lo, expelled, retries = 0.0, None, None, [], 0
        for b in fields:
            if self.relax(b):
                hi = b
                break
            lo = b
            if rod.mx() < -0.5:
                # the wall left the rod through phase I: at low fields the field pressure is too weak to hold it
                # at the boundary against the attraction of the free end; restart from a wall on the boundary
                expelled.append(float(b))
                rod.init_m("tanh")
                m_lo = None
            else:
                m_lo = rod.state.m.tensor
        if hi is None:
            raise RuntimeError(f"{case}: no depinning up to {fields[-1]} T")
        first_step = hi == fields[0]
        if not first_step and m_lo is None:
            raise RuntimeError(f"{case}: no pinned wall below the depinning field {hi} T")
        depinned = [hi]
        while True:
            while not first_step and hi - lo > rel_tol * hi:
                mid = 0.5 * (lo + hi)
                if self.relax(mid, m_lo):
                    hi = mid
                    depinned.append(mid)
                else:
                    lo, m_lo = mid, rod.state.m.tensor
            if not confirm or self.relax(hi, m_lo, saturate=True):
                break
            retries += 1
            lo, m_lo = hi, rod.state.m.tensor
            above = [f for f in depinned if f > lo]
            if above:
                hi = min(above)
                continue
            for b in (f for f in fields if f > lo):  # no depinned field above: scan on from the pinned state
                if self.relax(b, m_lo):
                    hi = b
                    depinned.append(b)
                    break
                lo, m_lo = b, rod.state.m.tensor
            else:
                raise RuntimeError(f"{case}: no depinning up to {fields[-1]} T")
        field = hi if first_step else 0.5 * (lo + hi)
        return {"field": field, "bracket": (lo, hi), "first_step": first_step, "iterations": self.iterations,
                "minimisations": self.minimisations, "retries": retries, "expelled": expelled}


def ladder(case: str, quick: bool = False) -> list:
    """Fields (T) of the quasi-static scan: 0.01 T, 0.1 T, 0.2 T, ..., 3 T; with ``quick`` the wall-pinning
    cases scan 0.5, 0.9, 1.0, 1.1, ... × Eq. 28 (the first step lets the smooth initial wall settle at the
    boundary: relaxed directly at 0.9 × Eq. 28, the minimiser carries it over the barrier in case aj), j and
    none start at 0.01 T as always."""
    h = analytic(case)
    if quick and h > 0:
        return [h * f for f in (0.5, 0.9, 1.0, 1.1, 1.2, 1.4, 1.7, 2.0)]
    return [0.01] + [0.1 * k for k in range(1, 31)]


def quasistatic(cases=CASES, cells=(80, 160), rel_tol=1e-4, quick=False, log=print, projected=True, **kwargs) -> dict:
    """Pinning fields ``{n: {case: run-dict}}`` for every mesh in ``cells`` (80 = the specified 1 nm cells);
    with ``quick`` the scan starts near the analytic value (:func:`ladder`) and the cases with analytic 0 (j,
    none) run on the first mesh only."""
    out = {}
    for n in cells:
        depin = Depinning(Rod(n, projected=projected))
        out[n] = {}
        for case in cases:
            if quick and n != cells[0] and analytic(case) == 0:
                continue
            t0 = time.perf_counter()
            r = depin.run(case, rel_tol=rel_tol, fields=ladder(case, quick), **kwargs)
            r["seconds"] = time.perf_counter() - t0
            out[n][case] = r
            log(f"  quasi-static {n:4d} cells {case:5s} µ0Hp = {r['field']:.5f} T (analytic {analytic(case):.4f}), "
                f"{r['minimisations']} minimisations, {r['iterations']} iterations, {r['seconds']:.1f} s"
                + (f"; wall expelled through phase I at {r['expelled']} T" if r["expelled"] else "")
                + (f"; {r['retries']} re-bracketings" if r["retries"] else ""))
    return out


def richardson(coarse: float, fine: float) -> float:
    """Second-order extrapolation from cell sizes h (coarse) and h/2 (fine)."""
    return (4 * fine - coarse) / 3


def dynamic(cases=CASES, cells=80, rate=RATE, dt=5e-11, b_max=2.0, log=print, projected=True) -> dict:
    """The published ramp (on the 1 nm mesh by default): ``{case: {"field", "seconds", "steps"}}``. ⟨m_x⟩ is
    sampled every ``dt`` (field resolution ``rate * dt``) and the crossing of 0.999 is interpolated linearly."""
    rod = Rod(cells, field=lambda t: (rate * t / MU0, 0.0, 0.0), projected=projected)
    llg = nm.LLGSolver(rod.state)
    out = {}
    for case in cases:
        t0, steps0 = time.perf_counter(), llg.num_steps
        rod.set_case(case)
        rod.init_m("spec")
        rod.state.t = 0.0
        # the initial state has an abrupt wall (one node to the next): let the adaptive solver start on a short
        # first interval (its initial step-size guess fails on the full one in case kj: NaN, SolverError)
        llg.step(1e-12)
        t_prev, mx_prev, field = float(rod.state.t), rod.mx(), float("nan")
        expelled = float("nan")  # field at which the wall had left the rod through phase I (⟨m_x⟩ ≤ −0.999)
        while rate * t_prev < b_max:
            llg.step(dt)
            t, mx = float(rod.state.t), rod.mx()
            if mx <= -0.999 and not np.isfinite(expelled):
                expelled = rate * t
            if mx >= 0.999:
                t_cross = t_prev + (0.999 - mx_prev) / (mx - mx_prev) * (t - t_prev)
                field = rate * t_cross
                break
            t_prev, mx_prev = t, mx
        out[case] = {"field": field, "seconds": time.perf_counter() - t0, "steps": llg.num_steps - steps0,
                     "expelled": expelled}
        log(f"  dynamic {cells:4d} cells {case:5s} µ0Hp = {field:.4f} T (analytic {analytic(case):.4f}), "
            f"{out[case]['steps']} solver steps, {out[case]['seconds']:.1f} s"
            + (f"; the wall left the rod through phase I by {expelled * 1e3:.0f} mT" if np.isfinite(expelled) else ""))
    return out


def rel_err(value, ref):
    return abs(value - ref) / ref if ref else float("nan")


def plot(cols: dict, path, cells=None, dyn_cells=None) -> None:
    """The figure: pinning fields (top) and deviations from Eq. 28 (bottom) of the columns in ``cols`` (as written
    to the CSV); ``cells`` / ``dyn_cells``: the quasi-static and dynamic meshes, None if not run."""
    fig, (ax, ax2) = figure(2, 1, figsize=(7.5, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    x = np.arange(len(CASES))
    series = [("paper", -0.15, dict(marker="s", mfc="none", color="tab:gray"), "NeuralMag paper (dynamic)"),
              ("magnum_af", 0.15, dict(marker="D", mfc="none", color="tab:brown"), "magnum.af (dynamic)")]
    if cells:
        series += [("qs_80", -0.05, dict(marker="o", color="tab:blue"), "quasi-static, 1 nm"),
                   ("qs_extrap", 0.05, dict(marker="*", ms=9, color="tab:green"),
                    f"quasi-static, extrapolated ({LENGTH / cells[-2] * 1e9:g}/{LENGTH / cells[-1] * 1e9:g} nm)")]
    if dyn_cells:
        series.append(("dynamic", 0.0, dict(marker="x", ms=8, mew=2, color="tab:red"),
                       f"dynamic ramp, {LENGTH / dyn_cells[0] * 1e9:g} nm"))
        series += [(f"dynamic_{n}", 0.1, dict(marker="+", ms=8, mew=2, color="tab:purple"),
                    f"dynamic ramp, {LENGTH / n * 1e9:g} nm") for n in dyn_cells[1:]]
    ax.plot(x, cols["analytic"], "k_", ms=22, mew=2, label="analytic (Eq. 28)")
    ana = np.array(cols["analytic"])
    lim = (-3.0, 12.0)
    clipped = np.zeros(len(CASES), dtype=int)
    for key, dx, style, label in series:
        values = np.array(cols[key], dtype=float)
        ax.plot(x + dx, values, ls="none", label=label, **style)
        err = np.where(ana > 0, 100 * (values / np.where(ana > 0, ana, 1) - 1), np.nan)
        ax2.plot(x + dx, np.clip(err, *lim), ls="none", **style)
        for i, e in enumerate(err):
            if np.isfinite(e) and not lim[0] <= e <= lim[1]:
                ax2.annotate(f"{e:+.0f} %", (x[i] + dx, np.clip(e, *lim)), textcoords="offset points",
                             xytext=(6, -10 - 9 * clipped[i]), fontsize=7, color=style["color"])
                clipped[i] += 1
    ax2.axhline(0, color="k", lw=1)
    ax2.axhspan(-1, 1, color="tab:green", alpha=0.1, lw=0)
    ax2.set_ylim(lim[0] - 0.5, lim[1] + 0.5)
    ax2.set_ylabel("deviation from Eq. 28 (%)")
    ax2.set_xticks(x, CASES)
    ax2.set_xlabel("case (parameters soft in phase I)")
    ax.set_ylabel("pinning field µ0Hp (T)")
    ax.set_title(f"Domain-wall pinning at a phase boundary ({nm.config.backend})")
    ax.legend(fontsize=7)
    save_figure(fig, path)


def main(argv=None):
    p = parser(__doc__)
    p.add_argument("--protocol", choices=["quasistatic", "dynamic", "both"], default=None,
                   help="default: quasistatic with --quick, both otherwise")
    p.add_argument("--scheme", choices=["projected", "standard"], default="projected",
                   help="exchange and anisotropy of the interpolant projected onto the unit sphere (default) or "
                        "the standard forms (anisotropy with the nodal rule)")
    p.add_argument("--dyn-cells", type=int, nargs="+", default=[80],
                   help="meshes (cells along the 80 nm) of the dynamic ramp; the first is the reported one")
    args = p.parse_args(argv)
    out = setup(args)
    protocol = args.protocol or ("quasistatic" if args.quick else "both")
    cells = (80, 160) if args.quick else (80, 160, 320)
    rel_tol = 2e-3 if args.quick else 1e-4
    nan = float("nan")
    metrics = {}
    t_start = time.perf_counter()

    qs = dyn = None
    if protocol in ("quasistatic", "both"):
        t0 = time.perf_counter()
        qs = quasistatic(cells=cells, rel_tol=rel_tol, quick=args.quick, projected=args.scheme == "projected")
        metrics["qs_s"] = time.perf_counter() - t0
    if protocol in ("dynamic", "both"):
        t0 = time.perf_counter()
        dyn = {n: dynamic(cells=n, projected=args.scheme == "projected") for n in args.dyn_cells}
        metrics["dyn_s"] = time.perf_counter() - t0

    cols = {"case": np.arange(len(CASES)), "analytic": [analytic(c) for c in CASES]}
    pinned = [c for c in CASES if analytic(c) > 0]
    if qs is not None:
        for n in cells:
            cols[f"qs_{n}"] = [qs[n][c]["field"] if c in qs[n] else nan for c in CASES]
        cols["qs_extrap"] = [richardson(cols[f"qs_{cells[-2]}"][i], cols[f"qs_{cells[-1]}"][i]) if analytic(c) > 0
                             else nan for i, c in enumerate(CASES)]
        cols["rel_err_qs_1nm"] = [rel_err(qs[80][c]["field"], analytic(c)) for c in CASES]
        cols["rel_err_qs_extrap"] = [rel_err(e, analytic(c)) for e, c in zip(cols["qs_extrap"], CASES)]
        cols["qs_first_step"] = [float(qs[80][c]["first_step"]) for c in CASES]
        errs = [rel_err(qs[80][c]["field"], analytic(c)) for c in pinned]
        errs_fine = [rel_err(qs[cells[-1]][c]["field"], analytic(c)) for c in pinned]
        errs_x = [rel_err(cols["qs_extrap"][CASES.index(c)], analytic(c)) for c in pinned]
        metrics.update(max_rel_err_qs=max(errs_x), max_rel_err_qs_1nm=max(errs),
                       max_rel_err_qs_finest=max(errs_fine), finest_cells=cells[-1],
                       zero_cases_first_step=int(all(qs[n][c]["first_step"] for n in cells for c in ("j", "none")
                                                         if c in qs[n])),
                       pinned_first_step=int(any(qs[n][c]["first_step"] for n in cells for c in pinned)))
    if dyn is not None:
        for n in args.dyn_cells[1:]:
            cols[f"dynamic_{n}"] = [dyn[n][c]["field"] for c in CASES]
            cols[f"rel_err_dyn_{n}"] = [rel_err(dyn[n][c]["field"], analytic(c)) for c in CASES]
        dyn = dyn[args.dyn_cells[0]]
        cols["dynamic"] = [dyn[c]["field"] for c in CASES]
        cols["dyn_expelled_at"] = [dyn[c]["expelled"] for c in CASES]
        cols["rel_err_dyn"] = [rel_err(dyn[c]["field"], analytic(c)) for c in CASES]
        errs_dyn = [rel_err(dyn[c]["field"], analytic(c)) for c in pinned]
        errs_paper = [rel_err(PAPER[c], analytic(c)) for c in pinned]
        metrics.update(max_rel_err_dyn=max(errs_dyn), max_rel_err_paper=max(errs_paper),
                       n_dyn_not_worse_than_paper=sum(e <= ep + 1e-12 for e, ep in zip(errs_dyn, errs_paper)),
                       n_dyn_expelled=sum(bool(np.isfinite(dyn[c]["expelled"])) for c in pinned),
                       max_rel_err_dyn_held=max([e for e, c in zip(errs_dyn, pinned)
                                                 if not np.isfinite(dyn[c]["expelled"])], default=nan))
    cols["nucleation"] = [nucleation_field(c) for c in CASES]  # of the rod without a wall (see nucleation_field)
    cols["paper"] = [PAPER.get(c, nan) for c in CASES]
    cols["magnum_af"] = [MAGNUMAF.get(c, nan) for c in CASES]
    cols["rel_err_paper"] = [rel_err(PAPER.get(c, nan), analytic(c)) for c in CASES]
    cols["rel_err_magnum_af"] = [rel_err(MAGNUMAF.get(c, nan), analytic(c)) for c in CASES]
    write_csv(out / "dw_pinning.csv", cols)
    with open(out / "dw_pinning_cases.txt", "w") as f:  # the case index of the CSV
        f.write("\n".join(f"{i},{c}" for i, c in enumerate(CASES)) + "\n")

    plot(cols, out / "dw_pinning.png", cells if qs is not None else None, args.dyn_cells if dyn is not None else None)
    metrics["total_s"] = time.perf_counter() - t_start
    print(f"wrote {out / 'dw_pinning.csv'} and {out / 'dw_pinning.png'}")
    return result("dw_pinning", scheme=args.scheme, **metrics)


if __name__ == "__main__":
    main()
