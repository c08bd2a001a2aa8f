"""The ``neuralmag`` command line: help, kernels of built-in and user terms, errors, the demo."""

import ast
import csv
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import neuralmag as nm
from neuralmag.cli import builtin_terms, main

A1_MODULE = '''
import neuralmag as nm


class MyExchange(nm.FieldTerm):
    default_name = "myexchange"

    @staticmethod
    def e_expr(m, dim):
        A = nm.Variable("material__A", "c" * dim)
        return A * (m.diff(nm.N.x).dot(m.diff(nm.N.x))
                    + m.diff(nm.N.y).dot(m.diff(nm.N.y))
                    + m.diff(nm.N.z).dot(m.diff(nm.N.z))) * nm.dV(dim)


class NotATerm:
    pass
'''


def run_main(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def exit_code(capsys, *argv):
    with pytest.raises(SystemExit) as err:
        main(list(argv))
    return err.value.code, capsys.readouterr()


def test_help_lists_subcommands(capsys):
    code, out = exit_code(capsys, "--help")
    assert code == 0
    assert "kernels" in out.out and "demo" in out.out


@pytest.mark.parametrize("module", ["neuralmag", "neuralmag.cli"])
def test_python_dash_m(module):
    result = subprocess.run([sys.executable, "-m", module, "kernels", "--help"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "--backend" in result.stdout and "--dim" in result.stdout


def test_missing_command_is_an_error(capsys):
    code, out = exit_code(capsys)
    assert code == 2 and "COMMAND" in out.err


@pytest.mark.parametrize("name, dim", [("exchange", 3), ("ExchangeField", 2)])
def test_kernels_prints_kernel_source(capsys, backend, name, dim):
    code, out, _ = run_main(capsys, "kernels", name, "--dim", str(dim), "--backend", backend)
    assert code == 0
    assert out == nm.kernel_source(nm.ExchangeField(), dim=dim, backend=backend) + "\n"
    assert f"dim={dim}" in out and f"backend={backend}" in out
    assert re.search(r"^def h\(.*\bm\b.*\):$", out, re.M) and re.search(r"^def E\(", out, re.M)
    loops = (ast.For, ast.While, ast.If, ast.IfExp, ast.comprehension)
    assert not [n for n in ast.walk(ast.parse(out)) if isinstance(n, loops)]  # straight-line code only
    assert ("jnp." in out) == (backend == "jax") and ("torch." in out) == (backend == "torch")


def test_kernels_default_backend_follows_config(capsys, backend):
    code, out, _ = run_main(capsys, "kernels", "exchange", "--dim", "1")
    assert code == 0 and f"backend={backend}" in out.splitlines()[0]


def test_kernels_pbc(capsys):
    _, periodic, _ = run_main(capsys, "kernels", "exchange", "--dim", "2", "--pbc", "x", "--backend", "torch")
    _, open_, _ = run_main(capsys, "kernels", "exchange", "--dim", "2", "--backend", "torch")
    assert "pbc=(True, False)" in periodic.splitlines()[0] and "pbc=(False, False)" in open_.splitlines()[0]
    assert periodic != open_ and "torch.roll" in periodic
    code, out = exit_code(capsys, "kernels", "exchange", "--pbc", "w")
    assert code == 2 and "xyz" in out.err


def test_kernels_of_user_term(capsys, tmp_path, monkeypatch):
    """A1 as module:ClassName; it is the exchange energy, so its kernels equal ExchangeField's."""
    (tmp_path / "nm_user_terms.py").write_text(A1_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, _ = run_main(capsys, "kernels", "nm_user_terms:MyExchange", "--dim", "3", "--backend", "jax")
    assert code == 0 and "for MyExchange" in out.splitlines()[0]
    exchange = nm.kernel_source(nm.ExchangeField, dim=3, backend="jax")
    assert out.replace("MyExchange", "ExchangeField") == exchange + "\n"


def test_kernels_bad_user_terms(capsys, tmp_path, monkeypatch):
    (tmp_path / "nm_user_terms2.py").write_text(A1_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    for spec, message in [("nm_user_terms2:NotATerm", "not a subclass"), ("nm_user_terms2:Missing", "cannot load"),
                          ("no_such_module_xyz:Term", "cannot load")]:
        code, out = exit_code(capsys, "kernels", spec)
        assert code == 2 and message in out.err


def test_unknown_term_lists_available_names(capsys):
    code, out = exit_code(capsys, "kernels", "exchnage")
    assert code == 2
    assert "unknown term 'exchnage'" in out.err
    assert "exchange" in out.err and "module:ClassName" in out.err
    assert out.out == ""


def test_unknown_term_exit_code_in_subprocess():
    result = subprocess.run([sys.executable, "-m", "neuralmag", "kernels", "nosuchterm"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2 and "Available terms" in result.stderr and "exchange" in result.stderr


def test_builtin_terms_are_discovered():
    terms = builtin_terms()
    assert terms["exchange"] is nm.ExchangeField and terms["ExchangeField"] is nm.ExchangeField
    for name, cls in terms.items():
        assert issubclass(cls, nm.FieldTerm) and cls.default_name
        assert name in (cls.__name__, cls.default_name)
    # a default name shared by several classes is not a name (it would be ambiguous); the class names are
    shared = {c.default_name for c in terms.values()
              if sum(d.default_name == c.default_name for d in set(terms.values())) > 1}
    assert not shared & set(terms)


def test_demo_relax(capsys, tmp_path, backend):
    import importlib.util

    code, out, _ = run_main(capsys, "demo", "relax", "--backend", backend, "--out", str(tmp_path))
    assert code == 0
    text = out.replace("relax_field_demo", "").replace(str(tmp_path), "")
    assert "field demo" in text and "relax" not in text  # it claims no relaxation
    last = out.strip().splitlines()[-1]
    match = re.fullmatch(r"RESULT relax_field_demo E_exchange=(\S+)", last)
    assert match, last
    energy = float(match.group(1))

    # the discrete exchange energy of the vortex is within the O(dx²) discretisation error of the continuum one
    spec = importlib.util.spec_from_file_location("relax_field_demo_test", "demos/relax_field_demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    reference = demo.continuum_energy(demo.N_CELLS * demo.DX)
    assert abs(energy / reference - 1) < 1e-2

    with open(tmp_path / "relax_field_demo.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == demo.N_CELLS + 1
    assert list(rows[0]) == ["x", "y", "mx", "my", "mz", "hx", "hy", "hz"]
    data = np.array([[float(r[k]) for k in rows[0]] for r in rows])
    np.testing.assert_allclose(np.linalg.norm(data[:, 2:5], axis=1), 1.0, rtol=1e-8)  # 10 digits
    np.testing.assert_allclose(data[:, 1], demo.N_CELLS * demo.DX / 2)  # the line through the centre
    centre = demo.N_CELLS // 2
    assert data[centre, 4] == pytest.approx(1.0)  # the core
    assert data[centre, 7] < 0  # the exchange field opposes the core: it pulls m_z toward the surrounding
    png = (tmp_path / "relax_field_demo.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_demo_runs_a_validation_demo(capsys, tmp_path):
    """Validation demos import demos/validation_common.py; the CLI puts demos/ on the path for them."""
    code, out, _ = run_main(capsys, "demo", "stoner_wohlfarth", "--quick", "--backend", "jax", "--out", str(tmp_path))
    assert code == 0
    last = out.strip().splitlines()[-1]
    assert last.startswith("RESULT stoner_wohlfarth")
    assert float(re.search(r"max_rel_err=(\S+)", last).group(1)) < 5e-3
    assert (tmp_path / "stoner_wohlfarth.png").is_file()
