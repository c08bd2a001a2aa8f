"""Output of simulation data."""

from neuralmag.loggers.scalar import ScalarLogger

__all__ = ["ScalarLogger"]
