r"""U-Net surrogate of the thin-film demagnetisation field (NeuralMAG: Cai, Li & Wang, Nat. Mach. Intell. 6,
1330 (2024)).

The demagnetisation field of a single-layer film is the convolution :math:`\mathbf{h} = -N * \mathbf{M}` of the
cell magnetisation :math:`\mathbf{M}` (A/m) with the Newell tensor :math:`N` — global, :math:`O(N\log N)` by FFT.
The U-Net replaces it by local operations at five resolutions: an encoder of :math:`3\times3` convolutions and
:math:`2\times2` average pooling aggregates the magnetisation at scales 1, 1/2, 1/4, 1/8, 1/16 (``base``,
``2 base``, ``4 base``, ``8 base``, ``8 base`` channels; the published network has ``base = 32``: 32→64→128→256),
and a decoder of :math:`2\times2` transposed convolutions adds the interactions of each scale back to the finer
one through skip connections. Every layer is local, so the cost is :math:`O(N)`.

Inputs and outputs (channels-first, cells of a square grid, ``H`` and ``W`` multiples of 16 for :func:`forward`;
:func:`predict` pads):

* ``x``: 4 channels, :math:`\mathbf{M}/M_\mathrm{ref}` (3) and the sample mask :math:`[M_s\rho > 0]` (1), with
  :math:`M_\mathrm{ref} = \max M_s\rho`;
* ``y``: 3 channels, the field :math:`\mathbf{h}/M_\mathrm{ref}` (A/m per A/m). The out-of-plane component is
  predicted as a correction to the local thin-film approximation, :math:`h_z = -M_z + M_\mathrm{ref}\,y_z`:
  :math:`-M_z` is exact for uniform out-of-plane magnetisation of an infinite film, so the network only learns
  the non-local part (edges, vortex cores), of the same size as the in-plane field.

The demag operator is linear and scale free, :math:`\mathbf{h}[\lambda\mathbf{M}] = \lambda\mathbf{h}[\mathbf{M}]`,
and :math:`N` depends only on the ratios of the cell edges. Normalising by :math:`M_\mathrm{ref}` makes the
surrogate exactly homogeneous in :math:`M_s`; it is valid for every mesh whose cells have the aspect ratio
``dx : dy : dz`` it was trained on (stored as ``cell_size`` in the metadata), whatever their size.

The network is one pure function, :func:`forward` ``(params, x, nn)``, of a parameter dictionary (PyTorch weight
layouts) written against the primitives ``nn`` of a backend (:mod:`neuralmag.backends.torch.nn`,
:mod:`neuralmag.backends.jax.nn`): PyTorch trains it (``demos/unet_demag/train.py``), both backends run it.
Parameters are stored with :func:`save` / :func:`load` as ``.npz`` (no framework needed) with JSON metadata.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neuralmag.backends import to_numpy
from neuralmag.io.npz import read_npz, write_npz

__all__ = [
    "ARCHITECTURE", "LEVELS", "MULTIPLE", "IN_CHANNELS", "OUT_CHANNELS", "channel_widths", "init_params",
    "num_levels", "forward", "padding", "predict", "save", "load", "default_weights", "num_parameters",
]

#: architecture tag stored in the metadata of every weight file
ARCHITECTURE = "unet_demag"
FORMAT_VERSION = 1
#: resolutions 1, 1/2, 1/4, 1/8, 1/16
LEVELS = 5
#: grid sizes the network accepts without padding (2 ** (LEVELS - 1))
MULTIPLE = 2 ** (LEVELS - 1)
IN_CHANNELS = 4   # M_x, M_y, M_z (/ M_ref) and the mask
OUT_CHANNELS = 3  # h_x, h_y, h_z + M_z (/ M_ref)


def channel_widths(base: int, levels: int = LEVELS) -> list[int]:
    """Channels per level: ``base · 2^l``, capped at ``8 base`` (32, 64, 128, 256, 256 for ``base = 32``)."""
    return [base * 2 ** min(level, 3) for level in range(levels)]


def init_params(base_channels: int = 16, levels: int = LEVELS, seed: int = 0) -> dict:
    r"""Random initial parameters (float32 NumPy arrays, PyTorch layouts).

    He-normal weights (std :math:`\sqrt{2/\text{fan-in}}`) for convolutions followed by an ELU, fan-in scaled
    (std :math:`1/\sqrt{\text{fan-in}}`) for the linear up-sampling, zero biases, and a small output layer so
    that the untrained network predicts almost the local approximation :math:`h_z = -M_z`, :math:`h_x = h_y = 0`.
    """
    rng = np.random.default_rng(seed)
    widths = channel_widths(base_channels, levels)
    params = {}

    def conv(name, c_in, c_out, k=3, gain=np.sqrt(2.0)):
        std = gain / np.sqrt(c_in * k * k)
        params[f"{name}.weight"] = rng.normal(0.0, std, (c_out, c_in, k, k)).astype(np.float32)
        params[f"{name}.bias"] = np.zeros(c_out, np.float32)

    c_in = IN_CHANNELS
    for level, width in enumerate(widths):
        conv(f"enc{level}.conv1", c_in, width)
        conv(f"enc{level}.conv2", width, width)
        c_in = width
    for level in reversed(range(levels - 1)):
        # transposed convolution from level + 1 to level: each output cell sees one input cell (fan-in c_in)
        c_coarse, c_fine = widths[level + 1], widths[level]
        params[f"up{level}.weight"] = rng.normal(0.0, 1.0 / np.sqrt(c_coarse), (c_coarse, c_fine, 2, 2)).astype(
            np.float32)
        params[f"up{level}.bias"] = np.zeros(c_fine, np.float32)
        conv(f"dec{level}.conv1", 2 * c_fine, c_fine)  # input: up-sampled features and the skip connection
        conv(f"dec{level}.conv2", c_fine, c_fine)
    conv("head", widths[0], OUT_CHANNELS, k=1, gain=0.1)
    return params


def num_levels(params) -> int:
    """Number of resolution levels of a parameter dictionary."""
    return sum(1 for key in params if key.startswith("enc") and key.endswith(".conv1.weight"))


def num_parameters(params) -> int:
    return int(sum(np.prod(tuple(v.shape)) for v in params.values()))


def _conv_elu(params, name, x, nn):
    return nn.elu(nn.conv2d(x, params[f"{name}.weight"], params[f"{name}.bias"], padding=1))


def forward(params, x, nn):
    r"""The U-Net, ``x`` ``(N, 4, H, W)`` → ``y`` ``(N, 3, H, W)``; ``H``, ``W`` multiples of ``2^(levels-1)``.

    Encoder level :math:`l`: (average pooling) → conv 3×3 → ELU → conv 3×3 → ELU, kept as skip :math:`s_l`.
    Decoder level :math:`l` (from the coarsest): transposed conv 2×2 / stride 2 of the coarser features,
    concatenated with :math:`s_l` → conv 3×3 → ELU → conv 3×3 → ELU. Output: a 1×1 convolution.
    A convolution of a channel concatenation ``[u, s]`` is computed as the sum of convolutions with the weight
    split along its input channels (the same linear map, without a concatenation primitive).
    """
    levels = num_levels(params)
    skips = []
    h = x
    for level in range(levels):
        if level:
            h = nn.avg_pool2d(h, 2)
        h = _conv_elu(params, f"enc{level}.conv1", h, nn)
        h = _conv_elu(params, f"enc{level}.conv2", h, nn)
        skips.append(h)
    for level in reversed(range(levels - 1)):
        up = nn.conv_transpose2d(h, params[f"up{level}.weight"], params[f"up{level}.bias"], stride=2)
        w, b = params[f"dec{level}.conv1.weight"], params[f"dec{level}.conv1.bias"]
        c = up.shape[1]
        h = nn.elu(nn.conv2d(up, w[:, :c], b, padding=1) + nn.conv2d(skips[level], w[:, c:], None, padding=1))
        h = _conv_elu(params, f"dec{level}.conv2", h, nn)
    return nn.conv2d(h, params["head.weight"], params["head.bias"])


def padding(shape, multiple: int = MULTIPLE) -> tuple:
    """``(top, bottom, left, right)`` zero padding that brings a ``(H, W)`` grid to multiples of ``multiple``,
    split evenly (the sample stays centred, as in training)."""
    pads = []
    for size in shape:
        extra = -size % multiple
        pads += [extra // 2, extra - extra // 2]
    return tuple(pads)


def predict(params, x, nn, odd: bool = True):
    r"""Field :math:`\mathbf{h}/M_\mathrm{ref}` ``(N, 3, H, W)`` of the input ``x`` ``(N, 4, H, W)`` (any ``H, W``).

    The grid is zero padded to multiples of 16 — empty space: zero magnetisation, mask 0 — and cropped back,
    and the local thin-film term is added to the out-of-plane output, :math:`h_z = y_z - M_z/M_\mathrm{ref}`.

    ``odd=True`` (the default, used by the field term) projects the network onto the odd functions of
    :math:`\mathbf{M}`, :math:`y = \frac{1}{2}[f(\mathbf{M}, \chi) - f(-\mathbf{M}, \chi)]` (:math:`\chi` the
    mask), as the exact field is linear in :math:`\mathbf{M}`. Training with sign-flip augmentation makes
    :math:`f` only approximately odd; its even part is a field that does not reverse with the magnetisation —
    on the shipped network about 2 % of the field, largest at sample corners, where it pins the magnetisation
    like a spurious bias field. The projection removes it exactly at twice the cost.
    """
    height, width = x.shape[2], x.shape[3]
    top, bottom, left, right = padding((height, width), MULTIPLE)

    def network(inputs):
        if top or bottom or left or right:
            padded = nn.pad2d(inputs, top, bottom, left, right)
            return forward(params, padded, nn)[:, :, top:top + height, left:left + width]
        return forward(params, inputs, nn)

    if odd:
        flip = nn.asarray(np.array([-1.0, -1.0, -1.0, 1.0]).reshape(1, 4, 1, 1), like=x)
        y = 0.5 * (network(x) - network(x * flip))
    else:
        y = network(x)
    local_z = nn.asarray(np.array([0.0, 0.0, 1.0]).reshape(1, 3, 1, 1), like=x)
    return y - x[:, :3] * local_z


# ---------------------------------------------------------------------------------------------- files
def save(path, params, metadata: dict | None = None, dtype: str = "float16") -> Path:
    """Write ``params`` (NumPy or framework arrays) and JSON ``metadata`` to the ``.npz`` file ``path``.

    ``dtype``: storage precision of the weights (``"float16"`` halves the file; the weights are read back as
    float32 and cast to the state's dtype). The metadata gets ``architecture``, ``format_version``,
    ``base_channels``, ``levels`` and ``storage_dtype``; pass the training geometry as ``cell_size``.
    """
    arrays = {}
    for key, value in params.items():
        arrays[key] = np.asarray(to_numpy(value), dtype=np.float32).astype(dtype)
    levels = num_levels(arrays)
    meta = dict(metadata or {})
    meta.update(architecture=ARCHITECTURE, format_version=FORMAT_VERSION, levels=levels,
                base_channels=int(arrays["enc0.conv1.weight"].shape[0]), storage_dtype=str(np.dtype(dtype)))
    return write_npz(path, arrays, meta, compressed=True)


def load(path) -> tuple[dict, dict]:
    """``(params, metadata)`` from a file written by :func:`save`; the weights as float32 NumPy arrays."""
    arrays, meta = read_npz(path)
    if not meta:
        raise ValueError(f"{path} is not a U-Net weight file (no __metadata__ entry).")
    if meta.get("architecture") != ARCHITECTURE:
        raise ValueError(f"{path} holds architecture {meta.get('architecture')!r}, not {ARCHITECTURE!r}.")
    return {key: value.astype(np.float32) for key, value in arrays.items()}, meta


def default_weights() -> Path:
    """Path of the pretrained checkpoint shipped with the package (``neuralmag/learned/data/unet_demag.npz``)."""
    return Path(__file__).resolve().parent / "data" / "unet_demag.npz"
