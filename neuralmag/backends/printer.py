"""Shared part of the kernel printers: IR statements → lines of Python source.

A backend subclasses :class:`KernelPrinter`, names its array module (``jnp`` or ``torch``) and prints the two
statements whose syntax differs between frameworks: the zero array and the scatter-add (:class:`Accumulate`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import sympy as sp

from neuralmag.forms.ir import Accumulate, Assign, Kernel, Load, Return, Zeros


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

    def zeros(self, stmt: Zeros) -> str:
        like = stmt.like + self.index([], stmt.component)
        return f"{stmt.target} = {self.module}.zeros_like({like})"

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
            return self.zeros(stmt)
        if isinstance(stmt, Accumulate):
            return self.accumulate(stmt, kernel)
        if isinstance(stmt, Return):
            return f"return {self.expr(stmt.expr)}"
        raise TypeError(f"Unknown IR statement {stmt!r}")

    def print_kernel(self, kernel: Kernel) -> str:
        for rewrite in self.passes:
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
    uses = {}
    for stmt in kernel.body:
        expr = getattr(stmt, "expr", None)
        if expr is None:
            expr = getattr(stmt, "value", None)
        for x in getattr(expr, "free_symbols", ()):
            uses[x.name] = uses.get(x.name, 0) + 1
    return uses
