r"""Topology optimisation of a permanent magnet: maximise the stray field H_z at a probe above it.

A hard-magnetic cuboid of 100 nm × 100 nm × 50 nm, magnetised uniformly along +z (m fixed: a hard magnet), is
the design region. A SIMP density ρ ∈ [0, 1] per cell scales the magnetisation, the demagnetisation field is
evaluated on ρ³ M_s m, and the objective is to **maximise H_z at a probe 5 nm above the centre of the top
surface**. Material at the sides of the block contributes a negative H_z at the probe (the return flux of a
dipole), so the full block is not optimal: for a point dipole along z a cell at offset (x, y, z) from the probe
adds H_z ∝ (2z² − x² − y²)/r⁵, positive only inside the cone x² + y² < 2 z² below the probe.

Method (the A5 pattern of the design notes): the design variable is ``state.rho_m``; the region density is the
dynamic attribute ``state.rho = lambda rho_m: rho_m * design_mask + probe_weight``, and
``state.resolve("h_demag", ["rho_m"])`` turns the stray field into one pure function of ``rho_m``. The gradient
of H_z(ρ³) is one reverse pass (``jax.grad`` / ``torch.autograd``); the optimiser is Adam with a projection onto
[0, 1] (``optax.adam`` + ``optax.projections.projection_box`` with JAX, ``torch.optim.Adam`` + clamping with
PyTorch).

The probe lies in empty space. The nodal demag field is the M_s ρ-weighted mean of the dual-grid field over
the node's dual box, hence zero where M_s ρ = 0. The mesh therefore extends two cell layers above the magnet,
and the eight cells around the probe node get a tiny density ``PROBE_WEIGHT`` (1e-9, outside the design
region): the nodal field there is then the mean stray field over the probe's dual box (one cell in size),
and the probe's own magnetisation changes it by ~1e-9 relative.

Writes to ``--out``: ``topology_optimisation.vti`` (the final design ρ as ``rho_m``, the region density
``rho`` = ρ³ in the magnet and the probe weight, the final ``h_demag``), ``topology_optimisation.png``
(slices of the design with the analytic cone, and the convergence curve),
``topology_optimisation_convergence.csv`` / ``.png``, and prints
``RESULT topology_optimisation hz_initial=... hz_final=... iterations=... volume_fraction=...`` (H_z in A/m).

    python demos/topology_optimisation.py [--backend jax|torch] [--quick] [--iterations N] [--lr 0.1]
                                          [--out results]
"""

from __future__ import annotations

import time

import numpy as np

import neuralmag as nm
import validation_common as vc

MS = 1.2e6  # A/m (a hard magnet, e.g. NdFeB-like)
SIZE = (100e-9, 100e-9, 50e-9)  # magnet (m)
GAP = 5e-9  # probe height above the top surface (m)
PROBE_WEIGHT = 1e-9  # density of the eight empty cells around the probe node
CELL = 5e-9  # default cell size (m); --quick uses 10 nm laterally
LAYERS_ABOVE = 2  # empty cell layers above the magnet (dx_z = GAP)


