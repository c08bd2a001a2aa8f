"""Symbolic layer and form compiler (backend-agnostic).

* :mod:`~neuralmag.forms.symbolic` – the form language (:data:`N`, :func:`Variable`, :func:`dV`, :func:`dA`);
* :mod:`~neuralmag.forms.variation` – flattening and first variation;
* :mod:`~neuralmag.forms.quadrature` – integration over the reference cell;
* :mod:`~neuralmag.forms.ir` – the slice IR;
* :mod:`~neuralmag.forms.compiler` – the pipeline, printing and the kernel cache.
"""

from neuralmag.forms.compiler import CompileOptions, compile_term, kernel_source, load_kernels
from neuralmag.forms.symbolic import N, Variable, dA, dV

__all__ = ["N", "Variable", "dV", "dA", "CompileOptions", "compile_term", "kernel_source", "load_kernels"]
