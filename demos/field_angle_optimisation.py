"""Field-angle optimisation with the adjoint-state method (issue 7, design example A6).

A single-domain particle (one 10 nm cell; exchange and uniaxial anisotropy K_u along z, no demag) starts
along +z. It stays uniform, so the cell of a 1D mesh (two nodes, the default) follows the same trajectory as
the cube (``--dim 3``, eight nodes) with much smaller kernels: eager PyTorch takes 1.2 s per loss and gradient
instead of 8 s. (With 2 nm cells the exchange of the eight-node cube makes the solve stiff: ten times the steps.) A constant field of magnitude H_c/2, H_c = 2 K_u/(µ0 M_s), is applied at the angles
(θ, φ): ``h_ext = H_c/2 (sinθ cosφ, sinθ sinφ, cosθ)`` is a dynamic attribute of ``state.angles``. We look for
the angles that bring the magnetisation to m_target = (1/√2, 0, 1/√2) at T = 0.05 ns:

    loss(θ, φ) = Σ_i mean |m(T_i) − m_target|²     (one term by default, T_1 = T; ``--times`` gives several)

``LLGSolver(state, parameters=["angles"], adjoint=...)`` makes ``llg.solve(ts, angles)`` differentiable; the
gradient comes from the adjoint-state ODE solved backwards in time (``--adjoint backsolve``, the default) or
from discretise-then-optimise with checkpoints (``--adjoint checkpoint``).

* JAX: optimistix BFGS (the solver of ``optx.minimise(loss, optx.BFGS(...), state.angles)``, stepped one
  iteration at a time so that every iteration can be recorded; one iteration = one loss-and-gradient
  evaluation, a rejected line-search step included; the first evaluation, at the start, is iteration 0).
* PyTorch: ``torch.optim.LBFGS`` with a strong-Wolfe line search; the gradient from torchdiffeq's
  ``odeint_adjoint`` (backsolve) or the per-step checkpointing of the torch backend.

Material: M_s = 8e5 A/m, A = 1.3e-11 J/m, K_u = 1e5 J/m³ (H_c = 1.99e5 A/m, field 9.9e4 A/m), α = 0.1.
Then γ H T ≈ 1.1 rad: the field along y (the start, θ = φ = π/2 as in A6) rotates m from z towards +x, and
the target is reached exactly (loss → 0) at θ ≈ 2.155, φ ≈ 0.823.

Writes ``field_angle_optimisation.csv`` (iteration, loss, θ, φ) and ``field_angle_optimisation.png``
(loss on a log scale and the angles per iteration, m(t) at the start and optimal angles).

    python demos/field_angle_optimisation.py [--backend jax|torch] [--quick] [--times T1 T2 ...]
        [--adjoint backsolve|checkpoint] [--out results]
"""

from __future__ import annotations

import time

import numpy as np

import neuralmag as nm
from validation_common import figure, parser, result, save_figure, setup, write_csv

MU0 = 4e-7 * np.pi
MS, A, KU, ALPHA = 8e5, 1.3e-11, 1e5, 0.1
HC = 2 * KU / (MU0 * MS)
T_END = 0.05e-9
M_TARGET = (0.5**0.5, 0.0, 0.5**0.5)
ANGLES0 = (np.pi / 2, np.pi / 2)
SIZE = 10e-9  # cell size (m)
STALL = 5  # JAX: stop after this many BFGS iterations without a change of the loss


def array_module(backend: str):
    if backend == "jax":
        import jax.numpy as jnp

        return jnp
    import torch

    return torch


