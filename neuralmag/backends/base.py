"""Parts of the backend interface that are the same for every backend."""

from __future__ import annotations

import importlib


class BackendBase:
    """Lazy access to a backend's runtime modules (imported on first use, so a script that only evaluates fields
    never imports the ODE libraries)."""

    name = ""
    #: whether the generated kernels read the cell size ``dx`` as Python numbers (no gradient with respect to
    #: it); the state then refuses a ``dx`` that records a gradient
    dx_as_numbers = False
    #: whether :meth:`~neuralmag.State.resolve` computes the dynamic attributes that do not depend on the inputs
    #: once, outside the resolved function (eager backends; a jit compiler fuses them into the kernels anyway)
    fold_constants = False

    def _module(self, part: str):
        return importlib.import_module(f"neuralmag.backends.{self.name}.{part}")

    @property
    def fft(self):
        """FFT convolution helpers (``neuralmag.backends.<name>.fft``)."""
        return self._module("fft")

    @property
    def ode(self):
        """ODE integrators (``neuralmag.backends.<name>.ode``)."""
        return self._module("ode")

    @property
    def nn(self):
        """Neural-network primitives for the learned operators (``neuralmag.backends.<name>.nn``)."""
        return self._module("nn")

    @property
    def sde(self):
        """Stochastic integrators (``neuralmag.backends.<name>.sde``)."""
        return self._module("sde")
