"""Process-wide defaults: backend, floating-point precision and device.

``nm.config`` is read when objects are *created*: a :class:`~neuralmag.State` keeps the backend, dtype and
device that were active at its construction, so one script can build a JAX state and a PyTorch state side
by side. Changing ``nm.config`` afterwards never changes existing states.

Environment variables give the start-up values:

================  ===============================  ==================
variable          meaning                          default
================  ===============================  ==================
``NM_BACKEND``    ``"jax"`` or ``"torch"``         ``"jax"``
``NM_DTYPE``      ``"float32"`` or ``"float64"``   ``"float64"``
``NM_DEVICE``     e.g. ``"cpu"``, ``"cuda:0"``     backend default
``NM_CACHEDIR``   kernel cache directory           user cache dir
================  ===============================  ==================
"""

from __future__ import annotations

import os
from pathlib import Path

from neuralmag.backends import AVAILABLE_BACKENDS

__all__ = ["Config", "config"]

DTYPES = ("float32", "float64")


def _check_choice(kind: str, value: str, valid: tuple[str, ...]) -> str:
    if value not in valid:
        raise ValueError(f"Unknown {kind} {value!r}; valid values are: {', '.join(map(repr, valid))}.")
    return value


class Config:
    """Mutable defaults used when states are created (see module docstring)."""

    def __init__(self) -> None:
        self.backend = os.environ.get("NM_BACKEND", "jax")
        self.dtype = os.environ.get("NM_DTYPE", "float64")
        self.device = os.environ.get("NM_DEVICE") or None
        #: jit resolved functions (JAX); torch functions are always run eagerly
        self.jit = True

    @property
    def backend(self) -> str:
        """Name of the backend used by states created from now on."""
        return self._backend

    @backend.setter
    def backend(self, value: str) -> None:
        self._backend = _check_choice("backend", value, AVAILABLE_BACKENDS)

    @property
    def dtype(self) -> str:
        """Floating-point precision of states created from now on (``"float32"`` or ``"float64"``)."""
        return self._dtype

    @dtype.setter
    def dtype(self, value: str) -> None:
        self._dtype = _check_choice("dtype", value, DTYPES)

    @property
    def cache_dir(self) -> Path:
        """Directory of the on-disk kernel cache (``NM_CACHEDIR`` or the user cache directory)."""
        env = os.environ.get("NM_CACHEDIR")
        if env:
            return Path(env).expanduser()
        from platformdirs import user_cache_dir

        return Path(user_cache_dir("neuralmag")) / "kernels"

    def __repr__(self) -> str:
        return f"Config(backend={self.backend!r}, dtype={self.dtype!r}, device={self.device!r}, jit={self.jit})"


config = Config()
