"""Builders for hand-made guest memory: page tables, gates, symbols (plain int packing).

Bit values are written out from the Intel SDM tables, not taken from
``rustos_dbg.structs``, so the inspectors' use of the layouts is checked
independently.
"""

from __future__ import annotations

import struct


P, RW, US, PWT, PCD, A, D, PS, G = 1, 2, 4, 8, 16, 32, 64, 128, 256
NX = 1 << 63
KIB4, MIB2 = 1 << 12, 1 << 21


class PhysMemory:
    """A bytearray of "physical" memory with a 4-level page-table builder."""

    def __init__(self, size: int = 1 << 20, table_base: int = 0x1000) -> None:
        self.data = bytearray(size)
        self.next_table = table_base
        self.root = self.alloc()

    def alloc(self) -> int:
        addr, self.next_table = self.next_table, self.next_table + 0x1000
        return addr

    def q(self, addr: int) -> int:
        return struct.unpack_from("<Q", self.data, addr)[0]

    def put(self, addr: int, value: int) -> None:
        struct.pack_into("<Q", self.data, addr, value)

    def write(self, addr: int, data: bytes) -> None:
        self.data[addr:addr + len(data)] = data

    def _table(self, entry_addr: int) -> int:
        entry = self.q(entry_addr)
        if not entry & P:
            table = self.alloc()
            self.put(entry_addr, table | P | RW | US)
            return table
        return entry & 0x000F_FFFF_FFFF_F000

    def map(self, vaddr: int, paddr: int, flags: int, size: int = KIB4) -> None:
        """Map one page of ``size`` (4 KiB or 2 MiB); parents get P|RW|US."""
        table = self.root
        levels = (39, 30, 21) if size == KIB4 else (39, 30)
        for shift in levels:
            table = self._table(table + 8 * ((vaddr >> shift) & 0x1FF))
        shift = 12 if size == KIB4 else 21
        self.put(table + 8 * ((vaddr >> shift) & 0x1FF),
                 paddr | flags | P | (PS if size == MIB2 else 0))

    def entry_addrs(self, vaddr: int) -> list[int]:
        """Entry addresses along the walk (stops at a missing or large entry)."""
        out, table = [], self.root
        for shift in (39, 30, 21, 12):
            ea = table + 8 * ((vaddr >> shift) & 0x1FF)
            out.append(ea)
            e = self.q(ea)
            if not e & P or (shift in (30, 21) and e & PS):
                break
            table = e & 0x000F_FFFF_FFFF_F000
        return out


def gate(handler: int, selector: int = 8, ist: int = 0, gate_type: int = 0xE, dpl: int = 0,
         present: bool = True) -> bytes:
    """A 16-byte IDT gate packed by hand (SDM Vol. 3A Figure 6-8)."""
    low = (handler & 0xFFFF) | selector << 16 | ist << 32 | gate_type << 40 | dpl << 45 \
        | int(present) << 47 | ((handler >> 16) & 0xFFFF) << 48
    return struct.pack("<QQ", low, handler >> 32)


class FakeSymbol:
    """A symbol: name, address, size (0 = unknown)."""

    def __init__(self, name: str, address: int, size: int) -> None:
        self.name = self.raw = name
        self.address, self.size = address, size
        self.kind = "func" if size else "other"


class FakeSymbols:
    """The part of ``SymbolTable`` the inspectors use: iteration, find, containing, symbolize."""

    def __init__(self, items) -> None:
        self._symbols = sorted((FakeSymbol(*i) for i in items), key=lambda s: s.address)

    def __iter__(self):
        return iter(self._symbols)

    def find(self, name: str):
        return next((s for s in self._symbols if s.name == name), None)

    def containing(self, address: int):
        best = None
        for s in self._symbols:
            if s.address <= address < s.address + max(s.size, 1) or (not s.size and s.address <= address):
                best = s
        return best

    def symbolize(self, address: int) -> str:
        s = self.containing(address)
        if s is None:
            return f"{address:#x}"
        off = address - s.address
        return s.name if off == 0 else f"{s.name}+{off:#x}"


def symtab(*items: tuple[str, int, int]) -> FakeSymbols:
    """A symbol table from ``(name, address, size)`` tuples (size 0: unknown)."""
    return FakeSymbols(items)


PROMPT = "rustos> "


def boot_to_prompt(elf):
    """A machine booted from ``elf`` and run until the shell prompt."""
    from rustos_dbg import Machine

    m = Machine.boot(elf)
    assert m.run_until_serial(PROMPT) is None, "the kernel did not reach the shell prompt"
    return m


def shell(m, line: str) -> str:
    """Types ``line`` on COM1 and returns the output up to the next prompt."""
    start = len(m.serial_output)
    m.send_serial(line + "\n")
    assert m.run_until_serial(PROMPT) is None
    return m.serial_output[start:]
