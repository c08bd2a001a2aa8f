"""Time integration and energy minimisation."""

from neuralmag.solvers.llg import GAMMA, LLGSolver, LLGTorque, Solution, SolverError
from neuralmag.solvers.minimizer import EnergyMinimizer

__all__ = ["LLGSolver", "LLGTorque", "Solution", "SolverError", "GAMMA", "EnergyMinimizer"]
