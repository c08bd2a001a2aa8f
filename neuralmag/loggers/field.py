"""Snapshots of whole fields over time: VTK (``.vti`` + ``.pvd``) or OVF 2.0 files."""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["FieldLogger"]


class FieldLogger:
    """Writes fields of the state to files on every ``every``-th :meth:`log` call (the first call writes).

    Args:
        path: a path prefix (``"out/fields"`` → ``out/fields_000000.vti``, ..., ``out/fields.pvd``) or a
            directory (an existing one, or a path ending in ``/``; the prefix is then ``<dir>/fields``).
        fields: attribute names (``"m"``, ``"h"``, ``"h_demag"``, ``"e_exchange"``, ...) or ``(name, value)``
            pairs where ``value`` is an attribute name or a callable ``value(state)``. Nodal fields become
            VTK point data, cell fields cell data (see :mod:`neuralmag.io.vtk`).
        every: write on calls 0, ``every``, ``2 * every``, ...
        format: ``"vti"`` (default): one ``.vti`` per snapshot with all fields, plus the ``.pvd`` collection
            (rewritten after every snapshot, with ``state.t`` as time step) that ParaView opens as a time
            series. ``"ovf"``: one OVF 2.0 file per field and snapshot, ``<prefix>_<field>_000000.ovf``; nodal
            fields are averaged to the cells (see :mod:`neuralmag.io.ovf`).
        ovf_format: ``"binary8"`` (default) or ``"text"``.

    A logger on a prefix that already has snapshots (a resumed run) continues their numbering and, for VTK,
    appends to the existing ``.pvd``.
    """

    def __init__(self, path, fields=("m",), every: int = 1, format: str = "vti", ovf_format: str = "binary8"):
        if format not in ("vti", "ovf"):
            raise ValueError(f"Unknown format {format!r}; valid values are: 'vti', 'ovf'.")
        if ovf_format not in ("binary8", "text"):
            raise ValueError(f"Unknown ovf_format {ovf_format!r}; valid values are: 'binary8', 'text'.")
        if int(every) < 1:
            raise ValueError(f"every must be a positive integer, got {every!r}.")
        path_str = str(path)
        path = Path(path)
        if path.is_dir() or path_str.endswith(("/", "\\")):
            path = path / "fields"
        self.prefix = path
        self.fields = [f if isinstance(f, tuple) else (f, f) for f in ([fields] if isinstance(fields, str) else fields)]
        self.every, self.format, self.ovf_format = int(every), format, ovf_format
        self.calls = 0
        self._entries = None  # (t, file) of the .pvd
        self._index = None

    @property
    def pvd_path(self) -> Path:
        return self.prefix.with_name(self.prefix.name + ".pvd")

    def _start(self) -> None:
        from neuralmag.io.vtk import read_pvd

        self.prefix.parent.mkdir(parents=True, exist_ok=True)
        if self.format == "vti":
            self._entries = read_pvd(self.pvd_path) if self.pvd_path.exists() else []
            self._index = len(self._entries)
        else:
            pattern = re.compile(re.escape(self.prefix.name) + r"_.+_(\d+)\.ovf$")
            found = [int(m.group(1)) for p in self.prefix.parent.iterdir() if (m := pattern.match(p.name))]
            self._index = max(found) + 1 if found else 0

    def _values(self, state):
        return [(name, value(state) if callable(value) and not isinstance(value, str) else value)
                for name, value in self.fields]

    def log(self, state) -> list[Path]:
        """Write a snapshot if this call is due; returns the files written (empty if none)."""
        due = self.calls % self.every == 0
        self.calls += 1
        if not due:
            return []
        if self._index is None:
            self._start()
        index = self._index
        if self.format == "vti":
            from neuralmag.io.vtk import write_pvd, write_vti

            file = self.prefix.with_name(f"{self.prefix.name}_{index:06d}.vti")
            write_vti(file, state, self._values(state))
            self._entries.append((float(state.t), file.name))
            write_pvd(self.pvd_path, self._entries)
            written = [file]
        else:
            from neuralmag.io.ovf import write_ovf

            written = []
            for name, value in self._values(state):
                file = self.prefix.with_name(f"{self.prefix.name}_{name}_{index:06d}.ovf")
                written.append(write_ovf(file, state, value, fmt=self.ovf_format, title=name))
        self._index = index + 1
        return written
