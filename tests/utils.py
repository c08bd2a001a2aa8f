"""Helpers shared by tests."""

import numpy as np

import neuralmag as nm


def to_numpy(x):
    """Any tensor, Function or number as a float64 NumPy array."""
    if isinstance(x, nm.Function):
        return x.numpy().astype(np.float64)
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def load_demo(name: str):
    """Import ``demos/<name>.py`` as a module (the demos folder goes on ``sys.path`` for its shared helpers)."""
    import importlib
    import sys
    from pathlib import Path

    demos = str(Path(__file__).resolve().parents[1] / "demos")
    if demos not in sys.path:
        sys.path.insert(0, demos)
    return importlib.import_module(name)


def energy_and_gradient(state, name: str):
    """``(E, ∂E/∂m)`` of ``state.E_<name>`` as float and NumPy array, by the backend's autodiff through the
    resolved energy."""
    energy = state.resolve(f"E_{name}", ["m"])
    m = state.m.tensor
    if state.backend.name == "jax":
        import jax

        E, grad = jax.value_and_grad(energy)(m)
        return float(E), np.asarray(grad)
    import torch

    m = m.detach().clone().requires_grad_(True)
    E = energy(m)
    (grad,) = torch.autograd.grad(E, m)
    return float(E.detach()), grad.numpy()
