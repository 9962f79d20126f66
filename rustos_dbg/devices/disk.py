"""A disk image file as 512-byte sectors, written through, with every state kept reachable.

Contract: :class:`DiskImage` (path) reads and writes whole sectors of the file
(a :class:`DiskError` for a missing or unreadable file, or a size that is not a
whole number of sectors). Writes reach the file at once, so the host sees them.
The image remembers, for each sector written since it was opened, the
original content and the current one; ``snapshot()`` is the current
contents of the written sectors (sector -> bytes) and ``restore(state)``
makes the file hold exactly that state again (every other written sector
back to its original), in any order: time travel covers the disk.
"""

from __future__ import annotations

import os
from pathlib import Path

SECTOR = 512


class DiskError(Exception):
    """A disk image that cannot be used."""


class DiskImage:
    """The sectors of one image file."""

    def __init__(self, path: str | Path) -> None:
        """Opens ``path`` for reading and writing (read-only files stay read-only: writes then fail)."""
        self.path = Path(path)
        try:
            size = self.path.stat().st_size
            writable = os.access(self.path, os.W_OK)
            self._file = open(self.path, "r+b" if writable else "rb", buffering=0)
        except OSError as e:
            raise DiskError(f"cannot open disk image '{path}': {e.strerror or e}") from None
        if size == 0 or size % SECTOR:
            self._file.close()
            raise DiskError(f"disk image '{path}' is {size} bytes, not a whole number of {SECTOR}-byte sectors")
        self.writable = writable
        #: Sectors in the image.
        self.sectors = size // SECTOR
        self._original: dict[int, bytes] = {}
        self._written: dict[int, bytes] = {}

    def read(self, lba: int, count: int = 1) -> bytes:
        """``count`` sectors from ``lba`` (the caller checks the range)."""
        out = []
        for sector in range(lba, lba + count):
            data = self._written.get(sector)
            if data is None:
                self._file.seek(sector * SECTOR)
                data = self._file.read(SECTOR)
            out.append(data)
        return b"".join(out)

    def write(self, lba: int, data: bytes) -> None:
        """Writes whole sectors from ``lba`` (an OSError when the file is read-only)."""
        if not self.writable:
            raise OSError(f"disk image '{self.path}' is read-only")
        for i in range(len(data) // SECTOR):
            sector, chunk = lba + i, bytes(data[i * SECTOR:(i + 1) * SECTOR])
            if sector not in self._original:
                self._original[sector] = self.read(sector)
            self._put(sector, chunk)

    def _put(self, sector: int, data: bytes) -> None:
        self._written[sector] = data
        self._file.seek(sector * SECTOR)
        self._file.write(data)

    def snapshot(self) -> dict[int, bytes]:
        """The written sectors' contents now."""
        return dict(self._written)

    def restore(self, state: dict[int, bytes]) -> None:
        """Makes the image hold ``state`` (from :meth:`snapshot` of this image) again."""
        for sector in set(self._written) | set(state):
            want = state.get(sector, self._original.get(sector))
            if want is not None and self.read(sector) != want:
                self._original.setdefault(sector, self.read(sector))
                self._put(sector, want)
        self._written = {s: d for s, d in self._written.items() if s in state}

    def close(self) -> None:
        """Closes the file."""
        self._file.close()
