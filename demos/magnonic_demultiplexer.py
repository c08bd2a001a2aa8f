r"""Inverse design of a magnonic spin-wave demultiplexer with adjoint gradients through the time-domain LLG
(issue 7; after Voronov et al., npj Spintronics 2025).

Device. A YIG-like film (M_s = 1.4e5 A/m, A = 3.5e-12 J/m, α = 2e-4 in the device) of thickness d = 20 nm,
magnetised out of plane by a bias field H_0 ẑ (forward-volume geometry: the spin waves propagate isotropically in
the plane). An antenna strip across the film carries the in-plane field b(t) = b_0 sin(2π f t) x̂ (b_0 = 1 mT,
a dynamic attribute of ``t`` and ``freq``) and launches plane waves towards a design region; behind it lie two
output ports, port 1 at +y and port 2 at −y. Channel 1 (f_1 = 2.6 GHz) should leave through port 1, channel 2
(f_2 = 2.8 GHz) through port 2. A graded absorbing layer (α rising quadratically from 2e-4 to 0.5 over the outer
``absorber`` cells, a cell-wise α map) surrounds the device so that the waves leave the open edges without
reflection.

Design variables. In the design region the saturation magnetisation is

    M_s(r) = M_s (ρ_min + (1 − ρ_min) ρ(r)),   ρ(r) = σ(b + Σ_j w_j φ_j(r)) ∈ (0, 1),   ρ_min = 0.6,

with σ(z) = (1 + tanh(z/2))/2 the logistic function, Gaussian radial basis functions
φ_j(r) = exp(−(x−x_j)²/2s_x² − (y−y_j)²/2s_y²) on a regular grid of centres (widths s = 0.75 × the centre
spacing), and the offset b = logit(0.9), so that the start w = 0 is a uniform film with ρ = 0.9
(M_s = 0.96 M_s). The weights w (``state.rbf_weights``) are the design parameters. Outside the design region
M_s is the film's.
In the forward-volume geometry M_s sets the internal field H_i = H_0 − M_s: lowering M_s raises the bottom of
the local spin-wave band, f_H = γ μ0 (H_0 − M_s ρ̃)/2π (ρ̃ = M_s(r)/M_s), from 1.5 GHz (ρ̃ = 1) to 3.5 GHz
(ρ̃ = ρ_min), so the design can write walls that stop both channels, filters that pass 2.8 GHz but not 2.6 GHz
(2.6 < f_H < 2.8 at ρ̃ ≈ 0.76), and regions of different wavelength (lenses, phase shifters).

Physics of the operating point (SI units; γ μ0 = ``nm.GAMMA`` = 2.2110128e5 m/(A s), γ/2π = 28.0 GHz/T).
Kalinikos–Slavin lowest forward-volume mode of a film of thickness d, uniform across the thickness:

    ω² = ω_H (ω_H + ω_M F(kd)),   ω_H = γμ0 (H_0 − M_s + M_s λ_ex² k²),   ω_M = γμ0 M_s,
    F(x) = 1 − (1 − e^{−x})/x,   λ_ex² = 2A/(μ0 M_s²) = (16.9 nm)².

With H_0 = 1.826e5 A/m (μ0 H_0 = 229.5 mT) the band bottom is f_H = γμ0 (H_0 − M_s)/2π = 1.50 GHz and ω_M/2π =
4.93 GHz: both channels lie inside the band, in its exchange–dipole part (kd ≈ 0.45). Solving the relation
numerically gives λ = 287 nm, v_g = 489 m/s at 2.6 GHz and λ = 258 nm, v_g = 530 m/s at 2.8 GHz; the simulation
(thin-film 2D mesh, one 20 nm cell across the thickness) shows λ = 303 nm and 267 nm (FFT of the wave along the
film axis). A lower bias would make the waves faster but shorter; with f_H = 2.3 GHz they would be 2.5 times
slower, with 570 nm and 410 nm wavelengths.

Discretisation. Thin-film 2D mesh of 25 nm × 25 nm × 20 nm cells: 12 and 11 cells per wavelength (the
second-order exchange stencil shifts k² by (kΔx)²/12 ≈ 2.5 %). Demagnetisation on the cell grid
(``DemagField(grid="cell")``): 3.7 times faster than the default dual grid on this mesh and the wavelengths
differ by 2 % (12.1 vs 12.3 cells at 2.6 GHz); ``--full`` uses the dual grid. The antenna field has a Gaussian
profile along x (standard deviation 1.5 cells) and spans the whole film width (no ends that would launch
short waves), b_0 = 1 mT gives |m_⊥| ≈ 0.025 (linear regime). m(0) = ẑ is the exact equilibrium of a
single-layer film magnetised out of plane (the stray field in the mid-plane is along z), so no relaxation is
needed. Dopri5 with rtol = atol = 1e-5 takes about 40 steps per ns (25 ps steps, 14 per period).

Times. The ports of the CPU configuration are 1.5 µm behind the antenna: the front arrives after about
1.5 µm / 0.5 µm/ns ≈ 3 ns (longer where the design lowers M_s). The intensity is averaged over the window
[t_w, T] = [3.5, 5] ns, sampled at ``samples`` = 16 times:

    I_p(f) = ⟨ mean_{nodes n ∈ port p} (m_x,n² + m_y,n²) ⟩_{t ∈ window}.

Loss. With the contrasts C_1 = I_1(f_1)/I_2(f_1) and C_2 = I_2(f_2)/I_1(f_2) the loss is the negative log
contrast summed over the channels,

    L = −log C_1 − log C_2 = log(I_2(f_1)/I_1(f_1)) + log(I_1(f_2)/I_2(f_2))   (0 for equal ports; unbounded below),

or with ``--tau τ`` the smooth maximum L = τ log Σ_c exp(−log C_c / τ), which puts the gradient on the weaker
channel (the sum lets one contrast grow at the other's expense; docs "Inverse design"). The contrast alone can
also be raised by darkening the target port less than the other one; ``--transmission β`` adds
−β log(I_target / I_target⁰) to each channel loss (I_target⁰: the start design's, so the term is 0 there).

It is invariant under a frequency-independent steering of the waves (I_1/I_2 scaled by the same factor at both
frequencies leaves C_1 C_2 unchanged), so its gradient points at the frequency-selective part of the design. (The
ratio form Σ_c log(1 + 1/C_c) = Σ_c −log(I_target/(I_1 + I_2)) is bounded below, but at the symmetric start its
gradient is dominated by that steering mode, which raises one contrast and lowers the other: in a first trial
with it the loss rose in the first Adam steps.) Every iteration runs
two forward simulations (one per frequency) and two reverse passes; the loss of each channel is differentiated
with ``nm.LLGSolver(state, parameters=["rbf_weights", "freq"], adjoint=...)`` (``freq`` is an input, not a
design variable) and the gradients are summed. The optimiser is Adam (``optax.adam`` with JAX,
``torch.optim.Adam`` with PyTorch) on the weights.

Configurations (cells of 25 nm × 25 nm × 20 nm):

* ``--quick``: 56 × 36 cells, 8 × 5 RBFs, T = 2.4 ns, 3 iterations (the test runs it);
* default (CPU-sized): 104 × 64 cells (2.6 µm × 1.6 µm), design region 44 × 36 cells (1.1 µm × 0.9 µm),
  11 × 9 = 99 RBFs, T = 5 ns, 20 iterations;
* ``--full`` (published size, for a GPU): 512 × 64 cells (12.8 µm × 1.6 µm), 40 × 10 = 400 RBFs on a
  design region of 400 × 40 cells, T = 36 ns (the ports are 11 µm behind the antenna: about 25 ns), window from
  30 ns, 100 iterations, dual-grid demag. Not run here (no GPU in this session).

Writes to ``--out``: ``magnonic_demultiplexer.csv`` (iteration, loss, contrast1, contrast2, the four port
intensities, seconds since the start of the optimisation; row k is the design after k Adam steps, the last row
from the final forward solve), ``magnonic_demultiplexer.png`` (loss and contrasts per iteration, the final
M_s map with antenna and ports, the time-averaged |m_⊥|² maps of both channels for the final design),
``magnonic_demultiplexer_design.npz`` (weights, ρ and M_s maps) and prints
``RESULT magnonic_demultiplexer contrast1_start=... contrast1_end=... contrast2_start=... contrast2_end=...
iterations=... seconds=...``.

    python demos/magnonic_demultiplexer.py [--backend jax|torch] [--quick | --full] [--iterations N]
        [--lr 0.05] [--adjoint checkpoint|backsolve] [--tau T] [--transmission BETA] [--out results]
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

import numpy as np

import neuralmag as nm
import validation_common as vc

MU0 = 4e-7 * np.pi
MS = 1.4e5  # A/m, YIG-like
A_EX = 3.5e-12  # J/m
ALPHA = 2e-4  # damping in the device
ALPHA_MAX = 0.5  # damping at the outer edge of the absorbing layer
H_BIAS = 1.826e5  # A/m along z: f_H = γμ0 (H_BIAS − MS)/2π = 1.50 GHz
B_ANTENNA = 1e-3  # T, antenna field amplitude
FREQS = (2.6e9, 2.8e9)  # channel 1 -> port 1 (+y), channel 2 -> port 2 (−y)
RHO_MIN = 0.6  # M_s = MS (RHO_MIN + (1 − RHO_MIN) ρ) in the design region
RHO_START = 0.9  # ρ of the start design (w = 0)


@dataclass(frozen=True)
class Config:
    """Geometry (in cells), design parameterisation, times and optimiser of one configuration."""

    n: tuple = (104, 64)  # cells (nx, ny)
    dx: float = 25e-9  # lateral cell size (m)
    thickness: float = 20e-9  # film thickness (m), one cell of the 2D mesh
    absorber: int = 14  # cells of graded damping at every edge
    antenna_x: float = 20.0  # antenna centre (node index along x)
    antenna_sigma: float = 1.5  # Gaussian width of the antenna profile (cells)
    design: tuple = (26, 70, 14, 50)  # design region x0, x1, y0, y1 (cells)
    ports: tuple = ((76, 84, 36, 46), (76, 84, 18, 28))  # port 1 (+y), port 2 (−y): x0, x1, y0, y1 (cells)
    rbf: tuple = (11, 9)  # RBF centres along x and y
    t_end: float = 5e-9  # s
    t_window: float = 3.5e-9  # start of the intensity window (s)
    samples: int = 16  # output times in the window
    iterations: int = 20
    lr: float = 0.05
    demag_grid: str = "cell"
    tol: float = 1e-5


CONFIGS = {
    "quick": Config(n=(56, 36), absorber=8, antenna_x=12.0, design=(16, 36, 8, 28),
                    ports=((40, 46, 19, 26), (40, 46, 10, 17)), rbf=(8, 5), t_end=2.4e-9, t_window=1.6e-9,
                    samples=8, iterations=3, lr=0.02),
    "cpu": Config(),
    "full": Config(n=(512, 64), absorber=12, antenna_x=20.0, design=(36, 436, 12, 52),
                   ports=((450, 480, 34, 48), (450, 480, 16, 30)), rbf=(40, 10), t_end=36e-9, t_window=30e-9,
                   samples=24, iterations=100, lr=0.05, demag_grid="dual"),
}


def array_module(backend: str):
    if backend == "jax":
        import jax.numpy as jnp

        return jnp
    import torch

    return torch


def sigmoid(xp, z):
    """The logistic function (1 + tanh(z/2))/2, overflow-free."""
    return 0.5 * (1.0 + xp.tanh(0.5 * z))


def rbf_basis(cfg: Config) -> np.ndarray:
    """Gaussian RBFs at the cell centres, shape ``cfg.n + (n_rbf,)``, zero outside the design region."""
    nx, ny = cfg.n
    x0, x1, y0, y1 = cfg.design
    nrx, nry = cfg.rbf
    cx = x0 + (np.arange(nrx) + 0.5) * (x1 - x0) / nrx  # centres (in cells)
    cy = y0 + (np.arange(nry) + 0.5) * (y1 - y0) / nry
    sx, sy = 0.75 * (x1 - x0) / nrx, 0.75 * (y1 - y0) / nry
    xc, yc = np.meshgrid(np.arange(nx) + 0.5, np.arange(ny) + 0.5, indexing="ij")
    CX, CY = np.meshgrid(cx, cy, indexing="ij")
    phi = np.exp(-((xc[..., None] - CX.reshape(-1)) ** 2) / (2 * sx**2)
                 - ((yc[..., None] - CY.reshape(-1)) ** 2) / (2 * sy**2))
    return phi * design_mask(cfg)[..., None]


def design_mask(cfg: Config) -> np.ndarray:
    mask = np.zeros(cfg.n)
    x0, x1, y0, y1 = cfg.design
    mask[x0:x1, y0:y1] = 1.0
    return mask


def port_masks(cfg: Config) -> np.ndarray:
    """Nodal masks of the two ports, each summing to 1 (a weighted sum is the port mean): shape (2, nx+1, ny+1)."""
    masks = np.zeros((2, cfg.n[0] + 1, cfg.n[1] + 1))
    for p, (x0, x1, y0, y1) in enumerate(cfg.ports):
        masks[p, x0:x1 + 1, y0:y1 + 1] = 1.0
        masks[p] /= masks[p].sum()
    return masks


def alpha_map(cfg: Config) -> np.ndarray:
    """Cell-wise damping: ALPHA inside, rising quadratically to ALPHA_MAX over ``absorber`` cells at every edge."""
    nx, ny = cfg.n
    xc, yc = np.meshgrid(np.arange(nx) + 0.5, np.arange(ny) + 0.5, indexing="ij")
    depth = np.minimum.reduce([xc, nx - xc, yc, ny - yc])  # distance from the nearest edge (cells)
    ramp = np.clip(1.0 - depth / cfg.absorber, 0.0, 1.0)
    return ALPHA + (ALPHA_MAX - ALPHA) * ramp**2


def antenna_profile(cfg: Config) -> np.ndarray:
    """Nodal antenna profile: a Gaussian along x, uniform along y (the whole width)."""
    xn = np.arange(cfg.n[0] + 1, dtype=float)
    px = np.exp(-((xn - cfg.antenna_x) ** 2) / (2 * cfg.antenna_sigma**2))
    return np.repeat(px[:, None], cfg.n[1] + 1, axis=1)


def output_times(cfg: Config) -> np.ndarray:
    """[0, t_w, ..., T]: the start and ``samples`` equally spaced times of the intensity window."""
    return np.concatenate([[0.0], np.linspace(cfg.t_window, cfg.t_end, cfg.samples)])


class Problem:
    """The device of configuration ``cfg`` on the current backend.

    Attributes: ``state`` (``state.rbf_weights`` the design, ``state.freq`` the antenna frequency,
    ``state.material.Ms`` a dynamic attribute of ``rbf_weights``), ``llg`` (parameters ``rbf_weights``, ``freq``),
    ``ts`` (output times), ``ports`` (nodal port masks, tensor), ``targets`` (one-hot target port per channel).
    """

    def __init__(self, cfg: Config, adjoint: str = "checkpoint", tau: float | None = None,
                 transmission: float = 0.0):
        self.cfg, self.tau = cfg, tau  # tau: None sums the channel losses, else their smooth maximum (combine)
        # weight β of the transmission term −β log(I_target / I_target of the start design) per channel
        self.transmission = float(transmission)
        self.reference = None  # target-port intensities of the start design, set by the first evaluation
        state = nm.State(nm.Mesh(cfg.n, (cfg.dx, cfg.dx, cfg.thickness)))
        self.state = state
        xp = array_module(state.backend.name)
        self.xp = xp
        phi = state.tensor(rbf_basis(cfg))
        mask = state.tensor(design_mask(cfg))
        offset = math.log(RHO_START / (1 - RHO_START))
        self.n_rbf = cfg.rbf[0] * cfg.rbf[1]
        state.rbf_weights = state.tensor(np.zeros(self.n_rbf))

        def rho_design(rbf_weights):
            return sigmoid(xp, phi @ rbf_weights + offset)

        def ms(rho_design):
            return MS * (1.0 - mask * (1.0 - RHO_MIN) * (1.0 - rho_design))

        state.rho_design = rho_design  # ρ(r) (also outside the design region, where it is unused)
        state.material.Ms = ms
        state.material.A = A_EX
        state.material.alpha = alpha_map(cfg)
        state.m = nm.VectorFunction(state).fill((0.0, 0.0, 1.0))
        state.freq = state.tensor(FREQS[0])
        profile = np.zeros(antenna_profile(cfg).shape + (3,))
        profile[..., 0] = antenna_profile(cfg) * B_ANTENNA / MU0
        antenna = state.tensor(profile)

        def h_antenna(t, freq):
            return antenna * xp.sin(2 * np.pi * freq * t)

        nm.ExchangeField().register(state, "exchange")
        nm.DemagField(grid=cfg.demag_grid).register(state, "demag")
        nm.ExternalField((0.0, 0.0, H_BIAS)).register(state, "bias")
        nm.ExternalField(h_antenna).register(state, "antenna")
        nm.TotalField("exchange", "demag", "bias", "antenna").register(state)
        self.llg = nm.LLGSolver(state, parameters=["rbf_weights", "freq"], adjoint=adjoint, rtol=cfg.tol,
                                atol=cfg.tol)
        self.ts = output_times(cfg)
        self.ports = state.tensor(port_masks(cfg))
        self.targets = [state.tensor([1.0, 0.0]), state.tensor([0.0, 1.0])]

    # ------------------------------------------------------------------ physics
    def power(self, weights, freq):
        """Time-averaged m_x² + m_y² on the nodes over the intensity window at ``freq``."""
        ys = self.llg.solve(self.ts, weights, freq).ys[1:]
        return (ys[..., 0] ** 2 + ys[..., 1] ** 2).mean(0)

    def channel_loss(self, weights, freq, target, beta=0.0):
        """``(−log C − β log I_target, (intensities (I_1, I_2), power map))`` of one channel, C = I_target/I_other
        the contrast; I_p is the port mean of the time-averaged m_x² + m_y². (The constant β log I_target of
        the start design, which makes the transmission term 0 there, is added by ``gradient_function``.)"""
        xp = self.xp
        power = self.power(weights, freq)
        intensity = (self.ports * power).sum((1, 2))
        wanted = (intensity * target).sum()
        return xp.log(intensity.sum() - wanted) - (1 + beta) * xp.log(wanted), (intensity, power)

    def shift(self, rows) -> np.ndarray:
        """β log I_target of the start design per channel (recorded from the first ``rows`` seen), so that the
        channel losses are ℓ_c = −log C_c − β log(I_target / I_target of the start design)."""
        if self.reference is None:
            self.reference = np.array([rows[0][0], rows[1][1]], dtype=float)
        return self.transmission * np.log(self.reference)

    def maps(self, weights):
        """``(rho, Ms)`` cell maps (NumPy) of the design ``weights``."""
        z = rbf_basis(self.cfg) @ to_numpy(weights) + math.log(RHO_START / (1 - RHO_START))
        rho = 0.5 * (1 + np.tanh(0.5 * z))
        return rho, MS * (1.0 - design_mask(self.cfg) * (1.0 - RHO_MIN) * (1.0 - rho))


def to_numpy(x):
    return np.asarray(nm.backends.to_numpy(x), dtype=float)


def contrasts(intensity) -> tuple:
    """(C_1, C_2) from the 2 × 2 intensities [channel, port]."""
    i = np.asarray(intensity)
    return i[0, 0] / i[0, 1], i[1, 1] / i[1, 0]


def combine(values, tau) -> tuple:
    r"""Total loss and the weights of the channel gradients: the sum (``tau`` None, weights 1) or the smooth
    maximum :math:`L = \tau\log\sum_c e^{\ell_c/\tau}` of the channel losses :math:`\ell_c = -\log C_c`, whose
    gradient weights the channels by :math:`\mathrm{softmax}(\ell/\tau)`, i.e. works mostly on the weaker
    channel."""
    values = np.asarray(values, dtype=float)
    if tau is None:
        return float(values.sum()), np.ones_like(values)
    top = values.max()
    weights = np.exp((values - top) / tau)
    return float(top + tau * np.log(weights.sum())), weights / weights.sum()


def gradient_function(problem: Problem):
    """``f(weights, gradient=True) -> (loss, gradient, intensities, power maps)``, both channels summed;
    intensities[c, p] is the intensity of channel c at port p, power maps[c] the time-averaged |m_⊥|² on the
    nodes. With JAX one jitted value-and-gradient function serves both channels (the frequency and the target
    port are arguments) and also the final evaluation (no second compilation); with PyTorch ``gradient=False``
    runs the forward solves without a graph."""
    state = problem.state
    freqs = [state.tensor(f) for f in FREQS]
    if state.backend.name == "jax":
        import jax

        vg = jax.jit(jax.value_and_grad(problem.channel_loss, has_aux=True))

        def f(weights, gradient=True):
            values, grads, rows, maps = [], [], [], []
            for freq, target in zip(freqs, problem.targets):
                (value, (intensity, power)), g = vg(weights, freq, target, problem.transmission)
                values.append(float(value))
                grads.append(g)
                rows.append(np.asarray(intensity))
                maps.append(np.asarray(power))
            total, w = combine(np.array(values) + problem.shift(rows), problem.tau)
            return total, w[0] * grads[0] + w[1] * grads[1], np.array(rows), np.array(maps)

        return f
    import torch

    def f(weights, gradient=True):
        w = weights.detach().clone().requires_grad_(gradient)
        values, grads, rows, maps = [], [], [], []
        with torch.set_grad_enabled(gradient):
            for freq, target in zip(freqs, problem.targets):
                value, (intensity, power) = problem.channel_loss(w, freq, target, problem.transmission)
                if gradient:
                    grads.append(torch.autograd.grad(value, w)[0])
                values.append(float(value.detach()))
                rows.append(to_numpy(intensity))
                maps.append(to_numpy(power))
        total, c = combine(np.array(values) + problem.shift(rows), problem.tau)
        return total, (c[0] * grads[0] + c[1] * grads[1] if gradient else None), np.array(rows), np.array(maps)

    return f


CSV_NAMES = ["iteration", "loss", "contrast1", "contrast2", "I_f1_port1", "I_f1_port2", "I_f2_port1", "I_f2_port2",
             "seconds"]


def write_rows(path, rows) -> None:
    data = np.array(rows, dtype=float)
    vc.write_csv(path, {n: data[:, k] for k, n in enumerate(CSV_NAMES)})


def optimise(problem: Problem, iterations: int, lr: float, log=print, csv=None):
    """Adam on the RBF weights. Returns ``(weights, rows)`` with rows ``(iteration, loss, C_1, C_2, I_11, I_12,
    I_21, I_22, seconds)`` of the design before each step (the design after the last step is not evaluated
    here); ``csv``: a path the rows so far are written to after every iteration (a long run leaves its history
    even when it is stopped)."""
    state = problem.state
    grad_fn = problem.evaluate = gradient_function(problem)
    weights = state.rbf_weights
    rows, t0 = [], time.perf_counter()
    if state.backend.name == "jax":
        import optax

        opt = optax.adam(lr)
        opt_state = opt.init(weights)

        def step(w, g, s):
            updates, s = opt.update(g, s, w)
            return optax.apply_updates(w, updates), s
    else:
        import torch

        weights = weights.detach().clone().requires_grad_(True)
        opt = torch.optim.Adam([weights], lr=lr)

    for it in range(iterations):
        value, grad, intensity, _ = grad_fn(weights)
        c1, c2 = contrasts(intensity)
        rows.append((it, value, c1, c2, *intensity.reshape(-1), time.perf_counter() - t0))
        log(f"iteration {it:3d}: loss = {value:.5f}  contrast1 = {c1:.3f}  contrast2 = {c2:.3f}  "
            f"|g| = {float(np.linalg.norm(to_numpy(grad))):.3e}  ({rows[-1][-1]:.1f} s)", flush=True)
        if csv is not None:
            write_rows(csv, rows)
        if state.backend.name == "jax":
            weights, opt_state = step(weights, grad, opt_state)
        else:
            opt.zero_grad()
            weights.grad = grad
            opt.step()
    return weights, rows, t0


def plot(problem: Problem, data: np.ndarray, weights, power, path):
    cfg = problem.cfg
    rho, ms = problem.maps(weights)
    L = np.array(cfg.n) * cfg.dx * 1e6  # µm
    ext = [0, L[0], 0, L[1]]
    fig, axes = vc.figure(2, 2, figsize=(12, 7.5))
    ax = axes[0, 0]
    ax.plot(data[:, 0], data[:, 1], "o-", ms=3, color="k")
    ax.set_xlabel("iteration")
    label = "loss  −log C1 − log C2" if problem.tau is None else f"loss  (smooth max, τ = {problem.tau:g})"
    ax.set_ylabel(label + (f", transmission β = {problem.transmission:g}" if problem.transmission else ""))
    ax.set_title(f"{nm.config.backend}", fontsize=10)
    ax.grid(alpha=0.3)
    ax2 = ax.twinx()
    ax2.semilogy(data[:, 0], data[:, 2], "s-", ms=3, color="C0", label=f"C1 ({FREQS[0] / 1e9:.1f} GHz → port 1)")
    ax2.semilogy(data[:, 0], data[:, 3], "^-", ms=3, color="C3", label=f"C2 ({FREQS[1] / 1e9:.1f} GHz → port 2)")
    ax2.set_ylabel("contrast")
    ax2.legend(fontsize=8, loc="center right")

    from matplotlib.patches import Rectangle

    def decorate(ax, color="w"):
        ax.axvline(cfg.antenna_x * cfg.dx * 1e6, color=color, lw=1.5, ls="-")
        for p, (x0, x1, y0, y1) in enumerate(cfg.ports):
            ax.add_patch(Rectangle(
                (x0 * cfg.dx * 1e6, y0 * cfg.dx * 1e6), (x1 - x0) * cfg.dx * 1e6, (y1 - y0) * cfg.dx * 1e6,
                fill=False, ec=color, lw=1.2))
            ax.text(x1 * cfg.dx * 1e6, y1 * cfg.dx * 1e6, f" {p + 1}", color=color, fontsize=9, va="top")
        x0, x1, y0, y1 = cfg.design
        ax.add_patch(Rectangle(
            (x0 * cfg.dx * 1e6, y0 * cfg.dx * 1e6), (x1 - x0) * cfg.dx * 1e6, (y1 - y0) * cfg.dx * 1e6,
            fill=False, ec=color, lw=0.8, ls="--"))
        a = cfg.absorber * cfg.dx * 1e6
        ax.add_patch(Rectangle(
            (a, a), L[0] - 2 * a, L[1] - 2 * a, fill=False, ec="0.6", lw=0.8, ls=":"))
        ax.set_xlabel("x (µm)")
        ax.set_ylabel("y (µm)")

    ax = axes[0, 1]
    im = ax.imshow(ms.T / 1e3, origin="lower", extent=ext, cmap="viridis", vmin=RHO_MIN * MS / 1e3, vmax=MS / 1e3)
    fig.colorbar(im, ax=ax, fraction=0.046 * L[1] / L[0] * 2, pad=0.02, label="$M_s$ (kA/m)")
    decorate(ax)
    ax.set_title("final design: $M_s$, antenna (line), ports 1/2, design region (dashed)", fontsize=9)
    for c in range(2):
        ax = axes[1, c]
        p = power[c]
        im = ax.imshow(np.log10(p.T + 1e-12), origin="lower", extent=ext, cmap="magma",
                       vmin=np.log10(p.max()) - 3, vmax=np.log10(p.max()))
        fig.colorbar(im, ax=ax, fraction=0.046 * L[1] / L[0] * 2, pad=0.02, label="log10 ⟨|m⊥|²⟩")
        decorate(ax)
        ax.set_title(f"final design, {FREQS[c] / 1e9:.1f} GHz: time-averaged |m⊥|²", fontsize=9)
    vc.save_figure(fig, path)


def main(argv=None):
    p = vc.parser(__doc__)
    p.add_argument("--full", action="store_true", help="the published size (512 × 64 cells, 400 RBFs; a GPU)")
    p.add_argument("--iterations", type=int, default=None, help="Adam steps (default: per configuration)")
    p.add_argument("--lr", type=float, default=None,
                   help="Adam learning rate (default: per configuration, 0.05; --quick 0.02)")
    p.add_argument("--adjoint", choices=["checkpoint", "backsolve"], default="checkpoint")
    p.add_argument("--tau", type=float, default=None,
                   help="combine the channels by their smooth maximum with temperature tau (default: their sum)")
    p.add_argument("--transmission", type=float, default=0.0, metavar="BETA",
                   help="add -BETA log(I_target / I_target at the start) per channel, so that the contrast is not "
                        "bought by darkening the target port (default 0)")
    args = p.parse_args(argv)
    out = vc.setup(args)
    cfg = CONFIGS["quick" if args.quick else "full" if args.full else "cpu"]
    if args.iterations is not None:
        cfg = dataclasses.replace(cfg, iterations=args.iterations)
    if args.lr is not None:
        cfg = dataclasses.replace(cfg, lr=args.lr)
    t_start = time.perf_counter()
    problem = Problem(cfg, adjoint=args.adjoint, tau=args.tau, transmission=args.transmission)
    weights, rows, t0 = optimise(problem, cfg.iterations, cfg.lr, csv=out / "magnonic_demultiplexer.csv")
    value, _, intensity, power = problem.evaluate(weights, gradient=False)
    c1, c2 = contrasts(intensity)
    rows.append((cfg.iterations, value, c1, c2, *intensity.reshape(-1), time.perf_counter() - t0))
    print(f"final        : loss = {rows[-1][1]:.5f}  contrast1 = {c1:.3f}  contrast2 = {c2:.3f}", flush=True)
    seconds = time.perf_counter() - t_start
    data = np.array(rows, dtype=float)
    write_rows(out / "magnonic_demultiplexer.csv", rows)
    rho, ms = problem.maps(weights)
    np.savez(out / "magnonic_demultiplexer_design.npz", weights=to_numpy(weights), rho=rho, Ms=ms,
             power=power, intensity=intensity)
    plot(problem, data, weights, power, out / "magnonic_demultiplexer.png")
    # per iteration: between the ends of the first and the last gradient evaluation (the first one compiles)
    n = cfg.iterations
    per_iteration = (data[n - 1, -1] - data[0, -1]) / (n - 1) if n > 1 else data[0, -1]
    return vc.result("magnonic_demultiplexer", contrast1_start=float(data[0, 2]), contrast1_end=float(c1),
                     contrast2_start=float(data[0, 3]), contrast2_end=float(c2), loss_start=float(data[0, 1]),
                     loss_end=float(data[-1, 1]), iterations=cfg.iterations, adjoint=args.adjoint,
                     seconds_per_iteration=float(per_iteration), seconds=seconds)


if __name__ == "__main__":
    main()