def build(times=(T_END,), adjoint: str = "backsolve", tol: float = 1e-8, cells=(1,), size: float = SIZE,
          parameters=("angles",)):
    """The particle, its solver and ``loss(*params)`` = Σ_i mean |m(T_i) − m_target|² for the output times
    ``times`` (s). Returns ``(state, llg, loss)``; ``loss`` takes the values of ``parameters`` in order."""
    state = nm.State(nm.Mesh(tuple(cells), (size,) * 3))
    state.material.Ms = MS
    state.material.A = A
    state.material.Ku = KU
    state.material.Ku_axis = (0.0, 0.0, 1.0)
    state.material.alpha = ALPHA
    state.m = nm.VectorFunction(state).fill((0.0, 0.0, 1.0))
    state.angles = state.tensor(list(ANGLES0))
    xp = array_module(state.backend.name)

    def h_ext(angles):
        return HC / 2 * xp.stack([xp.sin(angles[0]) * xp.cos(angles[1]),
                                  xp.sin(angles[0]) * xp.sin(angles[1]),
                                  xp.cos(angles[0])])

    nm.ExchangeField().register(state)
    nm.UniaxialAnisotropyField().register(state)
    nm.ExternalField(h_ext).register(state)
    nm.TotalField("exchange", "uniaxial", "external").register(state)
    llg = nm.LLGSolver(state, parameters=list(parameters), adjoint=adjoint, rtol=tol, atol=tol)
    m_target = nm.VectorFunction(state).fill(M_TARGET).tensor
    ts = state.tensor([0.0, *times])

    def loss(*params):
        ys = llg.solve(ts, *params).ys
        return sum(((ys[i] - m_target) ** 2).mean() for i in range(1, len(ts)))

    return state, llg, loss


def optimise_jax(state, loss, max_iter: int, rtol: float, atol: float, stop_loss: float):
    """optimistix BFGS from ``state.angles``, one jitted step per iteration; returns the history rows
    ``(iteration, loss, θ, φ)`` (iteration 0 = start) and whether the solver's own criterion stopped it.
    Stops at ``stop_loss``, at the solver's Cauchy criterion, or after ``STALL`` iterations without a change."""
    import equinox as eqx
    import jax
    import optimistix as optx

    solver = optx.BFGS(rtol=rtol, atol=atol, norm=optx.max_norm)
    fn = lambda y, args: (loss(y), None)  # noqa: E731 (the solver interface wants (value, aux))
    y = state.angles
    tags = frozenset()
    f_struct = jax.ShapeDtypeStruct((), y.dtype)
    opt_state = solver.init(fn, y, None, {}, f_struct, None, tags)
    step = eqx.filter_jit(lambda y, s: solver.step(fn, y, None, {}, s, tags)[:2])
    terminate = eqx.filter_jit(lambda y, s: solver.terminate(fn, y, None, {}, s, tags)[0])
    rows, done = [], False
    # the first step evaluates loss and gradient at the start (iteration 0) without moving
    for it in range(0, max_iter + 1):
        y, opt_state = step(y, opt_state)
        f = float(opt_state.f_info.f)
        rows.append((it, f, *map(float, y)))
        done = it > 0 and bool(terminate(y, opt_state))
        print(f"iteration {it:3d}: loss = {f:.3e}  theta = {float(y[0]):.6f}  phi = {float(y[1]):.6f}", flush=True)
        # a minimum above zero (several times): at the noise floor of the solve the line search only rejects,
        # and optimistix checks its criterion on accepted steps only: stop after STALL iterations without change
        stalled = it >= STALL and abs(rows[-1 - STALL][1] - f) <= atol + rtol * f
        if done or stalled or f < stop_loss:
            break
    return rows, done


def optimise_torch(state, loss, max_iter: int, rtol: float, atol: float, stop_loss: float):
    """torch.optim.LBFGS (strong Wolfe) from ``state.angles``; one ``opt.step`` per iteration. Stops like
    optimistix's Cauchy criterion: |Δloss| < atol + rtol·loss and max|Δangles| < atol + rtol·max|angles|."""
    import torch

    angles = state.angles.detach().clone().requires_grad_(True)
    opt = torch.optim.LBFGS([angles], lr=1, max_iter=1, history_size=20, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-14, tolerance_change=1e-16)
    evaluations = [0]

    def closure():
        opt.zero_grad()
        value = loss(angles)
        value.backward()
        evaluations[0] += 1
        return value

    with torch.no_grad():
        f = float(loss(angles))
    rows = [(0, f, *angles.detach().tolist())]
    done = False
    for it in range(1, max_iter + 1):
        before = angles.detach().clone()
        opt.step(closure)
        with torch.no_grad():
            f_new = float(loss(angles))
        dy = float((angles.detach() - before).abs().max())
        done = abs(f_new - f) < atol + rtol * f_new and dy < atol + rtol * float(angles.detach().abs().max())
        f = f_new
        rows.append((it, f, *angles.detach().tolist()))
        print(f"iteration {it:3d}: loss = {f:.3e}  theta = {rows[-1][2]:.6f}  phi = {rows[-1][3]:.6f}  "
              f"(evaluations {evaluations[0]})", flush=True)
        if done or f < stop_loss:
            break
    return rows, done


