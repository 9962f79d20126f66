"""Source lines: the DWARF line table, address -> (file, line), for `step` and `next`.

Contract: :func:`line_table` (``elf``: a ``KernelImage`` such as
``machine.image``, or a kernel ELF path; see :mod:`.source`) builds, once per
image and from the image's one parse of the ELF, a sorted table of the
statement rows of every compilation unit, kept on the image and cached on
disk by the ELF's hash (:mod:`.cache`);
``LineTable.lookup(address)`` gives the ``(file, line)`` of the row that
covers ``address``, or None outside any sequence.
"""

from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass

from .cache import cached
from .source import kernel_image


@dataclass(frozen=True)
class Location:
    """A source location."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class LineTable:
    """Sorted address ranges, each with its source location."""

    def __init__(self, rows: list[tuple[int, int, Location | None]]) -> None:
        """``rows``: (start, end, location) with disjoint, sorted ranges."""
        rows.sort(key=lambda r: r[0])
        places: dict = {None: 0}
        self._starts = array("Q", (r[0] for r in rows))
        self._ends = array("Q", (r[1] for r in rows))
        self._where = array("I", (places.setdefault(r[2], len(places)) for r in rows))
        self._places: list = list(places)

    def __len__(self) -> int:
        return len(self._starts)

    def __reduce__(self):
        # Arrays and one list of distinct locations: cheap to cache on disk and to load.
        return _from_columns, (self._starts, self._ends, self._where, self._places)

    def lookup(self, address: int) -> Location | None:
        """The location of the instruction at ``address``."""
        i = bisect.bisect_right(self._starts, address) - 1
        if i < 0:
            return None
        return self._places[self._where[i]] if address < self._ends[i] else None


    def locations_in(self, start: int, end: int) -> set:
        """The locations of the rows that overlap [start, end)."""
        i = max(0, bisect.bisect_right(self._starts, start) - 1)
        found = set()
        while i < len(self._starts) and self._starts[i] < end:
            if self._ends[i] > start and self._where[i]:
                found.add(self._places[self._where[i]])
            i += 1
        return found

    def locations(self) -> list:
        """Every distinct location of the table."""
        return [p for p in self._places if p is not None]


def _from_columns(starts, ends, where, places) -> LineTable:
    table = LineTable.__new__(LineTable)
    table._starts, table._ends, table._where, table._places = starts, ends, where, places
    return table


def _file_name(lineprog, index: int) -> str:
    header = lineprog.header
    version = header["version"]
    entries = header["file_entry"]
    entry = entries[index if version >= 5 else index - 1]
    name = entry.name.decode(errors="replace") if isinstance(entry.name, bytes) else str(entry.name)
    dirs = header["include_directory"]
    d = entry.dir_index
    if d and d < len(dirs) + (0 if version >= 5 else 1):
        base = dirs[d if version >= 5 else d - 1]
        base = base.decode(errors="replace") if isinstance(base, bytes) else str(base)
        return f"{base}/{name}"
    return name


def build_line_table(elf) -> LineTable:
    """The line table of a pyelftools ``ELFFile`` (empty without DWARF)."""
    rows: list[tuple[int, int, Location | None]] = []
    if not elf.has_dwarf_info():
        return LineTable(rows)
    dwarf = elf.get_dwarf_info()
    for cu in dwarf.iter_CUs():
        prog = dwarf.line_program_for_CU(cu)
        if prog is None:
            continue
        names: dict[int, str] = {}
        prev = None
        for entry in prog.get_entries():
            state = entry.state
            if state is None:
                continue
            if prev is not None and state.address > prev[0]:
                rows.append((prev[0], state.address, prev[1]))
            if state.end_sequence:
                prev = None
                continue
            if state.file not in names:
                try:
                    names[state.file] = _file_name(prog, state.file)
                except (IndexError, KeyError):
                    names[state.file] = "?"
            prev = (state.address, Location(names[state.file], state.line) if state.line else None)
    return LineTable(rows)


def line_table(elf) -> LineTable:
    """The line table of ``elf`` (a ``KernelImage`` or a kernel ELF path), built once per image."""
    return kernel_image(elf).derived("lines", lambda image: cached(image, "lines", lambda i: build_line_table(i.elf)))
