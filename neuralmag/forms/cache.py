"""On-disk cache of generated kernel modules.

Files are named by a SHA-256 key of everything that determines their content (the form, the options and the
compiler's own source). Each file starts with a line ``# neuralmag-kernel sha256=<hash of the rest>`` so a
truncated or edited file is detected and regenerated rather than trusted. Writes go to a temporary file in
the same directory followed by an atomic rename, so concurrent processes and interrupted writes never expose
half a file. The directory is created readable by the user only.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

__all__ = ["KernelCache"]

_HEADER = "# neuralmag-kernel sha256="


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class KernelCache:
    """A directory of generated modules keyed by hash."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def path(self, key: str) -> Path:
        return self.directory / f"{key}.py"

    def read(self, key: str) -> str | None:
        """The cached source for ``key``, or None if missing, unreadable or corrupt."""
        try:
            text = self.path(key).read_text()
        except (OSError, UnicodeDecodeError):
            return None
        header, _, body = text.partition("\n")
        if not header.startswith(_HEADER) or header[len(_HEADER):] != _digest(body):
            return None
        return body

    def write(self, key: str, body: str) -> Path | None:
        """Store ``body`` atomically; returns the file path, or None if the cache is not writable."""
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{key}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "w") as f:
                    f.write(f"{_HEADER}{_digest(body)}\n{body}")
                os.replace(tmp, self.path(key))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            return None
        return self.path(key)
