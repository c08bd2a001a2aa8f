"""Shared fixtures: every test that takes ``backend`` runs for JAX and PyTorch; ``dtype`` for both precisions.

The kernel cache goes to a temporary directory per session so tests never read a developer's cache.
"""

import os
import tempfile

import pytest

os.environ.setdefault("NM_CACHEDIR", tempfile.mkdtemp(prefix="nm-test-cache-"))

import neuralmag as nm  # noqa: E402

BACKENDS = ["jax", "torch"]
DTYPES = ["float64", "float32"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Name of the backend; nm.config.backend is set to it for the test and restored afterwards."""
    old = nm.config.backend
    nm.config.backend = request.param
    yield request.param
    nm.config.backend = old


@pytest.fixture(params=DTYPES)
def dtype(request):
    old = nm.config.dtype
    nm.config.dtype = request.param
    yield request.param
    nm.config.dtype = old


@pytest.fixture
def float64():
    old = nm.config.dtype
    nm.config.dtype = "float64"
    yield "float64"
    nm.config.dtype = old