def build_state(cell_xy: float = CELL, magnetisation=(0.0, 0.0, 1.0), size=SIZE):
    """The magnet of ``size`` (the design region; cells of ``cell_xy`` laterally and ``GAP`` vertically), two
    empty cell layers above it and the probe weight.

    Returns ``(state, probe)``: ``state.rho_m`` is the design density (all ones), ``state.rho`` the dynamic
    region density, ``h_demag`` is registered, and ``probe`` is the index of the probe node.
    """
    nx, ny, nz = round(size[0] / cell_xy), round(size[1] / cell_xy), round(size[2] / GAP)
    if nx % 2 or ny % 2:
        raise ValueError("the lateral cell count must be even (probe on the central node)")
    mesh = nm.Mesh((nx, ny, nz + LAYERS_ABOVE), (cell_xy, cell_xy, GAP))
    state = nm.State(mesh)
    state.material.Ms = MS
    state.m = nm.VectorFunction(state).fill(tuple(magnetisation))
    probe = (nx // 2, ny // 2, nz + 1)
    design = np.zeros(mesh.n)
    design[:, :, :nz] = 1.0
    weight = np.zeros(mesh.n)
    weight[probe[0] - 1:probe[0] + 1, probe[1] - 1:probe[1] + 1, probe[2] - 1:probe[2] + 1] = PROBE_WEIGHT
    design_mask, probe_weight = state.tensor(design), state.tensor(weight)
    state.design_mask = design_mask
    state.rho_m = nm.CellFunction(state).fill(1.0)
    state.rho = lambda rho_m: rho_m * design_mask + probe_weight
    nm.DemagField().register(state, "demag")
    return state, probe


def hz_function(state, probe, component: int = 2, simp: float = 3.0):
    """``f(rho_m) = h_demag[probe, component]`` (A/m) of the design ``rho_m ** simp``: a pure function."""
    h_of_rho = state.resolve("h_demag", ["rho_m"])

    def hz(rho_m):
        return h_of_rho(rho_m ** simp)[probe + (component,)]

    return hz


def hz_cuboid_axis(height: float = GAP, size=SIZE, ms: float = MS) -> float:
    """Exact H_z (A/m) on the axis of a cuboid magnetised along z at ``height`` above its top face: the two
    charged faces, each giving (σ/π) atan(ab / (d √(a² + b² + d²))) at distance d (a, b half widths)."""
    a, b = size[0] / 2, size[1] / 2

    def face(d):
        return np.arctan(a * b / (d * np.sqrt(a * a + b * b + d * d)))

    return ms / np.pi * (face(height) - face(height + size[2]))


def cell_offsets(state, probe):
    """Offsets (x, y, z) of the cell centres from the probe node (m), each of the cell shape."""
    mesh = state.mesh
    centres = [(np.arange(n) + 0.5) * d for n, d in zip(mesh.n, mesh.dx)]
    x, y, z = np.meshgrid(*centres, indexing="ij")
    return x - probe[0] * mesh.dx[0], y - probe[1] * mesh.dx[1], z - probe[2] * mesh.dx[2]


def analytic_topology(state, probe):
    """1 where a point dipole along z at the cell centre adds a positive H_z at the probe:
    x² + y² < 2 z² (offsets from the probe), restricted to the design region."""
    x, y, z = cell_offsets(state, probe)
    return ((x**2 + y**2 < 2 * z**2) & (np.asarray(_numpy(state.design_mask)) > 0)).astype(float)


def _numpy(x):
    if isinstance(x, nm.Function):
        return x.numpy()
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def optimise(state, probe, iterations: int, lr: float = 0.1):
    """Projected Adam on ``rho_m`` ∈ [0, 1] maximising H_z(ρ³) at the probe; returns ``(rho_m, history)``
    with ``history`` the H_z (A/m) before each step and after the last."""
    hz = hz_function(state, probe)
    scale = 1.0 / MS
    rho0 = state.rho_m.tensor
    history = []
    if state.backend.name == "jax":
        import jax
        import optax

        value_and_grad = jax.jit(jax.value_and_grad(lambda r: -scale * hz(r)))
        opt = optax.adam(lr)
        rho, opt_state = rho0, opt.init(rho0)
        for _ in range(iterations):
            loss, grad = value_and_grad(rho)
            history.append(-float(loss) / scale)
            updates, opt_state = opt.update(grad, opt_state, rho)
            rho = optax.projections.projection_box(optax.apply_updates(rho, updates), 0.0, 1.0)
        history.append(-float(value_and_grad(rho)[0]) / scale)
        return rho, np.array(history)
    import torch

    rho = rho0.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([rho], lr=lr)
    for _ in range(iterations):
        opt.zero_grad()
        loss = -scale * hz(rho)
        loss.backward()
        history.append(-float(loss.detach()) / scale)
        opt.step()
        with torch.no_grad():
            rho.clamp_(0.0, 1.0)
    with torch.no_grad():
        history.append(float(hz(rho)))
    return rho.detach(), np.array(history)


def plot(state, probe, rho_m, history, path_topology, path_convergence):
    mesh = state.mesh
    design = _numpy(state.design_mask) > 0
    rho = np.where(design, np.asarray(_numpy(rho_m)), np.nan)
    nz = int(design[0, 0].sum())
    ext_xz = [0, mesh.n[0] * mesh.dx[0] * 1e9, 0, nz * mesh.dx[2] * 1e9]
    fig, axes = vc.figure(1, 3, figsize=(13, 3.9))
    ax = axes[0]
    j = probe[1] - 1
    im = ax.imshow(rho[:, j, :nz].T, origin="lower", extent=ext_xz, vmin=0, vmax=1, cmap="viridis",
                   aspect="equal")
    px, pz = probe[0] * mesh.dx[0] * 1e9, probe[2] * mesh.dx[2] * 1e9
    yc = (j + 0.5) * mesh.dx[1] * 1e9
    dy = yc - probe[1] * mesh.dx[1] * 1e9
    zz = np.linspace(0, pz - abs(dy) / np.sqrt(2), 100)
    for sign in (-1, 1):  # the cone x² + y² = 2 z² (offsets from the probe) in this slice
        ax.plot(px + sign * np.sqrt(np.maximum(2 * (pz - zz) ** 2 - dy**2, 0)), zz, "w--", lw=1.2)
    ax.set_xlim(ext_xz[:2])
    ax.set_ylim(0, pz + 2)
    ax.plot([px], [pz], "r*", ms=10, clip_on=False)
    ax.set_xlabel("x (nm)")
    ax.set_ylabel("z (nm)")
    ax.set_title(f"design ρ, xz slice at y = {yc:.1f} nm")
    ax = axes[1]
    k = nz // 2
    ext_xy = [0, mesh.n[0] * mesh.dx[0] * 1e9, 0, mesh.n[1] * mesh.dx[1] * 1e9]
    ax.imshow(rho[:, :, k].T, origin="lower", extent=ext_xy, vmin=0, vmax=1, cmap="viridis", aspect="equal")
    depth = pz - (k + 0.5) * mesh.dx[2] * 1e9
    t = np.linspace(0, 2 * np.pi, 200)
    ax.plot(px + np.sqrt(2) * depth * np.cos(t), probe[1] * mesh.dx[1] * 1e9 + np.sqrt(2) * depth * np.sin(t), "w--",
            lw=1.2)
    ax.set_xlim(ext_xy[:2])
    ax.set_ylim(ext_xy[2:])
    ax.set_xlabel("x (nm)")
    ax.set_ylabel("y (nm)")
    ax.set_title(f"design ρ, xy slice at z = {(k + 0.5) * mesh.dx[2] * 1e9:.1f} nm")
    fig.colorbar(im, ax=axes[1], fraction=0.046, pad=0.04, label="ρ")
    ax = axes[2]
    ax.plot(np.arange(len(history)), np.asarray(history) / 1e3, "o-", ms=2)
    ax.set_xlabel("iteration")
    ax.set_ylabel("H_z at the probe (kA/m)")
    ax.set_title("convergence")
    ax.grid(alpha=0.3)
    vc.save_figure(fig, path_topology)
    fig, ax = vc.figure(figsize=(5, 3.5))
    ax.plot(np.arange(len(history)), np.asarray(history) / 1e3, "o-", ms=2)
    ax.set_xlabel("iteration")
    ax.set_ylabel("H_z at the probe (kA/m)")
    ax.grid(alpha=0.3)
    vc.save_figure(fig, path_convergence)


def main(argv=None) -> str:
    p = vc.parser(__doc__)
    p.add_argument("--iterations", type=int, default=None, help="optimiser steps (default 40, --quick 15)")
    p.add_argument("--lr", type=float, default=0.1, help="Adam learning rate")
    args = p.parse_args(argv)
    out = vc.setup(args)
    iterations = args.iterations or (15 if args.quick else 40)
    cell = 10e-9 if args.quick else CELL
    t0 = time.perf_counter()
    state, probe = build_state(cell)
    rho_m, history = optimise(state, probe, iterations, args.lr)
    seconds = time.perf_counter() - t0
    rho_np = np.asarray(_numpy(rho_m), dtype=float)
    design = _numpy(state.design_mask) > 0
    volume_fraction = float(rho_np[design].mean())
    binary = (rho_np > 0.5) & design
    agreement = float((binary == (analytic_topology(state, probe) > 0))[design].mean())
    state.rho_m = state.tensor(rho_np**3)  # the field of the final design, evaluated on ρ³ M
    state.write_vti(out / "topology_optimisation.vti",
                    [("rho_m", rho_np), ("rho", _numpy(state.rho)), ("h_demag", state.h_demag)])
    vc.write_csv(out / "topology_optimisation_convergence.csv",
                 {"iteration": np.arange(len(history)), "hz": history})
    plot(state, probe, rho_np, history, out / "topology_optimisation.png",
         out / "topology_optimisation_convergence.png")
    return vc.result("topology_optimisation", hz_initial=float(history[0]), hz_final=float(history[-1]),
                     iterations=iterations, volume_fraction=volume_fraction, cone_agreement=agreement,
                     cells=int(design.sum()), seconds=seconds)


if __name__ == "__main__":
    main()
