"""Virtual environments for the peer codes of ``benchmarks/bench_rhs.py``.

Every peer package gets its own ``python -m venv`` under a cache directory (default
``~/.cache/neuralmag-bench/venvs/<venv>``, ``--cache`` / ``NM_BENCH_CACHE`` override it), created *without*
system site-packages: the PyPI ``neuralmag`` has the same import name as this repository's package, so it must
never share an environment with it (and our editable install must not be visible in the peer's venv).

Framework versions are pinned to those of the running (main) environment where it has them (``torch``, ``jax``,
``jaxlib``, ``diffrax``, ``torchdiffeq``), so that both sides run the same FFT libraries; pip's configuration
(``pip config list``: extra indexes, ``find-links``) is inherited, which is where the CPU build of
``torch==2.13.0`` comes from on our machines. If a pinned install fails, an unpinned one is tried; if that fails
too the reason is recorded in ``<venv>/install.json`` and the peer is reported as unavailable.

Usage::

    python benchmarks/peers.py [--cache DIR] [--venvs neuralmag magnumnp] [--force]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import subprocess
import sys
import time
from pathlib import Path

#: venv name -> (pip requirements, import names checked after the install, frameworks pinned to our versions)
VENVS = {
    "neuralmag": (["neuralmag[jax,torch]"], ["neuralmag", "jax", "torch"],
                  ("torch", "jax", "jaxlib", "diffrax", "torchdiffeq")),
    "magnumnp": (["magnumnp"], ["magnumnp", "torch"], ("torch", "torchdiffeq")),
}
#: benchmarked code -> venv that provides it (codes starting with "ours-" run in the main environment)
PEER_CODES = {"neuralmag-jax": "neuralmag", "neuralmag-torch": "neuralmag", "magnumnp": "magnumnp"}


def default_cache() -> Path:
    return Path(os.environ.get("NM_BENCH_CACHE", "~/.cache/neuralmag-bench")).expanduser()


def venv_dir(cache: Path, name: str) -> Path:
    return Path(cache) / "venvs" / name


def venv_python(cache: Path, name: str) -> Path:
    return venv_dir(cache, name) / "bin" / "python"


def pins(packages) -> list[str]:
    """``pkg==version`` for those of ``packages`` installed in this (the main) environment."""
    out = []
    for pkg in packages:
        try:
            version = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            continue
        out.append(f"{pkg}=={version.split('+')[0]}")  # torch 2.13.0+cpu -> torch==2.13.0 (pip prefers +cpu)
    return out


def clean_env() -> dict:
    """Environment for peer processes: no PYTHONPATH / NM_* leaking from our side."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV") and not k.startswith("NM_")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _run(cmd, log, timeout=3600):
    log.write(f"$ {' '.join(map(str, cmd))}\n")
    log.flush()
    proc = subprocess.run([str(c) for c in cmd], stdout=log, stderr=subprocess.STDOUT, env=clean_env(),
                          timeout=timeout)
    return proc.returncode


def install(name: str, cache: Path | None = None, force: bool = False, verbose: bool = True) -> dict:
    """Create the venv ``name`` and install its peer; returns (and stores) ``{"ok", "reason", ...}``."""
    cache = Path(cache or default_cache())
    requirements, imports, pinned_packages = VENVS[name]
    vdir = venv_dir(cache, name)
    record_path = vdir / "install.json"
    if record_path.exists() and not force:
        record = json.loads(record_path.read_text())
        if record.get("ok") and venv_python(cache, name).exists():
            return record
    vdir.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    record = {"venv": str(vdir), "requirements": requirements, "ok": False, "reason": ""}
    if verbose:
        print(f"[peers] installing {name} into {vdir} (log: {vdir}/install.log)", flush=True)
    try:
        if force and vdir.exists():
            import shutil

            shutil.rmtree(vdir)
        if not venv_python(cache, name).exists():
            if subprocess.run([sys.executable, "-m", "venv", str(vdir)], env=clean_env()).returncode:
                raise RuntimeError("python -m venv failed")
        vdir.mkdir(parents=True, exist_ok=True)
        py = venv_python(cache, name)
        with open(vdir / "install.log", "a") as log:
            # numpy / psutil are needed by the runner scripts themselves
            base = [py, "-m", "pip", "install", "--disable-pip-version-check", "psutil"]
            pinned = pins(pinned_packages)
            rc = _run(base + requirements + pinned, log)
            record["pins"] = pinned
            if rc != 0:
                log.write("[peers] pinned install failed; trying without pins\n")
                record["pins"] = []
                rc = _run(base + requirements, log)
            if rc != 0:
                raise RuntimeError(f"pip install {' '.join(requirements)} failed (exit {rc}); see {vdir}/install.log")
            check = subprocess.run([str(py), "-c", "import importlib.metadata as m, json, sys; "
                                    f"[__import__(n) for n in {imports!r}]; "
                                    "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"],
                                   capture_output=True, text=True, env=clean_env(), cwd=str(vdir))
            if check.returncode:
                raise RuntimeError(f"import check failed: {check.stderr.strip().splitlines()[-1:]}")
            versions = json.loads(check.stdout.strip().splitlines()[-1])
            record["versions"] = {k: versions[k] for k in sorted(versions)
                                  if k.lower() in ("neuralmag", "magnumnp", "torch", "jax", "jaxlib", "diffrax",
                                                   "torchdiffeq", "numpy")}
            record["ok"] = True
    except Exception as err:  # noqa: BLE001 - any failure is recorded and the benchmark continues
        record["reason"] = f"{type(err).__name__}: {err}"
    record["seconds"] = round(time.time() - t0, 1)
    vdir.mkdir(parents=True, exist_ok=True)
    record_path.write_text(json.dumps(record, indent=1))
    if verbose:
        print(f"[peers] {name}: " + ("ok " + json.dumps(record.get("versions", {})) if record["ok"]
                                     else "NOT AVAILABLE: " + record["reason"]), flush=True)
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=default_cache())
    parser.add_argument("--venvs", nargs="+", default=list(VENVS), choices=list(VENVS))
    parser.add_argument("--force", action="store_true", help="recreate the venvs")
    args = parser.parse_args(argv)
    ok = True
    for name in args.venvs:
        ok &= install(name, args.cache, args.force)["ok"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
