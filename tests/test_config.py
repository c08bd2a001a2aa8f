"""nm.config: validation, environment variables, lazy backend imports, states keep their backend/dtype."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import neuralmag as nm

from .utils import to_numpy


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with the environment variables ``env`` set (None removes one)."""
    environ = dict(os.environ)
    for key, value in env.items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=environ, timeout=120)


def mesh():
    return nm.Mesh((3, 2, 2), (1e-9, 1e-9, 1e-9))


# ---------------------------------------------------------------------------------------------- validation
def test_unknown_backend_lists_valid_values():
    old = nm.config.backend
    with pytest.raises(ValueError, match="numpy") as err:
        nm.config.backend = "numpy"
    assert "'jax'" in str(err.value) and "'torch'" in str(err.value)
    assert nm.config.backend == old  # a failed assignment changes nothing


def test_unknown_dtype_lists_valid_values():
    old = nm.config.dtype
    with pytest.raises(ValueError, match="float16") as err:
        nm.config.dtype = "float16"
    assert "'float32'" in str(err.value) and "'float64'" in str(err.value)
    assert nm.config.dtype == old


def test_state_rejects_unknown_backend_and_dtype():
    with pytest.raises(ValueError, match="'jax', 'torch'"):
        nm.State(mesh(), backend="tensorflow")
    with pytest.raises(ValueError, match="'float32', 'float64'"):
        nm.State(mesh(), dtype="half")


def test_cache_dir_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("NM_CACHEDIR", str(tmp_path / "kern"))
    assert nm.config.cache_dir == tmp_path / "kern"


# ---------------------------------------------------------------------------------------------- environment
@pytest.mark.parametrize("backend_name, dtype_name", [("jax", "float32"), ("torch", "float64")])
def test_environment_sets_start_values(backend_name, dtype_name):
    out = run_python("""
        import neuralmag as nm
        print(nm.config.backend, nm.config.dtype)
    """, NM_BACKEND=backend_name, NM_DTYPE=dtype_name)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [backend_name, dtype_name]


def test_environment_defaults_without_variables():
    out = run_python("""
        import neuralmag as nm
        print(nm.config.backend, nm.config.dtype, nm.config.device)
    """, NM_BACKEND=None, NM_DTYPE=None, NM_DEVICE=None)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["jax", "float64", "None"]


def test_bad_environment_value_fails_clearly():
    out = run_python("import neuralmag", NM_BACKEND="numpy")
    assert out.returncode != 0
    assert "ValueError" in out.stderr and "'jax', 'torch'" in out.stderr


# ---------------------------------------------------------------------------------------------- lazy imports
def test_import_neuralmag_imports_no_backend():
    out = run_python("""
        import sys
        import neuralmag as nm
        print(sorted(m for m in ("jax", "torch") if m in sys.modules))
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("used, unused", [("jax", "torch"), ("torch", "jax")])
def test_state_imports_only_its_backend(used, unused):
    """Creating a state (and filling m) loads the configured backend and never the other one."""
    out = run_python(f"""
        import sys
        import neuralmag as nm
        state = nm.State(nm.Mesh((2, 2, 1), (1e-9, 1e-9, 1e-9)))
        state.material.Ms = 8e5
        state.m = nm.VectorFunction(state).fill((1, 0, 0))
        print("{used}" in sys.modules, "{unused}" in sys.modules)
    """, NM_BACKEND=used)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False"]


# ---------------------------------------------------------------------------------------------- states keep config
def test_states_keep_backend_and_dtype_after_config_changes():
    import jax.numpy as jnp
    import torch

    old = (nm.config.backend, nm.config.dtype)
    try:
        nm.config.backend, nm.config.dtype = "jax", "float64"
        s_jax = nm.State(mesh())
        nm.config.backend, nm.config.dtype = "torch", "float32"
        s_torch = nm.State(mesh())
        nm.config.backend, nm.config.dtype = "jax", "float32"  # changes neither existing state

        # attributes assigned after the config change still use each state's own backend and dtype
        for s in (s_jax, s_torch):
            s.material.Ms = 8e5
            s.m = nm.VectorFunction(s).fill((0, 3, 4))
        assert s_jax.backend.name == "jax" and s_jax.dtype_name == "float64"
        assert s_torch.backend.name == "torch" and s_torch.dtype_name == "float32"
        assert isinstance(s_jax.m.tensor, jnp.ndarray) and s_jax.m.tensor.dtype == jnp.float64
        assert isinstance(s_torch.m.tensor, torch.Tensor) and s_torch.m.tensor.dtype == torch.float32
        assert s_jax.material.Ms.tensor.dtype == jnp.float64
        assert s_torch.material.Ms.tensor.dtype == torch.float32
        assert s_jax.tensor(1.5).dtype == jnp.float64 and s_torch.tensor(1.5).dtype == torch.float32

        # both compute the same dynamic attribute side by side
        for s in (s_jax, s_torch):
            s.scale = 2.0
            s.my = lambda m, scale: scale * m[..., 1]
        np.testing.assert_allclose(to_numpy(s_jax.my), 1.2, rtol=1e-6)
        np.testing.assert_allclose(to_numpy(s_torch.my), 1.2, rtol=1e-6)
    finally:
        nm.config.backend, nm.config.dtype = old


def test_state_arguments_override_config(backend):
    other = {"jax": "torch", "torch": "jax"}[backend]
    s = nm.State(mesh(), backend=other, dtype="float32")
    assert s.backend.name == other and s.dtype_name == "float32"
    assert "float32" in str(s.rho.tensor.dtype)


def test_float32_and_float64_jax_states_coexist():
    """Enabling x64 for a float64 JAX state leaves float32 states in float32."""
    s64 = nm.State(mesh(), backend="jax", dtype="float64")
    s32 = nm.State(mesh(), backend="jax", dtype="float32")
    assert str(s64.rho.tensor.dtype) == "float64"
    assert str(s32.rho.tensor.dtype) == "float32"
    assert str(s32.tensor(np.ones(3)).dtype) == "float32"
    assert str(nm.VectorFunction(s32).tensor.dtype) == "float32"


def test_state_attributes_are_fixed(backend):
    s = nm.State(mesh())
    for name in ("backend", "dtype", "mesh", "device"):
        with pytest.raises(AttributeError, match="fixed"):
            setattr(s, name, None)


def test_tensor_uses_state_device(backend):
    s = nm.State(mesh())
    t = s.tensor(np.zeros(3))
    if backend == "torch":
        assert t.device == s.device
    else:
        assert s.device in t.devices()
