"""Kernel source lines executed, as lcov: from the blocks the deterministic clock decodes.

Contract: :class:`Coverage` watches a deterministic machine: every block of
code that runs is decoded once by the block counter
(:class:`~rustos_dbg.machine.blocks.BlockCounter`), and the DWARF line
table maps each such block's bytes to the source lines they belong to. So
coverage costs nothing per executed instruction. A line counts as executed
when any of its code did (hit count 1; the counter decodes each block once,
so there are no execution counts); a block left midway by an exception
counts whole. Lines of the line table never reached are listed with 0, so
tools show the percentage. :meth:`lcov` is the tracefile text
(``SF``/``DA``/``LF``/``LH``/``end_of_record`` per source file, paths
resolved against each compilation unit's directory so that ``genhtml``
finds the sources; a file not on this machine, such as a toolchain's library
source that is not installed, is left out); only the kernel ELF's own code
counts (user programs are other ELFs).
"""

from __future__ import annotations

import os
from collections import defaultdict

from ..dwarf.lines import line_table
from ..machine.errors import RustosDbgError


class Coverage:
    """The source lines a machine has executed."""

    def __init__(self, machine) -> None:
        """Starts watching ``machine`` (deterministic mode); blocks run before count too."""
        counter = machine.counter
        if counter is None or not hasattr(counter, "decoded_blocks"):
            raise RustosDbgError("--coverage needs the deterministic mode (no --fast)")
        #: The kernel image (not the machine: a coverage outlives its machine cheaply).
        self.image = machine.image
        self._blocks: set[tuple[int, int]] = set(counter.decoded_blocks())
        counter.new_block_observers.append(self._seen)

    def _seen(self, pc: int, size: int) -> None:
        self._blocks.add((pc, size))

    def executed(self) -> set:
        """The :class:`~rustos_dbg.dwarf.lines.Location` of every line executed."""
        table = line_table(self.image)
        done = set()
        for pc, size in self._blocks:
            done |= table.locations_in(pc, pc + size)
        return done

    def lines(self) -> dict[str, dict[int, int]]:
        """{source file: {line: 1 if executed else 0}} over the whole line table."""
        table = line_table(self.image)
        executed = self.executed()
        files: dict[str, dict[int, int]] = defaultdict(dict)
        for where in table.locations():
            hit = 1 if where in executed else 0
            files[where.file][where.line] = max(hit, files[where.file].get(where.line, 0))
        return files

    def lcov(self, test_name: str = "rustos") -> str:
        """The lcov tracefile text."""
        return lcov_text([self], test_name)


def lcov_text(coverages: list[Coverage], test_name: str = "rustos") -> str:
    """One lcov tracefile of several runs of the same kernel: a line is executed when
    any run executed it."""
    if not coverages:
        return ""
    files: dict[str, dict[int, int]] = defaultdict(dict)
    for coverage in coverages:
        for name, lines in coverage.lines().items():
            mine = files[name]
            for line, hit in lines.items():
                mine[line] = max(hit, mine.get(line, 0))
    roots = _compilation_dirs(coverages[0].image.elf)
    out = [f"TN:{test_name}\n"]
    for name, lines in sorted(files.items()):
        path = _resolve(name, roots)
        if path is None:
            continue
        out.append(f"SF:{path}\n")
        out.extend(f"DA:{line},{hit}\n" for line, hit in sorted(lines.items()))
        out.append(f"LF:{len(lines)}\nLH:{sum(1 for h in lines.values() if h)}\nend_of_record\n")
    return "".join(out)


def _compilation_dirs(elf) -> list[str]:
    """Each compilation unit's DW_AT_comp_dir, most frequent first."""
    if not elf.has_dwarf_info():
        return []
    count: dict[str, int] = defaultdict(int)
    for cu in elf.get_dwarf_info().iter_CUs():
        attr = cu.get_top_DIE().attributes.get("DW_AT_comp_dir")
        if attr is not None:
            value = attr.value
            count[value.decode(errors="replace") if isinstance(value, bytes) else str(value)] += 1
    return sorted(count, key=lambda d: -count[d])


def _resolve(name: str, roots: list[str]) -> str | None:
    """The absolute path of a line-table file name (the first compilation directory
    where it exists), or None when it is nowhere on this machine."""
    candidates = [name] if os.path.isabs(name) else [os.path.join(root, name) for root in roots]
    return next((path for path in candidates if os.path.isfile(path)), None)
