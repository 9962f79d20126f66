"""Memory-dump inspector (``x``): hex + ASCII of virtual or physical memory.

Contract: ``read_memory(reader, address, count, unit)`` reads ``count``
units of ``unit`` bytes (1, 2, 4 or 8, like gdb's ``x/Nxb|h|w|g``) at a
virtual address (through the guest's page tables) or, with
``physical=True``, a physical one, and returns a :class:`MemoryDump` of
lines of 16 bytes (or ``per_line`` units).  With a ``symbolize`` callable,
8-byte values that are kernel addresses get their symbol.  Memory is read
page by page; the dump stops at the first unreadable unit and records why
in ``error`` (nothing is raised); ``read_memory_pieces`` yields the same
lines as consecutive dumps.  Views: ``format_dump``, ``to_json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

from .common import PAGE_SIZE, Symbolize, is_kernel_address, symbol_name, to_json

__all__ = ["DumpLine", "MemoryDump", "read_memory", "read_memory_pieces", "format_dump", "to_json", "UNIT_LETTERS"]

#: gdb's size letters for each unit.
UNIT_LETTERS = {1: "b", 2: "h", 4: "w", 8: "g"}


@dataclass(frozen=True)
class DumpLine:
    """One line: its address, raw bytes, the unit values and their symbols."""

    address: int
    data: bytes
    values: tuple[int, ...]
    symbols: tuple[Optional[str], ...]   #: per value; None when not a kernel symbol

    @property
    def ascii(self) -> str:
        """Printable ASCII of the bytes, ``.`` for the rest."""
        return "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in self.data)


@dataclass(frozen=True)
class MemoryDump:
    """A dump of ``count`` units from ``address``."""

    address: int
    physical: bool
    unit: int
    count: int                   #: units asked for
    lines: tuple[DumpLine, ...]
    error: Optional[str] = None  #: why the dump stopped early

    @property
    def units_read(self) -> int:
        """Units actually read."""
        return sum(len(line.values) for line in self.lines)


def _read(reader, address: int, n: int, physical: bool) -> tuple[bytes, Optional[str]]:
    read = reader.read_physical if physical else reader.read_virtual
    out = bytearray()
    while n > 0:
        chunk = min(n, PAGE_SIZE - (address & (PAGE_SIZE - 1)))
        try:
            out += read(address, chunk)
        except Exception as e:   # GuestMemoryError and friends: keep the readable prefix
            lo, hi = 0, chunk     # read(address, lo) works, read(address, hi) does not
            while hi - lo > 1:
                mid = (lo + hi) // 2
                try:
                    read(address, mid)
                    lo = mid
                except Exception:
                    hi = mid
            if lo:
                out += read(address, lo)
            try:
                read(address + lo, 1)
            except Exception as first:   # the precise address that failed
                e = first
            return bytes(out), str(e) or f"cannot read {address + lo:#x}"
        address, n = address + chunk, n - chunk
    return bytes(out), None


def read_memory(reader, address: int, count: int, unit: int = 8, physical: bool = False,
                symbolize: Optional[Symbolize] = None,
                per_line: Optional[int] = None) -> MemoryDump:
    """Dump ``count`` units of ``unit`` bytes at ``address``."""
    if unit not in UNIT_LETTERS:
        raise ValueError(f"unit must be 1, 2, 4 or 8 bytes, not {unit}")
    if count < 0:
        raise ValueError("count must not be negative")
    per_line = per_line or max(1, 16 // unit)
    data, error = _read(reader, address, count * unit, physical)
    data = data[:len(data) - len(data) % unit]
    lines = []
    step = per_line * unit
    for off in range(0, len(data), step):
        chunk = data[off:off + step]
        values = tuple(int.from_bytes(chunk[i:i + unit], "little") for i in range(0, len(chunk), unit))
        syms = tuple(symbol_name(symbolize, v) if unit == 8 and is_kernel_address(v) else None
                     for v in values)
        lines.append(DumpLine(address + off, chunk, values, syms))
    return MemoryDump(address, physical, unit, count, tuple(lines), error)


def read_memory_pieces(reader, address: int, count: int, unit: int = 8, physical: bool = False,
                       symbolize: Optional[Symbolize] = None, piece: int = 1 << 16) -> Iterator[MemoryDump]:
    """:func:`read_memory` of ``count`` units as consecutive dumps of at most
    ``piece`` bytes each (whole lines; the same lines, in order), ending at the
    first unreadable byte."""
    per_line = max(1, 16 // unit)
    step = max(per_line, piece // unit // per_line * per_line)
    done = 0
    while done < count:
        part = read_memory(reader, address + done * unit, min(step, count - done), unit, physical, symbolize)
        yield part
        if part.error:
            return
        done += part.count


def format_dump(dump: MemoryDump, ascii: bool = True, per_line: Optional[int] = None) -> str:
    """``address: values  |ascii|`` lines; symbols of 8-byte values follow in ``<...>``.
    ``per_line``: the values a full line holds (default: the widest line here)."""
    width = 2 * dump.unit
    per_line = per_line or max((len(line.values) for line in dump.lines), default=1)
    out = []
    for line in dump.lines:
        cells = " ".join(f"{v:0{width}x}" for v in line.values)
        cells = cells.ljust(per_line * (width + 1) - 1)
        text = f"{line.address:#018x}: {cells}"
        if ascii:
            text += f"  |{line.ascii}|"
        syms = [f"{v:#x} <{s}>" for v, s in zip(line.values, line.symbols) if s]
        if syms:
            text += "  " + ", ".join(syms)
        out.append(text)
    if dump.error:
        where = dump.address + dump.units_read * dump.unit
        out.append(f"{where:#018x}: <unreadable: {dump.error}>")
    return "\n".join(out)
