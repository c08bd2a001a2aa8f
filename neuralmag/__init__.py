"""NeuralMag: differentiable nodal finite-difference micromagnetics for JAX and PyTorch.

Importing neuralmag imports neither JAX nor PyTorch; the backend of ``nm.config.backend`` is loaded when the
first :class:`State` is created.
"""

from neuralmag.config import config
from neuralmag.field_terms import *  # noqa: F401,F403
from neuralmag.field_terms import __all__ as _field_terms
from neuralmag.forms import N, Variable, dA, dV, kernel_source
from neuralmag.functions import CellFunction, Function, VectorFunction
from neuralmag import io, learned
from neuralmag.loggers import FieldLogger, ScalarLogger
from neuralmag.mesh import Mesh
from neuralmag.solvers import GAMMA, EnergyMinimizer, LLGSolver, Solution, SolverError
from neuralmag.state import ResolvedFunction, State

__version__ = "0.1.0.dev0"

__all__ = [
    "config", "Mesh", "State", "ResolvedFunction", "Function", "VectorFunction", "CellFunction",
    "N", "Variable", "dV", "dA", "kernel_source", *_field_terms,
    "ScalarLogger", "FieldLogger", "io", "learned", "LLGSolver", "EnergyMinimizer", "Solution", "SolverError", "GAMMA",
]
