"""The on-disk kernel cache (issue 3): written on first use, private, verified on read, optional, and visible
in tracebacks. Every test uses its own temporary cache directory and an empty in-memory table."""

import os
import stat
import traceback

import numpy as np
import pytest

import neuralmag as nm
from neuralmag.forms import compiler
from neuralmag.forms.compiler import load_kernels

HEADER = "# neuralmag-kernel sha256="


@pytest.fixture(autouse=True)
def empty_memory(monkeypatch):
    """A fresh in-memory kernel table per test (restored afterwards, so other tests keep theirs)."""
    monkeypatch.setattr(compiler, "_loaded", {})


def forget():
    compiler._loaded.clear()


def kernel_files(directory):
    return sorted(p for p in directory.iterdir() if p.suffix == ".py")


def exchange_inputs(backend_name, n=(3, 2, 2)):
    """Raw inputs of the exchange h kernel, as tensors of ``backend_name``, with a non-uniform m."""
    state = nm.State(nm.Mesh(n, (1e-9, 1e-9, 1e-9)), backend=backend_name, dtype="float64")
    state.material.Ms = 8e5
    state.material.A = 1.3e-11
    rng = np.random.default_rng(0)
    state.m = rng.normal(size=tuple(k + 1 for k in n) + (3,))
    return state, dict(dx=state.dx, m=state.m.tensor, material__A=state.material.A.tensor,
                       material__Ms=state.material.Ms.tensor, rho=state.rho.tensor)


def test_first_load_writes_a_private_verified_file(backend, tmp_path):
    cache = tmp_path / "deep" / "cache"
    kernels = load_kernels(nm.ExchangeField(), 3, backend, cache_dir=cache)
    # torch: the field kernel also in its two parts (forms.ir.split_coefficients)
    assert set(kernels) == ({"h", "h_coefficients", "h_apply", "E", "e"} if backend == "torch" else {"h", "E", "e"})
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    files = kernel_files(cache)
    assert len(files) == 1
    text = files[0].read_text()
    assert text.startswith(HEADER)
    body = text.partition("\n")[2]
    assert body == nm.kernel_source(nm.ExchangeField, dim=3, backend=backend)
    assert kernels["h"].source == body
    assert not [p for p in cache.iterdir() if p.suffix != ".py"]  # no temporary files left behind


def test_second_process_reads_the_file(backend, tmp_path, monkeypatch):
    """With an empty memory table the kernels come from the file: the compiler passes are not run."""
    load_kernels(nm.ExchangeField(), 2, backend, cache_dir=tmp_path)
    forget()
    (path,) = kernel_files(tmp_path)
    mtime = path.stat().st_mtime_ns

    def no_compiling(*args, **kwargs):
        raise AssertionError("the compiler ran although the cache holds the kernels")

    monkeypatch.setattr(compiler, "kernel_source", no_compiling)
    kernels = load_kernels(nm.ExchangeField(), 2, backend, cache_dir=tmp_path)
    assert callable(kernels["h"])
    assert path.stat().st_mtime_ns == mtime


