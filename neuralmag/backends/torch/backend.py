"""The PyTorch implementation of the backend interface (see :mod:`neuralmag.backends`)."""

from __future__ import annotations

import numpy as np
import torch
from sympy.printing.pytorch import TorchPrinter

from neuralmag.backends.base import BackendBase
from neuralmag.backends.printer import ExpressionPrinterMixin, KernelPrinter
from neuralmag.forms.ir import LAST_AXIS, Assign, batch_components, divide_before_stack, name_denominator


class _TorchExpressionPrinter(ExpressionPrinterMixin, TorchPrinter):
    _module = "torch"

    def _print_STACK(self, expr):
        # torch.stack(..., -1) interleaves through the generic concatenation kernel, 3x slower on the CPU than
        # stacking whole planes and transposing once (257^2 float32, one thread: 254 us against 84 us)
        return f"torch.stack([{', '.join(self._print(a) for a in expr.args)}]).movedim(0, -1).contiguous()"


class TorchKernelPrinter(KernelPrinter):
    module = "torch"
    expression_printer = _TorchExpressionPrinter({"strict": True})
    # Eager execution pays per array operation (XLA fuses them, so the JAX printer keeps the IR as lowered):
    # one statement per vector instead of per component where the components agree (batch_components), the
    # lumped-mass division per component before the stack (divide_before_stack), and field kernels split into
    # their cell-only coefficients and the rest (split), which State.resolve computes once per resolved
    # right-hand side instead of once per evaluation
    passes = (batch_components, divide_before_stack, name_denominator)
    split = True

    def zeros_of_shape(self, shape, like):
        return f"{like}.new_zeros({shape})"

    def roll(self, source, axes, shift):
        return f"torch.roll({source}, {(shift,) * len(axes)}, dims={tuple(axes)})"

    # Eager PyTorch on CPU is several times slower per element on anything that interleaves the trailing
    # vector axis with whole planes: arithmetic on a component view ``m[..., 0]`` (stride 3), or broadcasting
    # a scalar ``x[..., None]`` against a vector (257^2 nodes, float32, one thread: 66 / 12 us for a product
    # with a strided / contiguous component, 316 / 35 us for a broadcast / same-shape product). A view that
    # is read more than once is therefore copied once into contiguous memory.
    def load(self, stmt, kernel):
        if not stmt.spatial:
            # the cell size as a Python number: eager arithmetic on 0-dim tensors costs ~3 us per operation,
            # ~0.1 ms per call for the element weights of the 2D exchange kernel (1 us as numbers)
            return f"{stmt.target} = {stmt.source}[{stmt.component}].item()"
        line = super().load(stmt, kernel)
        if stmt.component is not None and self.uses.get(stmt.target, 0) > 1:
            line += ".contiguous()"
        return line

    def statement(self, stmt, kernel):
        if (isinstance(stmt, Assign) and isinstance(stmt.expr, LAST_AXIS)
                and (self.uses.get(stmt.target, 0) > 1 or kernel.name.endswith("_coefficients"))):
            # a scalar broadcast against 3-vectors (batch_components, the lumped mass), read at every local node
            # or computed once among the coefficients
            keep = ", ".join(["-1"] * kernel.dim)
            return f"{stmt.target} = ({self.expr(stmt.expr.args[0])})[..., None].expand({keep}, 3).contiguous()"
        return super().statement(stmt, kernel)

    def accumulate(self, stmt, kernel):
        index, value = self.accumulate_target(stmt, kernel)
        # in place on the view: `x[i] += v` would also copy the view back into x (__setitem__), a second
        # pass over the slice
        return f"{stmt.target}{index}.add_({value})"


class TorchBackend(BackendBase):
    """Array interface of the PyTorch backend."""

    name = "torch"
    printer = TorchKernelPrinter()
    dx_as_numbers = True
    fold_constants = True
    trace_errors = ()  # nothing is traced

    def setup(self, dtype: str) -> None:
        """Nothing to configure: unlike JAX (x64 flag), torch creates float64 tensors whenever asked."""

    def dtype(self, name: str):
        return {"float32": torch.float32, "float64": torch.float64}[name]

    def device(self, name):
        if name is None:
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(name)

    def is_tensor(self, x) -> bool:
        return isinstance(x, torch.Tensor)

    def tensor(self, value, dtype=None, device=None):
        if isinstance(value, torch.Tensor):
            return value.to(dtype=dtype or value.dtype, device=device or value.device)
        return torch.as_tensor(np.asarray(value), dtype=dtype, device=device)

    def zeros(self, shape, dtype, device=None):
        return torch.zeros(shape, dtype=dtype, device=device)

    def records_gradient(self, x) -> bool:
        """Whether autograd records operations on ``x`` (then they must stay torch operations)."""
        return bool(x.requires_grad)

    def to_numpy(self, x) -> np.ndarray:
        return x.detach().cpu().numpy()

    def sum(self, x, axes):
        return torch.sum(x, dim=tuple(axes)) if axes else x

    def max(self, x):
        return torch.max(x)

    def all_finite(self, x):
        return torch.isfinite(x).all()

    def sqrt(self, x):
        return torch.sqrt(x)

    def sin(self, x):
        return torch.sin(x)

    def sinc(self, x):
        r"""Normalised sinc, :math:`\sin(\pi x)/(\pi x)` (1 at 0)."""
        return torch.sinc(x)

    def stack(self, xs, axis=-1):
        if axis == 0:
            return torch.stack(xs)
        # stacked as whole planes, then moved into place once: torch.stack(xs, -1) is 3x slower on the CPU
        # (see _TorchExpressionPrinter._print_STACK)
        return torch.stack(xs).movedim(0, axis).contiguous()

    def namespace(self) -> dict:
        return {"torch": torch}

    def jit(self, f):
        # torch.compile costs tens of seconds on first call; generated code runs eagerly
        return f


backend = TorchBackend()
