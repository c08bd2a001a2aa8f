"""Set-up time of the demagnetisation kernel (Newell tensor + real FFT), NumPy float64.

Usage::

    python benchmarks/bench_demag_setup.py [--repeat 3]

Prints one row per mesh: the octant of the tensor (exact near field and far field), the assembled kernel on
the FFT grid, the spectrum (total set-up, as done by ``DemagField.register``), best of ``--repeat`` runs.
The issue asks for at most 2 s for 512 x 512 x 1.
"""

from __future__ import annotations

import argparse
import time

from neuralmag.field_terms import newell

CASES = [
    # (label, n, dx, pbc, images)
    ("512x512 (2D film)", (512, 512), (5e-9, 5e-9, 3e-9), None, None),
    ("512x512x1 (3D)", (512, 512, 1), (5e-9, 5e-9, 3e-9), None, None),
    ("256x256 (2D film)", (256, 256), (2e-9, 2e-9, 1e-9), None, None),
    ("32x32x32", (32, 32, 32), (2e-9, 2e-9, 2e-9), None, None),
    ("64x64x64", (64, 64, 64), (2e-9, 2e-9, 2e-9), None, None),
    ("128x128x16", (128, 128, 16), (2e-9, 2e-9, 1e-9), None, None),
    ("256x64x8", (256, 64, 8), (2e-9, 2e-9, 3e-9), None, None),
    ("128x128 PBC xy, 10 images", (128, 128), (2e-9, 2e-9, 1e-9), (True, True), 10),
    ("64x64x8 PBC xy, 10 images", (64, 64, 8), (2e-9, 2e-9, 1e-9), (True, True, False), 10),
]


def best(f, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    newell.kernel_spectrum((8, 8), (1, 1, 1))  # warm up NumPy's FFT
    print(f"{'mesh':30s} {'FFT grid':>16s} {'octant':>9s} {'kernel':>9s} {'total':>9s}")
    for label, n, dx, pbc, images in CASES:
        pbc_ = pbc or (False,) * len(n)
        counts = [1, 1, 1]
        for k in range(len(n)):
            counts[k] = (images or 0) * n[k] + n[k] // 2 + 1 if pbc_[k] else n[k]
        t_oct = best(lambda: newell.octant(counts, dx), args.repeat)
        t_kernel = best(lambda: newell.real_space_kernel(n, dx, pbc, images=images), args.repeat)
        t_total = best(lambda: newell.kernel_spectrum(n, dx, pbc, images=images), args.repeat)
        grid = "x".join(map(str, newell.padded_shape(n, pbc)))
        print(f"{label:30s} {grid:>16s} {t_oct:8.3f}s {t_kernel:8.3f}s {t_total:8.3f}s")


if __name__ == "__main__":
    main()