CORRUPTIONS = {
    "truncated": lambda text: text[: len(text) // 2].encode(),
    "edited body": lambda text: text.replace("dx0 = dx[0]", "dx0 = 2*dx[0]", 1).encode(),
    "malicious body": lambda text: text.replace(
        "\ndef h(", "\nraise RuntimeError('trusted a bad cache file')\ndef h(", 1).encode(),
    "header only": lambda text: text.partition("\n")[0].encode(),
    "empty": lambda text: b"",
    "not utf-8": lambda text: b"\xff\xfe\x00garbage",
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_corrupt_file_is_regenerated(backend, tmp_path, corruption):
    _, args = exchange_inputs(backend)
    good = load_kernels(nm.ExchangeField(), 3, backend, cache_dir=tmp_path)
    expected = np.asarray(good["h"](**args))
    (path,) = kernel_files(tmp_path)
    original = path.read_bytes()
    bad = CORRUPTIONS[corruption](original.decode())
    assert bad != original
    path.write_bytes(bad)
    forget()
    kernels = load_kernels(nm.ExchangeField(), 3, backend, cache_dir=tmp_path)
    np.testing.assert_array_equal(np.asarray(kernels["h"](**args)), expected)
    assert path.read_bytes() == original  # rewritten with the correct content


def test_unreadable_cache_entry_is_bypassed(backend, tmp_path):
    """A directory where the kernel file should be: cannot be read nor replaced, kernels still work."""
    load_kernels(nm.ExchangeField(), 1, backend, cache_dir=tmp_path)
    (path,) = kernel_files(tmp_path)
    path.unlink()
    path.mkdir()
    forget()
    kernels = load_kernels(nm.ExchangeField(), 1, backend, cache_dir=tmp_path)
    assert callable(kernels["h"]) and path.is_dir()


def test_unwritable_cache_dir_compiles_in_memory(backend, tmp_path):
    """The cache lies below a regular file, so it cannot be created (independent of permissions and root)."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    cache = blocker / "cache"
    state, args = exchange_inputs(backend)
    kernels = load_kernels(nm.ExchangeField(), 3, backend, cache_dir=cache)
    h = np.asarray(kernels["h"](**args))
    assert h.shape == (4, 3, 3, 3) and np.abs(h).max() > 0
    assert not cache.exists()
    assert kernels["h"].__code__.co_filename.startswith("<neuralmag-kernel-")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_cache_dir_compiles_in_memory(backend, tmp_path):
    cache = tmp_path / "ro"
    cache.mkdir()
    cache.chmod(0o500)
    try:
        kernels = load_kernels(nm.ExchangeField(), 2, backend, cache_dir=cache)
        assert callable(kernels["h"]) and not list(cache.iterdir())
    finally:
        cache.chmod(0o700)


def test_interrupted_write_leaves_nothing_behind(backend, tmp_path, monkeypatch):
    """A failure between writing the temporary file and the rename leaves no partial or temporary file."""
    from neuralmag.forms import cache as cache_module

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(cache_module.os, "replace", failing_replace)
    kernels = load_kernels(nm.ExchangeField(), 2, backend, cache_dir=tmp_path)
    assert callable(kernels["h"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("writable", [True, False])
def test_traceback_shows_generated_line(backend, tmp_path, writable):
    if writable:
        cache = tmp_path
    else:
        (tmp_path / "file").write_text("")
        cache = tmp_path / "file" / "cache"
    kernels = load_kernels(nm.ExchangeField(), 3, backend, cache_dir=cache)
    _, args = exchange_inputs(backend)
    _, wrong = exchange_inputs(backend, n=(2, 2, 2))
    args["material__A"] = wrong["material__A"]  # cell array of the wrong shape
    if writable:
        (path,) = kernel_files(tmp_path)
        path.unlink()  # the lines are still shown: they were registered with linecache
    with pytest.raises(Exception) as info:
        kernels["h"](**args)
    source_lines = {line.strip() for line in kernels["h"].source.splitlines()}
    frames = [f for f in traceback.extract_tb(info.value.__traceback__) if f.name == "h"
              and f.filename == kernels["h"].__code__.co_filename]
    assert frames, traceback.format_exception(info.value)
    assert frames[-1].line and frames[-1].line.strip() in source_lines
    assert "material__A" in frames[-1].line or "k0" in frames[-1].line
    text = "".join(traceback.format_exception(info.value))
    assert frames[-1].line.strip() in text


def test_cache_key_depends_on_dim_backend_form_and_options(tmp_path):
    for backend in ("jax", "torch"):
        for dim in (1, 2, 3):
            load_kernels(nm.ExchangeField(), dim, backend, cache_dir=tmp_path)
    assert len(kernel_files(tmp_path)) == 6
    load_kernels(nm.ExchangeField(), 2, "torch", pbc=(True, False), cache_dir=tmp_path)
    load_kernels(nm.ExchangeField(), 2, "torch", quadrature_degree=2, cache_dir=tmp_path)
    load_kernels(nm.UniaxialAnisotropyField(), 2, "torch", cache_dir=tmp_path)
    assert len(kernel_files(tmp_path)) == 9
    # same form and options again: no new file, same name
    forget()
    load_kernels(nm.ExchangeField(), 3, "jax", cache_dir=tmp_path)
    assert len(kernel_files(tmp_path)) == 9
    keys = {compiler._form_key(nm.ExchangeField(), compiler.CompileOptions(d), b)
            for d in (1, 2, 3) for b in ("jax", "torch")}
    assert {p.stem for p in kernel_files(tmp_path)} >= keys and len(keys) == 6


def test_default_cache_dir_follows_nm_cachedir(tmp_path, monkeypatch):
    monkeypatch.setenv("NM_CACHEDIR", str(tmp_path / "env-cache"))
    assert nm.config.cache_dir == tmp_path / "env-cache"
    load_kernels(nm.ExchangeField(), 1, "torch")
    assert len(kernel_files(tmp_path / "env-cache")) == 1
    assert stat.S_IMODE((tmp_path / "env-cache").stat().st_mode) == 0o700



def test_concurrent_writers_never_expose_a_partial_file(tmp_path):
    """Writers replace the file over and over while readers poll it: whenever the file exists, it is complete
    (temporary file + atomic rename). A writer that truncates and rewrites in place fails this."""
    import threading

    from neuralmag.forms.cache import KernelCache

    body = nm.kernel_source(nm.ExchangeField, 3, "torch")
    key = "0" * 40
    cache = KernelCache(tmp_path)
    path = cache.path(key)
    stop = threading.Event()
    seen = {"complete": 0, "partial": 0}

    def writer():
        for _ in range(20):
            assert cache.write(key, body) == path

    def reader():
        while not stop.is_set():
            if path.exists():
                if cache.read(key) == body:
                    seen["complete"] += 1
                else:
                    seen["partial"] += 1

    readers = [threading.Thread(target=reader) for _ in range(2)]
    writers = [threading.Thread(target=writer) for _ in range(3)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert seen["partial"] == 0 and seen["complete"] > 0
    assert list(tmp_path.iterdir()) == [path]  # no temporary files left
    assert cache.read(key) == body


def test_kernel_source_does_not_depend_on_the_hash_seed(tmp_path):
    """The printed kernels are the same text in every process: users diff them, and the cache holds one file per
    key. Set iteration in the form compiler follows PYTHONHASHSEED (it reordered the quadrature temporaries of
    the exchange energy before the symbols were sorted)."""
    import subprocess
    import sys

    script = ("import neuralmag as nm\n"
              "for cls in (nm.ExchangeField, nm.InterfaceDMIField):\n"
              "    print(nm.kernel_source(cls, 2, 'torch'))\n")
    sources = []
    for seed in ("1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=seed, NM_CACHEDIR=str(tmp_path / seed))
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        sources.append(done.stdout)
    assert "def h(" in sources[0]
    assert sources[1] == sources[0] and sources[2] == sources[0]
