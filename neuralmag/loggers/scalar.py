"""Text table of scalar quantities over time."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neuralmag.functions import Function

__all__ = ["ScalarLogger"]


class ScalarLogger:
    """Writes one row per :meth:`log` call to a whitespace-separated text file with a ``#`` header.

    Args:
        path: output file; its directory is created. If the file exists with the same header, rows are
            appended (a resumed run continues its table); a different header raises ``ValueError``.
        columns: attribute names (``"t"``, ``"E_demag"``, ...) or ``(name, callable)`` pairs with
            ``callable(state)``. Vector quantities get one column per component (``"m"`` →
            ``m_x m_y m_z``, integral averages via :meth:`Function.avg`).

    The file is readable with ``numpy.loadtxt``; every row is flushed when written.
    """

    def __init__(self, path, columns):
        self.path = Path(path)
        self.columns = [c if isinstance(c, tuple) else (c, None) for c in columns]
        self._header = None

    def _values(self, state) -> tuple[list, list]:
        names, values = [], []
        for name, func in self.columns:
            value = func(state) if func is not None else getattr(state, name)
            if isinstance(value, Function):
                value = value.avg()
            array = np.atleast_1d(state.to_numpy(value)).astype(float).ravel()
            if array.size == 1:
                names.append(name)
            else:
                names += [f"{name}_{'xyz'[i]}" if array.size == 3 else f"{name}_{i}" for i in range(array.size)]
            values += list(array)
        return names, values

    def log(self, state) -> None:
        names, values = self._values(state)
        header = "# " + " ".join(names)
        if self._header is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists() and self.path.stat().st_size > 0:
                with open(self.path) as f:
                    existing = f.readline().rstrip("\n")
                if existing != header:
                    raise ValueError(f"{self.path} exists with header {existing!r}, expected {header!r}.")
            else:
                with open(self.path, "w") as f:
                    f.write(header + "\n")
            self._header = header
        with open(self.path, "a") as f:
            f.write(" ".join(repr(float(v)) for v in values) + "\n")
            f.flush()
