"""The floor of the RHS benchmark: a bare, jitted, zero-padded FFT convolution of the same size in the same
framework (JAX or PyTorch); prints one JSON record.

Three magnetisation components in, three field components out: ``rfftn`` of the ``n`` (film: ``n x n``, cube:
``n^3``) cell array zero-padded to ``2n`` along every axis, the product with the 6 real spectra of a symmetric
tensor kernel (``xx, yy, zz, xy, xz, yz``), ``irfftn`` and the crop back to ``n``. Nothing else — no
node/cell transfer, no exchange, no LLG — so ``RHS time / floor`` says how far a code is from the cost of its
unavoidable FFTs. JAX: ``jax.jit``; torch: eager (as the torch codes run; ``torch.fft`` dispatches straight to
pocketfft/MKL). Imports neither ``neuralmag`` nor anything of the harness but ``common``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

#: (row, column) of the full tensor -> index into the 6 stored components xx, yy, zz, xy, xz, yz
TENSOR = ((0, 3, 4), (3, 1, 5), (4, 5, 2))


def padded(n_cells) -> tuple:
    return tuple(2 * c for c in n_cells)


def make_conv(backend: str, n_cells):
    """``conv(M, K)``: ``M`` of shape ``n_cells + (3,)``, ``K`` real spectra ``(6,) + rfft shape``; returns
    ``h_i = sum_j N_ij * M_j`` (linear, not circular, convolution) of shape ``n_cells + (3,)``."""
    shape, axes = padded(n_cells), tuple(range(len(n_cells)))
    crop = tuple(slice(0, c) for c in n_cells)

    def product(K, X):
        return [sum(K[TENSOR[i][j]] * X[j] for j in range(3)) for i in range(3)]

    if backend == "jax":
        import jax
        import jax.numpy as jnp

        def conv(M, K):
            X = jnp.fft.rfftn(M, s=shape, axes=axes)
            H = jnp.stack(product(K, [X[..., j] for j in range(3)]), -1)
            return jnp.fft.irfftn(H, s=shape, axes=axes)[crop]

        return jax.jit(conv)
    import torch

    def conv(M, K):
        X = torch.fft.rfftn(M, s=shape, dim=axes)
        H = torch.stack(product(K, [X[..., j] for j in range(3)]), -1)
        return torch.fft.irfftn(H, s=shape, dim=axes)[crop]

    return conv


def spectra(kernel_real):
    """Real spectra ``(6,) + rfft shape`` (NumPy) of a real-space kernel ``(6,) + padded shape`` whose
    components have the parity of a demag tensor (diagonal even; ``xy`` odd in x and y, ...): their DFT is real."""
    import numpy as np

    axes = tuple(range(1, kernel_real.ndim))
    return np.fft.rfftn(kernel_real, axes=axes).real


def main(argv=None):
    args = common.parser(__doc__.splitlines()[0]).parse_args(argv)
    code = f"floor-{args.backend}"
    try:
        import numpy as np

        n_cells = common.cells(args) if args.dim == 3 else (args.n, args.n)
        rng = np.random.default_rng(0)
        M = rng.standard_normal(n_cells + (3,))
        K = rng.standard_normal((6,) + padded(n_cells)[:-1] + (padded(n_cells)[-1] // 2 + 1,))
        conv = make_conv(args.backend, n_cells)
        if args.backend == "jax":
            import jax

            if args.dtype == "float64":
                jax.config.update("jax_enable_x64", True)
            import jax.numpy as jnp

            M, K = jnp.asarray(M, dtype=args.dtype), jnp.asarray(K, dtype=args.dtype)

            def sync(x):
                return x.block_until_ready()
        else:
            import torch

            M, K = torch.as_tensor(M, dtype=getattr(torch, args.dtype)), torch.as_tensor(K, dtype=getattr(torch, args.dtype))

            def sync(x):
                return x
        fields = common.bare_call_fields(lambda: conv(M, K), sync, args.rhs_min_time)
        common.emit(common.record(args, code, fft_shape=list(padded(n_cells)), per_rhs_ms=fields["rhs_loop_ms"],
                                  tensor_dtype=str(M.dtype), **fields))
    except Exception as err:  # noqa: BLE001
        common.fail(args, code, err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
