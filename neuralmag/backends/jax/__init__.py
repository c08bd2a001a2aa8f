"""JAX backend: arrays are ``jax.Array``, resolved functions are ``jax.jit``-compiled."""

from neuralmag.backends.jax.backend import backend

__all__ = ["backend"]