def trajectories(state, llg, angles, n: int = 101):
    """m(t) (node average) on [0, T] for the start and the optimal angles."""
    ts = state.tensor(np.linspace(0.0, T_END, n))
    out = []
    for a in angles:
        ys = llg.solve(ts, state.tensor(np.asarray(a))).ys
        ys = state.to_numpy(ys.detach() if hasattr(ys, "detach") else ys)
        out.append(ys.reshape(n, -1, 3).mean(axis=1))
    return np.linspace(0.0, T_END, n), out


def main(argv=None):
    p = parser(__doc__)
    p.add_argument("--times", type=float, nargs="+", default=[T_END],
                   help="output times T_i (s) of the objective Σ_i mean|m(T_i) − m_target|² (default 5e-11)")
    p.add_argument("--adjoint", choices=["backsolve", "checkpoint"], default="backsolve")
    p.add_argument("--max-iter", type=int, default=50)
    p.add_argument("--dim", type=int, choices=[1, 2, 3], default=1,
                   help="mesh dimension of the one-cell particle (default 1: two nodes, the smallest kernels)")
    args = p.parse_args(argv)
    out = setup(args)
    # --quick: looser integration tolerance, stop once loss < 1e-6
    tol, stop_loss = (1e-6, 1e-6) if args.quick else (1e-8, 1e-12)
    opt_rtol, opt_atol = 1e-8, 1e-10
    times = sorted(args.times)
    t0 = time.perf_counter()
    state, llg, loss = build(times, args.adjoint, tol, cells=(1,) * args.dim)
    optimise = optimise_jax if nm.config.backend == "jax" else optimise_torch
    rows, converged = optimise(state, loss, args.max_iter, opt_rtol, opt_atol, stop_loss)
    seconds = time.perf_counter() - t0
    data = np.array(rows, dtype=float)
    write_csv(out / "field_angle_optimisation.csv",
              {"iteration": data[:, 0], "loss": data[:, 1], "theta": data[:, 2], "phi": data[:, 3]})

    t, (m_start, m_opt) = trajectories(state, llg, [ANGLES0, data[-1, 2:]])
    fig, axes = figure(1, 3, figsize=(13, 3.8))
    ax = axes[0]
    ax.semilogy(data[:, 0], data[:, 1], "o-", ms=3)
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.set_title(f"{nm.config.backend}, adjoint = {args.adjoint}", fontsize=10)
    ax.grid(alpha=0.3)
    ax = axes[1]
    ax.plot(data[:, 0], data[:, 2], "o-", ms=3, label="θ")
    ax.plot(data[:, 0], data[:, 3], "s-", ms=3, label="φ")
    ax.set_xlabel("iteration")
    ax.set_ylabel("field angle (rad)")
    ax.legend()
    ax.grid(alpha=0.3)
    ax = axes[2]
    for k, (c, name) in enumerate(zip("C0 C1 C2".split(), "xyz")):
        ax.plot(t * 1e9, m_start[:, k], "--", color=c, lw=1)
        ax.plot(t * 1e9, m_opt[:, k], "-", color=c, label=f"$m_{name}$")
        ax.axhline(M_TARGET[k], color=c, lw=0.5, ls=":")
    for ti in times:
        ax.axvline(ti * 1e9, color="k", lw=0.5)
    ax.set_xlabel("t (ns)")
    ax.set_title("m(t): start (dashed), optimum (solid)", fontsize=10)
    ax.legend(fontsize=8)
    save_figure(fig, out / "field_angle_optimisation.png")

    return result("field_angle_optimisation", loss_final=float(data[-1, 1]), iterations=int(data[-1, 0]),
                  theta=float(data[-1, 2]), phi=float(data[-1, 3]), converged=converged, adjoint=args.adjoint,
                  times=len(times), seconds=seconds)


if __name__ == "__main__":
    main()
