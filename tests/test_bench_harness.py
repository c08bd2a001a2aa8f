"""The RHS benchmark harness (benchmarks/bench_rhs.py): our runner's record and the floor's correctness.

No peers are installed and nothing is timed against a threshold: the runner must produce a well-formed record
for a small film on each backend, and the floor (a bare zero-padded FFT convolution) must equal a direct
convolution, so that "RHS time / floor" compares against the right operation.
"""

import importlib.util
import itertools
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

RUNNERS = Path(__file__).resolve().parent.parent / "benchmarks" / "runners"


def load(name):
    if str(RUNNERS) not in sys.path:
        sys.path.insert(0, str(RUNNERS))
    spec = importlib.util.spec_from_file_location(f"bench_runner_{name}", RUNNERS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def records(capsys):
    out = capsys.readouterr().out
    return [json.loads(line[len("BENCH_JSON "):]) for line in out.splitlines() if line.startswith("BENCH_JSON ")]


def test_our_runner_record(backend, capsys):
    ours = load("ours")
    rc = ours.main(["--n", "16", "--backend", backend, "--dtype", "float64", "--time", "1e-12", "--warmup", "2e-13",
                    "--rhs-min-time", "0.02"])
    (rec,) = records(capsys)
    assert rc == 0, rec.get("error")
    assert "error" not in rec
    assert (rec["code"], rec["backend"], rec["grid"], rec["n"], rec["cells"], rec["dtype"]) == (
        "ours", backend, "dual", 16, 256, "float64")
    assert rec["tensor_dtype"].endswith("float64")
    assert isinstance(rec["n_rhs"], int) and rec["n_rhs"] >= 7  # at least one Dopri5 step
    for key in ("per_rhs_ms", "rhs_loop_ms", "wall_s", "first_field_s", "jit_rhs_s", "warmup_s", "peak_rss_mb"):
        assert math.isfinite(rec[key]) and rec[key] > 0 or key == "jit_rhs_s" and rec[key] >= 0, key
    assert rec["per_rhs_ms"] == pytest.approx(1e3 * rec["wall_s"] / rec["n_rhs"])
    assert set(rec["register_s"]) == {"exchange", "demag", "external", "total"}


def test_our_runner_first_field_mode(capsys):
    ours = load("ours")
    assert ours.main(["--n", "8", "--backend", "torch", "--grid", "cell", "--mode", "first-field"]) == 0
    (rec,) = records(capsys)
    assert rec["mode"] == "first-field" and rec["grid"] == "cell"
    assert rec["first_field_s"] >= rec["first_h_s"] > 0 and "per_rhs_ms" not in rec


def direct_convolution(kernel, M, pad):
    """h_i(x) = sum_y sum_j N_ij(x - y) M_j(y) by explicit sums; ``kernel`` is indexed by offset mod ``pad``."""
    floor = load("floor")
    n = M.shape[:-1]
    h = np.zeros(M.shape)
    for x in itertools.product(*(range(c) for c in n)):
        for y in itertools.product(*(range(c) for c in n)):
            d = tuple((a - b) % p for a, b, p in zip(x, y, pad))
            for i in range(3):
                h[x + (i,)] += sum(kernel[(floor.TENSOR[i][j],) + d] * M[y + (j,)] for j in range(3))
    return h


def parity_kernel(n, rng):
    """Random real-space kernel on the padded grid with the parities of the demag tensor (diagonal even,
    xy odd in x and y, xz in x and z, yz in y and z; in 2D the z-odd components vanish, as for a film)."""
    pad = tuple(2 * c for c in n)
    odd = [(), (), (), (0, 1), (0, 2), (1, 2)]
    kernel = np.zeros((6,) + pad)
    for c in range(6):
        if any(a >= len(n) for a in odd[c]):
            continue  # 2D film: xz, yz are zero
        raw = rng.standard_normal(pad)
        for d in itertools.product(*(range(-(k - 1), k) for k in n)):
            sign = np.prod([-1.0 if a in odd[c] else 1.0 for a in range(len(n))])
            minus = tuple(-v for v in d)
            kernel[(c,) + tuple(v % p for v, p in zip(d, pad))] = 0.5 * (raw[d] + sign * raw[minus])
    return kernel, pad


@pytest.mark.parametrize("n", [(5, 4), (3, 4, 2)])
@pytest.mark.parametrize("framework", ["jax", "torch"])
def test_floor_is_the_zero_padded_convolution(framework, n):
    floor = load("floor")
    rng = np.random.default_rng(1)
    kernel, pad = parity_kernel(n, rng)
    M = rng.standard_normal(n + (3,))
    expected = direct_convolution(kernel, M, pad)
    spectra = floor.spectra(kernel)
    conv = floor.make_conv(framework, n)
    if framework == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)  # as a float64 neuralmag state does
        import jax.numpy as jnp

        got = np.asarray(conv(jnp.asarray(M), jnp.asarray(spectra)))
    else:
        import torch

        got = conv(torch.as_tensor(M), torch.as_tensor(spectra)).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10 * np.abs(expected).max())


def test_report_compares_per_rhs_and_per_simulated_time(tmp_path):
    """The report divides each code's timed wall time by the simulated time, so that codes whose controllers
    need different numbers of RHS evaluations compare per simulated time as well as per RHS."""
    spec = importlib.util.spec_from_file_location("bench_rhs", RUNNERS.parent / "bench_rhs.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    common = {"dim": 2, "n": 64, "dtype": "float32", "mode": "full", "t_sim": 2e-11}
    recs = [{"kind": "meta", "started": "x", "argv": [], "cpus": 2, "load_start": 0.0},
            dict(common, code="ours", backend="torch", grid="cell", per_rhs_ms=2.0, n_rhs=300, wall_s=0.6),
            dict(common, code="magnumnp", backend="torch", grid="", per_rhs_ms=1.0, n_rhs=900, wall_s=0.9)]
    (tmp_path / "rhs.jsonl").write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    text = bench.report(tmp_path)
    per_ps = text.split("## Wall time per simulated time")[1].split("## Bare RHS")[0]
    assert "| 64² film | float32 | 30.0 | 45.0 |" in per_ps  # 0.6 s / 20 ps, 0.9 s / 20 ps
    assert "| 64² film | float32 | 0.67 |" in per_ps  # ours-torch (cell) / magnumnp per simulated time
    per_rhs = text.split("## Ratios of the per-RHS times")[1].split("## Wall time")[0]
    assert "| 64² film | float32 | 2.00 |" in per_rhs
