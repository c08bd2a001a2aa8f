"""The JAX implementation of the backend interface (see :mod:`neuralmag.backends`)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from sympy.printing.numpy import JaxPrinter

from neuralmag.backends.base import BackendBase
from neuralmag.backends.printer import ExpressionPrinterMixin, KernelPrinter


class _JaxExpressionPrinter(ExpressionPrinterMixin, JaxPrinter):
    _module = "jnp"

    def _module_format(self, fqn, register=True):
        # print jax.numpy.sqrt as jnp.sqrt
        return super()._module_format(fqn.replace("jax.numpy.", "jnp."), register)


class JaxKernelPrinter(KernelPrinter):
    module = "jnp"
    expression_printer = _JaxExpressionPrinter({"fully_qualified_modules": True, "strict": True})

    def zeros_of_shape(self, shape, like):
        return f"jnp.zeros({shape}, {like}.dtype)"

    def roll(self, source, axes, shift):
        return f"jnp.roll({source}, {(shift,) * len(axes)}, axis={tuple(axes)})"

    def accumulate(self, stmt, kernel):
        # zero-padding the cell array to the nodal shape compiles much faster in XLA than .at[...].add
        slices, rolled = self.node_slices(kernel, stmt.node)
        value = self.expr(stmt.value)
        if rolled:
            value = self.roll(f"({value})", rolled, 1)
        pads = ", ".join("(0, 0)" if s == ":" else ("(1, 0)" if s == "1:" else "(0, 1)") for s in slices)
        if stmt.component is not None:
            return f"{stmt.target} = {stmt.target}.at{self.index(slices, stmt.component)}.add({value})"
        return f"{stmt.target} = {stmt.target} + jnp.pad({value}, ({pads},))"


def _enable_compilation_cache() -> None:
    """Keep XLA executables on disk next to the kernel cache (unless the user configured JAX's cache or set
    ``NM_JAX_CACHE=0``): compiling a jitted LLG solve takes seconds, loading it milliseconds."""
    import os

    from neuralmag.config import config

    if os.environ.get("NM_JAX_CACHE", "1") == "0" or jax.config.jax_compilation_cache_dir:
        return
    path = config.cache_dir / "xla"  # inside the user-private cache directory
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


class JaxBackend(BackendBase):
    """Array interface of the JAX backend."""

    name = "jax"
    printer = JaxKernelPrinter()
    #: errors raised when a function cannot be traced by jax.jit (Python control flow on traced values)
    trace_errors = (jax.errors.ConcretizationTypeError, jax.errors.TracerBoolConversionError,
                    jax.errors.TracerArrayConversionError, jax.errors.TracerIntegerConversionError)

    def setup(self, dtype: str) -> None:
        if dtype == "float64" and not jax.config.jax_enable_x64:
            jax.config.update("jax_enable_x64", True)
        _enable_compilation_cache()

    def dtype(self, name: str):
        return {"float32": jnp.float32, "float64": jnp.float64}[name]

    def device(self, name):
        if name is None:
            return jax.devices()[0]
        platform, _, index = str(name).partition(":")
        platform = {"cuda": "gpu"}.get(platform, platform)
        return jax.devices(platform)[int(index or 0)]

    def is_tensor(self, x) -> bool:
        return isinstance(x, jax.Array)

    def tensor(self, value, dtype=None, device=None):
        if isinstance(value, jax.Array):
            array = value if dtype is None or value.dtype == dtype else value.astype(dtype)
        else:
            # convert on the host, then transfer: an eager jnp conversion is a separate XLA compilation
            # (10-50 ms each, a few hundred ms on a cold start of a script)
            host = np.asarray(value)
            # without x64, 64-bit host arrays become 32-bit, as jnp.asarray would make them
            target = np.dtype(dtype) if dtype is not None else jax.dtypes.canonicalize_dtype(host.dtype)
            return jax.device_put(host.astype(target, copy=False), device)
        return jax.device_put(array, device) if device is not None else array

    def zeros(self, shape, dtype, device=None):
        return self.tensor(np.zeros(shape, dtype=np.dtype(dtype)), device=device)

    def records_gradient(self, x) -> bool:
        """JAX differentiates functions, not arrays: no array carries a gradient tape."""
        return False

    def to_numpy(self, x) -> np.ndarray:
        return np.asarray(x)

    def sum(self, x, axes):
        return jnp.sum(x, axis=tuple(axes))

    def max(self, x):
        return jnp.max(x)

    def all_finite(self, x):
        return jnp.isfinite(x).all()

    def sqrt(self, x):
        return jnp.sqrt(x)

    def sin(self, x):
        return jnp.sin(x)

    def sinc(self, x):
        r"""Normalised sinc, :math:`\sin(\pi x)/(\pi x)` (1 at 0)."""
        return jnp.sinc(x)

    def stack(self, xs, axis=-1):
        return jnp.stack(xs, axis=axis)

    def namespace(self) -> dict:
        """Globals of generated source."""
        return {"jax": jax, "jnp": jnp}

    def jit(self, f):
        return jax.jit(f)


backend = JaxBackend()
