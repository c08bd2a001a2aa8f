"""Shared part of the kernel printers: IR statements → lines of Python source.

A backend subclasses :class:`KernelPrinter`, names its array module (``jnp`` or ``torch``) and prints the two
statements whose syntax differs between frameworks: the zero array and the scatter-add (:class:`Accumulate`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter

import sympy as sp

from neuralmag.forms.ir import Accumulate, Assign, Composed, Kernel, Load, Return, Unpack, Zeros, reads, split_coefficients


class ExpressionPrinterMixin:
    """SymPy printer tweaks common to both backends: ``**`` powers, full-precision floats, IR functions."""

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.base, expr.exp
        if exp == sp.Rational(1, 2):
            return f"{self._module}.sqrt({self._print(base)})"
        if exp == -1:
            return f"1/{self.parenthesize(base, sp.printing.precedence.PRECEDENCE['Pow'])}"
        return (f"{self.parenthesize(base, sp.printing.precedence.PRECEDENCE['Pow'])}"
                f"**{self.parenthesize(exp, sp.printing.precedence.PRECEDENCE['Pow'])}")

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Rational(self, expr):
        return repr(float(expr)) if expr.q != 1 else str(expr.p)

    def _print_Half(self, expr):
        return "0.5"

    def _print_SUM(self, expr):
        return f"{self.parenthesize(expr.args[0], 1000)}.sum()"

    def _print_IS_ZERO(self, expr):
        return f"({self._print(expr.args[0])} == 0)"

    def _print_STACK(self, expr):
        return f"{self._module}.stack([{', '.join(self._print(a) for a in expr.args)}], -1)"

    def _print_LAST_AXIS(self, expr):
        return f"({self._print(expr.args[0])})[..., None]"

    def _print_Piecewise(self, expr):
        raise ValueError("Generated kernels may not branch: Piecewise expressions are not supported in forms.")


class KernelPrinter(ABC):
    """Turns a :class:`~neuralmag.forms.ir.Kernel` into the source of one Python function."""

    module = ""  # name of the array module inside generated code
    expression_printer = None  # instance of a SymPy printer with ExpressionPrinterMixin
    #: IR → IR passes (:mod:`neuralmag.forms.ir`) this backend wants before printing
    passes = ()
    #: split field kernels into coefficients and their application (:func:`~neuralmag.forms.ir.split_coefficients`)
    split = False

    # ---------------------------------------------------------------- index helpers
    @staticmethod
    def node_slices(kernel: Kernel, node) -> tuple[list, list]:
        """Slices selecting local node ``node`` of every cell, and the periodic axes that need a roll."""
        slices, rolled = [], []
        for axis, offset in enumerate(node):
            if kernel.pbc[axis]:
                slices.append(":")
                if offset:
                    rolled.append(axis)
            else:
                slices.append("1:" if offset else ":-1")
        return slices, rolled

    @staticmethod
    def index(slices, component) -> str:
        parts = list(slices) + ([str(component)] if component is not None else [])
        if not parts:
            return ""
        if component is not None and not slices:
            return f"[..., {component}]"
        return "[" + ", ".join(parts) + "]"

    @abstractmethod
    def roll(self, source: str, axes, shift: int) -> str:
        """Source of ``source`` rolled by ``shift`` along each of ``axes``."""

    def expr(self, expr) -> str:
        return self.expression_printer.doprint(expr)

    # ---------------------------------------------------------------- statements
    def load(self, stmt: Load, kernel: Kernel) -> str:
        if not stmt.spatial:
            return f"{stmt.target} = {stmt.source}[{stmt.component}]"
        if stmt.node is None:
            return f"{stmt.target} = {stmt.source}{self.index([], stmt.component)}"
        slices, rolled = self.node_slices(kernel, stmt.node)
        source = self.roll(stmt.source, rolled, -1) if rolled else stmt.source
        return f"{stmt.target} = {source}{self.index(slices, stmt.component)}"

    def zeros(self, stmt: Zeros, kernel: Kernel | None = None) -> str:
        if stmt.from_cells:
            return f"{stmt.target} = {self.zeros_of_shape(self.node_shape(stmt.like, kernel), stmt.like)}"
        like = stmt.like + self.index([], stmt.component)
        return f"{stmt.target} = {self.module}.zeros_like({like})"

    @staticmethod
    def node_shape(cells: str, kernel: Kernel) -> str:
        """Source of the nodal shape of a mesh whose cell array is ``cells`` (one more node than cells along each
        non-periodic axis)."""
        dims = [f"{cells}.shape[{k}]" + ("" if kernel.pbc[k] else " + 1") for k in range(kernel.dim)]
        return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"

    @abstractmethod
    def zeros_of_shape(self, shape: str, like: str) -> str:
        """Source of a zero array of shape ``shape`` with the dtype (and device) of ``like``."""

    @abstractmethod
    def accumulate(self, stmt: Accumulate, kernel: Kernel) -> str:
        """Source adding ``stmt.value`` into the nodes at local offset ``stmt.node`` of ``stmt.target``."""

    def accumulate_target(self, stmt: Accumulate, kernel: Kernel) -> tuple[str, str]:
        """Index into the target and the (rolled on periodic axes) value for an :class:`Accumulate`."""
        slices, rolled = self.node_slices(kernel, stmt.node)
        value = self.expr(stmt.value)
        if rolled:
            value = self.roll(f"({value})", rolled, 1)
        return self.index(slices, stmt.component), value

    def statement(self, stmt, kernel: Kernel) -> str:
        if isinstance(stmt, Load):
            return self.load(stmt, kernel)
        if isinstance(stmt, Assign):
            return f"{stmt.target} = {self.expr(stmt.expr)}"
        if isinstance(stmt, Zeros):
            return self.zeros(stmt, kernel)
        if isinstance(stmt, Unpack):
            return f"{', '.join(stmt.targets)}{',' if len(stmt.targets) == 1 else ''} = {stmt.source}"
        if isinstance(stmt, Accumulate):
            return self.accumulate(stmt, kernel)
        if isinstance(stmt, Return):
            return f"return {self.expr(stmt.expr)}"
        raise TypeError(f"Unknown IR statement {stmt!r}")

    def print_kernels(self, kernels: dict) -> str:
        """Source of all ``kernels`` (name → :class:`~neuralmag.forms.ir.Kernel`); with :attr:`split`, a field
        kernel ``h`` is printed as ``h`` calling ``h_apply`` and ``h_coefficients``."""
        parts = []
        for name, kernel in kernels.items():
            for rewrite in self.passes:
                kernel = rewrite(kernel)
            composed = split_coefficients(kernel) if self.split and name == "h" else None
            if composed is None:
                parts.append(self.print_kernel(kernel, passes=False))
            else:
                parts += [self.print_composed(composed), self.print_kernel(composed.coefficients, passes=False),
                          self.print_kernel(composed.apply, passes=False)]
        return "\n\n".join(parts)

    def print_composed(self, composed: Composed) -> str:
        coefficients, apply = composed.coefficients, composed.apply
        inner = f"{coefficients.name}({', '.join(coefficients.args)})"
        call = f"{apply.name}({', '.join(apply.args[:-1] + [inner])})"
        lines = [f"def {composed.name}({', '.join(composed.args)}):"]
        if composed.doc:
            lines.append(f'    """{composed.doc} ({apply.name} of {coefficients.name})"""')
        return "\n".join(lines + [f"    return {call}"]) + "\n"

    def print_kernel(self, kernel: Kernel, passes: bool = True) -> str:
        for rewrite in (self.passes if passes else ()):
            kernel = rewrite(kernel)
        #: how often each target is read by later statements (printers may copy a view that is read often)
        self.uses = symbol_uses(kernel)
        lines = [f"def {kernel.name}({', '.join(kernel.args)}):"]
        if kernel.doc:
            lines.append(f'    """{kernel.doc}"""')
        lines += ["    " + self.statement(stmt, kernel) for stmt in kernel.body]
        return "\n".join(lines) + "\n"


def symbol_uses(kernel: Kernel) -> dict:
    """Number of statements of ``kernel`` reading each name."""
    return Counter(name for stmt in kernel.body for name in reads(stmt))
