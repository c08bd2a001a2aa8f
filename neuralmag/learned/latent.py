r"""Latent-space reduced-order dynamics of a thin film (Kovacs et al., "Learning magnetization dynamics",
J. Magn. Magn. Mater. 491, 165548 (2019)).

A convolutional autoencoder compresses the in-plane grid of unit vectors :math:`\mathbf{m}` of a film into a
short latent vector :math:`\mathbf{z}` (16 numbers), and a small dense network advances the dynamics in that
latent space, one fixed time step :math:`\Delta t` (10 ps) at a time:

.. math::
    \mathbf{z}_k = E(\mathbf{m}(t_k)), \qquad
    \hat{\mathbf{z}}_{k+1} = \hat{\mathbf{z}}_k + P\big(\hat{\mathbf{h}},\,
        \hat{\mathbf{z}}_{k-3}, \hat{\mathbf{z}}_{k-2}, \hat{\mathbf{z}}_{k-1}, \hat{\mathbf{z}}_k\big), \qquad
    \mathbf{m}(t_{k+1}) \approx D(\mathbf{z}_{k+1}),

with the normalised latents :math:`\hat{\mathbf{z}} = (\mathbf{z} - \boldsymbol{\mu}_z)/\boldsymbol{\sigma}_z`
and the normalised in-plane applied field :math:`\hat{\mathbf{h}} = (\mu_0\mathbf{H}_{xy} -
\mathbf{h}_0)/\mathbf{h}_s` (offset :math:`\mathbf{h}_0` and scale :math:`\mathbf{h}_s` in T, taken from the
training fields). Four simulated states start the recursion; after that no field is evaluated and no LLG step is
taken, which is where the speed-up comes from.

**Network layout.** The networks see the cell averages of the magnetisation of a 2D film mesh of
``nx × ny`` cells (the nodal ``m`` of NeuralMag averaged over the four corners of each cell), channels first, with
the film's long axis as image width: ``(N, 3, H = ny, W = nx)``, the published ``64 × 256 × 3`` for the
256 × 64-cell SP4 film.

* Encoder :math:`E`: ``L`` convolutions with stride 2 (kernel ``k``, padding ``(k-1)//2``, ELU), each halving
  ``H`` and ``W``, down to ``C_L × H_L × W_L`` (``1 × 4 × 512`` published), then one dense layer to the latent
  vector (no activation).
* Decoder :math:`D`: the mirror image: a dense layer (ELU) back to ``C_L × H_L × W_L`` and ``L`` transposed
  convolutions with stride 2, each doubling ``H`` and ``W``, ELU after all but the last, which outputs the three
  components without activation.
* Predictor :math:`P`: a multilayer perceptron (ELU) on the two field components and the ``history = 4`` past
  latents; it predicts the *increment* of the normalised latent, so a zero output is "nothing changes". Its
  first layer has one weight block for the field and one for the latents (the same as one dense layer on their
  concatenation, without needing a concatenation primitive).

The three networks are pure functions of a parameter dictionary (:func:`encode`, :func:`decode`,
:func:`predict`), written against the neural-network primitives of a backend (``state.backend.nn``, i.e.
:mod:`neuralmag.backends.torch.nn` or :mod:`neuralmag.backends.jax.nn`): training uses them with PyTorch tensors
that require gradients, :class:`LatentDynamics` runs the trained weights on either backend. The geometry is in
the weight shapes: the dense weights are stored as ``(latent, C_L, H_L, W_L)`` (encoder) and
``(C_L, H_L, W_L, latent)`` (decoder), so :func:`decode` knows the bottleneck without extra arguments. Weights
are saved as ``.npz`` with a JSON metadata entry (:func:`save_weights`, :func:`load_weights`); reading them needs
NumPy only and nothing is ever downloaded.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from neuralmag.backends import to_numpy
from neuralmag.io.npz import read_npz, write_npz

__all__ = ["Architecture", "LatentDynamics", "Rollout", "init_params", "encode", "decode", "predict",
           "save_weights", "load_weights", "cell_average", "FORMAT"]

#: identifies the weights files of this module (stored in the metadata)
FORMAT = "neuralmag.learned.latent/1"
#: the SP4 film (m): 500 nm × 125 nm × 3 nm
SP4_FILM = (500e-9, 125e-9, 3e-9)


@dataclass(frozen=True)
class Architecture:
    """Sizes of the autoencoder and the predictor.

    Args:
        nx, ny: cells of the 2D film grid along x (image width) and y (image height); both must be divisible by
            ``2 ** len(channels)``.
        channels: output channels of the stride-2 convolutions of the encoder (the decoder mirrors them).
        kernel: convolution kernel size.
        latent: size of the latent vector.
        hidden: widths of the hidden layers of the predictor.
        history: number of past latents the predictor sees.
    """

    nx: int = 128
    ny: int = 32
    channels: tuple[int, ...] = (16, 32, 64, 128, 256)
    kernel: int = 3
    latent: int = 16
    hidden: tuple[int, ...] = (256, 256)
    history: int = 4

    def __post_init__(self):
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        object.__setattr__(self, "hidden", tuple(int(c) for c in self.hidden))
        factor = 2 ** len(self.channels)
        if self.nx % factor or self.ny % factor:
            raise ValueError(f"The grid {self.nx} × {self.ny} must be divisible by 2**{len(self.channels)} = {factor} "
                             f"for {len(self.channels)} stride-2 convolutions.")
        if not self.hidden:
            raise ValueError("The predictor needs at least one hidden layer.")

    @property
    def bottleneck(self) -> tuple[int, int, int]:
        """``(C_L, H_L, W_L)`` after the last convolution of the encoder."""
        factor = 2 ** len(self.channels)
        return self.channels[-1], self.ny // factor, self.nx // factor


# ------------------------------------------------------------------------------------------- parameters
def init_params(arch: Architecture, seed: int = 0) -> dict[str, np.ndarray]:
    """Random initial parameters (float32 NumPy arrays) of the autoencoder and the predictor.

    He-normal weights (variance ``2 / fan_in``, suited to ELU) and zero biases; the predictor's output layer
    starts 100 times smaller, so the untrained predictor is close to "the latent stays where it is".
    """
    rng = np.random.default_rng(seed)

    def he(shape, fan_in, gain=1.0):
        return (gain * math.sqrt(2.0 / fan_in) * rng.standard_normal(shape)).astype(np.float32)

    k = arch.kernel
    params = {}
    chans = (3,) + arch.channels
    for i, (c_in, c_out) in enumerate(zip(chans[:-1], chans[1:])):
        params[f"enc.conv{i}.w"] = he((c_out, c_in, k, k), c_in * k * k)
        params[f"enc.conv{i}.b"] = np.zeros(c_out, np.float32)
    c, h, w = arch.bottleneck
    params["enc.dense.w"] = he((arch.latent, c, h, w), c * h * w, gain=0.5)
    params["enc.dense.b"] = np.zeros(arch.latent, np.float32)
    params["dec.dense.w"] = he((c, h, w, arch.latent), arch.latent)
    params["dec.dense.b"] = np.zeros((c, h, w), np.float32)
    rev = chans[::-1]
    for i, (c_in, c_out) in enumerate(zip(rev[:-1], rev[1:])):
        # a stride-2 transposed convolution sums about (k / 2)² kernel taps per output per input channel
        params[f"dec.conv{i}.w"] = he((c_in, c_out, k, k), c_in * k * k / 4)
        params[f"dec.conv{i}.b"] = np.zeros(c_out, np.float32)
    n_in = arch.history * arch.latent
    params["pred.in_field.w"] = he((arch.hidden[0], 2), n_in + 2)
    params["pred.in_latent.w"] = he((arch.hidden[0], n_in), n_in + 2)
    params["pred.in.b"] = np.zeros(arch.hidden[0], np.float32)
    for i, (a, b) in enumerate(zip(arch.hidden[:-1], arch.hidden[1:])):
        params[f"pred.fc{i}.w"] = he((b, a), a)
        params[f"pred.fc{i}.b"] = np.zeros(b, np.float32)
    params["pred.out.w"] = he((arch.latent, arch.hidden[-1]), arch.hidden[-1], gain=0.01)
    params["pred.out.b"] = np.zeros(arch.latent, np.float32)
    return params


def _layers(params, prefix: str) -> list[tuple]:
    """``[(w, b), ...]`` of the layers ``<prefix>0``, ``<prefix>1``, ... in order."""
    out, i = [], 0
    while f"{prefix}{i}.w" in params:
        out.append((params[f"{prefix}{i}.w"], params[f"{prefix}{i}.b"]))
        i += 1
    return out


# ------------------------------------------------------------------------------------------- the networks
def encode(params, m, nn):
    """Latent vectors ``z`` (``N × latent``) of the cell magnetisations ``m`` (``N × 3 × ny × nx``, network
    layout); ``nn`` is the backend's primitive module (``state.backend.nn``)."""
    x = m
    for w, b in _layers(params, "enc.conv"):
        k = w.shape[-1]
        x = nn.elu(nn.conv2d(x, w, b, stride=2, padding=(k - 1) // 2))
    w = params["enc.dense.w"]
    return nn.linear(x.reshape(x.shape[0], -1), w.reshape(w.shape[0], -1), params["enc.dense.b"])


def decode(params, z, nn):
    """Cell magnetisations (``N × 3 × ny × nx``, network layout, not normalised) of the latents ``z``
    (``N × latent``)."""
    w = params["dec.dense.w"]
    c, h, wd, latent = w.shape
    x = nn.elu(nn.linear(z, w.reshape(c * h * wd, latent), params["dec.dense.b"].reshape(-1)))
    x = x.reshape(z.shape[0], c, h, wd)
    layers = _layers(params, "dec.conv")
    for i, (w, b) in enumerate(layers):
        k = w.shape[-1]
        # padding (k-1)//2 with output padding k % 2 doubles H and W exactly for odd and even kernels
        x = nn.conv_transpose2d(x, w, b, stride=2, padding=(k - 1) // 2, output_padding=k % 2)
        if i < len(layers) - 1:
            x = nn.elu(x)
    return x


def predict(params, field, past_latents, nn):
    r"""Next normalised latent :math:`\hat{\mathbf{z}}_{k+1}` (``N × latent``).

    Args:
        field: the normalised in-plane applied field :math:`\hat{\mathbf{h}}` (``N × 2``, dimensionless).
        past_latents: :math:`\hat{\mathbf{z}}_{k-3..k}` (``N × history × latent``, normalised, oldest first).
    """
    n = past_latents.shape[0]
    x = nn.linear(past_latents.reshape(n, -1), params["pred.in_latent.w"], params["pred.in.b"])
    x = nn.elu(x + nn.linear(field, params["pred.in_field.w"]))
    for w, b in _layers(params, "pred.fc"):
        x = nn.elu(nn.linear(x, w, b))
    return past_latents[:, -1] + nn.linear(x, params["pred.out.w"], params["pred.out.b"])


def architecture_of(params) -> Architecture:
    """The :class:`Architecture` that the shapes of ``params`` describe."""
    enc = _layers(params, "enc.conv")
    c, h, w, latent = params["dec.dense.w"].shape
    factor = 2 ** len(enc)
    hidden = [params["pred.in.b"].shape[0]] + [b.shape[0] for _, b in _layers(params, "pred.fc")]
    history = params["pred.in_latent.w"].shape[1] // latent
    return Architecture(nx=int(w * factor), ny=int(h * factor), channels=tuple(int(wt.shape[0]) for wt, _ in enc),
                        kernel=int(enc[0][0].shape[-1]), latent=int(latent), hidden=tuple(int(x) for x in hidden),
                        history=int(history))


# ------------------------------------------------------------------------------------------- weights files
def save_weights(path, params, metadata: dict) -> Path:
    r"""Write ``params`` (NumPy or framework arrays) and ``metadata`` to the ``.npz`` file ``path``.

    The metadata (JSON-serialisable) is stored as a JSON string in the entry ``__metadata__``, with ``format``
    and ``architecture`` (from the parameter shapes, :func:`architecture_of`) added. Keys read by
    :class:`LatentDynamics`:

    * ``dt``: the snapshot interval Δt of the training data (s), the time step of the latent dynamics;
    * ``normalisation``: ``field_offset`` and ``field_scale`` (:math:`\mathbf{h}_0`, :math:`\mathbf{h}_s`, two
      numbers each, T) and ``latent_mean``, ``latent_std`` (:math:`\boldsymbol{\mu}_z`,
      :math:`\boldsymbol{\sigma}_z`, ``latent`` numbers each).

    The training script adds the film size, the data set (grid, training and validation fields) and the
    training settings and losses.
    """
    path = Path(path)
    arrays = {k: to_numpy(v) for k, v in params.items()}
    meta = dict(metadata)
    meta["format"] = FORMAT
    meta["architecture"] = asdict(architecture_of(arrays))
    return write_npz(path, arrays, meta)


def load_weights(path) -> tuple[dict[str, np.ndarray], dict]:
    """``(params, metadata)`` from a file written by :func:`save_weights` (no pickled objects are read)."""
    params, meta = read_npz(path)
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not a latent-dynamics weights file (format {meta.get('format')!r}, "
                         f"expected {FORMAT!r}).")
    return params, meta


# ------------------------------------------------------------------------------------------- the reduced model
def cell_average(m):
    """Cell averages ``(..., nx, ny, 3)`` of nodal 2D film magnetisations ``(..., nx+1, ny+1, 3)``: the mean of
    the four corners, i.e. the integral mean of the bilinear interpolant over each cell (any backend's arrays or
    NumPy)."""
    return 0.25 * (m[..., :-1, :-1, :] + m[..., 1:, :-1, :] + m[..., :-1, 1:, :] + m[..., 1:, 1:, :])


@dataclass
class Rollout:
    """Result of :meth:`LatentDynamics.rollout` (backend tensors).

    Attributes:
        t: times (s) of the predicted states after the last history snapshot, ``Δt, 2Δt, ...`` (``n_steps``).
        m: predicted cell magnetisations ``(n_steps, nx, ny, 3)``.
        m_avg: their spatial averages ``(n_steps, 3)`` (:math:`\\langle\\mathbf{m}\\rangle(t)` of the film).
        z: the normalised latents ``(n_steps, latent)``.
    """

    t: object
    m: object
    m_avg: object
    z: object


class LatentDynamics:
    r"""A trained latent-space model of a film, run on either backend.

    Args:
        weights: a weights file written by :func:`save_weights` (the scripts in ``demos/latent_dynamics``
            train them), or a ``(params, metadata)`` tuple.
        backend: ``"jax"`` or ``"torch"``; default ``nm.config.backend``.
        dtype: ``"float32"`` or ``"float64"``; default ``nm.config.dtype``.
        device: default ``nm.config.device``.

    Magnetisations are given and returned on the ``nx × ny`` film grid the model was trained on (``self.nx``,
    ``self.ny``; cell size ``500 nm / nx`` for SP4): either as **cell** arrays ``(…, nx, ny, 3)`` or as the
    **nodal** arrays of a 2D NeuralMag mesh of those cells, ``(…, nx+1, ny+1, 3)`` (``state.m`` of
    ``nm.Mesh((nx, ny), ...)``), which are turned into cell averages by :func:`cell_average`. Outputs are cell
    arrays; ``nm.io.cells_to_nodes`` maps them back to nodes.
    """

    def __init__(self, weights, backend: str | None = None, dtype: str | None = None, device=None):
        from neuralmag.backends import get_backend
        from neuralmag.config import config

        params, meta = load_weights(weights) if isinstance(weights, (str, Path)) else weights
        self.metadata = meta
        self.architecture = architecture_of(params)
        self.backend = get_backend(backend or config.backend)
        self.dtype_name = dtype or config.dtype
        self.backend.setup(self.dtype_name)
        self.dtype = self.backend.dtype(self.dtype_name)
        self.device = self.backend.device(device if device is not None else config.device)
        self.nn = self.backend.nn
        norm = meta.get("normalisation", {})
        latent = self.architecture.latent
        self.params = {k: self._tensor(v) for k, v in params.items()}
        self._field_offset = np.asarray(norm.get("field_offset", [0.0, 0.0]), dtype=np.float64)
        self._field_scale = np.asarray(norm.get("field_scale", [1.0, 1.0]), dtype=np.float64)
        self._z_mean = self._tensor(np.asarray(norm.get("latent_mean") or np.zeros(latent)))
        self._z_std = self._tensor(np.asarray(norm.get("latent_std") or np.ones(latent)))
        #: snapshot interval Δt (s) of the training data = the time step of the latent dynamics
        self.dt = float(meta.get("dt", 1e-11))
        nn, jit = self.nn, self.backend.jit
        self._encode = jit(lambda p, m: encode(p, m, nn))
        self._decode = jit(lambda p, z: decode(p, z, nn))
        self._predict = jit(lambda p, h, past: predict(p, h, past, nn))

    def _tensor(self, x):
        return self.backend.tensor(np.asarray(x), self.dtype, self.device)

    @property
    def nx(self) -> int:
        return self.architecture.nx

    @property
    def ny(self) -> int:
        return self.architecture.ny

    @property
    def history(self) -> int:
        """Number of simulated states that start a rollout."""
        return self.architecture.history

    # ----------------------------------------------------------------- layouts
    def cells(self, m):
        """``m`` (cell or nodal film arrays, see the class docstring; NumPy or tensors) as a cell tensor
        ``(N, nx, ny, 3)``."""
        m = m if self.backend.is_tensor(m) else self._tensor(np.asarray(m))
        m = self.backend.tensor(m, self.dtype, self.device)
        shape = tuple(m.shape[-3:])
        if shape == (self.nx + 1, self.ny + 1, 3):
            m = cell_average(m)
        elif shape != (self.nx, self.ny, 3):
            raise ValueError(f"Expected cell arrays (..., {self.nx}, {self.ny}, 3) or nodal arrays "
                             f"(..., {self.nx + 1}, {self.ny + 1}, 3) of the film grid, got shape {tuple(m.shape)}.")
        return m.reshape(-1, self.nx, self.ny, 3)

    def _to_network(self, m):
        # (N, nx, ny, 3) -> (N, 3, ny, nx): components become channels, the long axis x the image width
        return self.backend.stack([m[..., 0], m[..., 1], m[..., 2]], 1).mT

    def _from_network(self, y):
        y = y.mT
        return self.backend.stack([y[:, 0], y[:, 1], y[:, 2]], -1)

    # ----------------------------------------------------------------- encoder / decoder
    def encode(self, m):
        """Normalised latents :math:`\\hat{\\mathbf{z}}` ``(N, latent)`` of cell or nodal magnetisations."""
        z = self._encode(self.params, self._to_network(self.cells(m)))
        return (z - self._z_mean) / self._z_std

    def decode(self, z, normalize: bool = True):
        """Cell magnetisations ``(N, nx, ny, 3)`` of normalised latents ``z`` ``(N, latent)``; with ``normalize``
        every cell vector is scaled to unit length (the unit-length penalty of training keeps that a small
        correction)."""
        y = self._decode(self.params, z * self._z_std + self._z_mean)
        if normalize:
            y = y / self.backend.sqrt(self.backend.sum(y * y, [1]))[:, None]
        return self._from_network(y)

    def normalised_field(self, field):
        """:math:`\\hat{\\mathbf{h}}` ``(n, 2)`` (NumPy) of applied fields :math:`\\mu_0\\mathbf{H}` in T, shape
        ``(2,)``, ``(3,)``, ``(n, 2)`` or ``(n, 3)``; a z component must be 0 (the model knows in-plane fields
        only)."""
        h = np.atleast_2d(np.asarray(field, dtype=np.float64))
        if h.shape[-1] == 3:
            if np.any(h[:, 2] != 0):
                raise ValueError("LatentDynamics models in-plane applied fields; got a non-zero z component.")
            h = h[:, :2]
        if h.shape[-1] != 2 or h.ndim != 2:
            raise ValueError(f"Expected fields of shape (2,), (3,), (n, 2) or (n, 3) in T, got {np.shape(field)}.")
        return (h - self._field_offset) / self._field_scale

    # ----------------------------------------------------------------- dynamics
    def rollout(self, m_history, field, n_steps: int, normalize: bool = True) -> Rollout:
        r"""Predict ``n_steps`` states, ``Δt`` apart, after the ``history`` given ones.

        Args:
            m_history: the last ``history`` (4) states, oldest first, ``Δt`` apart: cell ``(4, nx, ny, 3)`` or
                nodal ``(4, nx+1, ny+1, 3)`` arrays (NumPy or tensors), e.g. simulated with
                :class:`~neuralmag.LLGSolver` from the initial state.
            field: applied field :math:`\mu_0\mathbf{H}` in T, in-plane: one vector (``(2,)`` or ``(3,)``) for
                every step, or one per step (``(n_steps, 2|3)``; row ``j`` acts from step ``j`` to ``j+1``).
            n_steps: number of latent steps.
            normalize: scale the decoded cell vectors to unit length.

        Returns:
            :class:`Rollout`: ``t`` (s after the last history state), ``m`` ``(n_steps, nx, ny, 3)``, ``m_avg``
            ``(n_steps, 3)`` and the latents ``z``.
        """
        m = self.cells(m_history)
        if m.shape[0] != self.history:
            raise ValueError(f"rollout needs {self.history} history states, got {m.shape[0]}.")
        h = self.normalised_field(field)
        if h.shape[0] == 1:
            h = np.repeat(h, n_steps, axis=0)
        if h.shape[0] != n_steps:
            raise ValueError(f"Expected one field or {n_steps} (one per step), got {h.shape[0]}.")
        h = self._tensor(h)
        window = list(self.encode(m)[:, None])  # history tensors of shape (1, latent)
        predicted = []
        for j in range(n_steps):
            z_next = self._predict(self.params, h[j:j + 1], self.backend.stack(window, 1))
            window = window[1:] + [z_next]
            predicted.append(z_next)
        z = self.backend.stack(predicted, 0).reshape(n_steps, -1)
        m_out = self.decode(z, normalize)
        m_avg = self.backend.sum(m_out, [1, 2]) / (self.nx * self.ny)
        t = self.dt * np.arange(1, n_steps + 1)
        return Rollout(t=self._tensor(t), m=m_out, m_avg=m_avg, z=z)
