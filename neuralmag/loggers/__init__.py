"""Output of simulation data."""

from neuralmag.loggers.field import FieldLogger
from neuralmag.loggers.scalar import ScalarLogger

__all__ = ["ScalarLogger", "FieldLogger"]
