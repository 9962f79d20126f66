"""What inspectors read from: guest memory and registers, nothing else.

Contract: an inspector receives a :class:`GuestReader`. ``Machine`` satisfies
it, and so does :class:`BytesReader` (plain bytes, for unit tests of one
inspector). Reads of unmapped or out-of-range addresses raise
``rustos_dbg.machine.errors.GuestMemoryError`` (for ``BytesReader``, the
same class), which inspectors let through or turn into "unreadable" in their
model, as documented per inspector.
"""

from __future__ import annotations

from typing import Protocol

from ..machine.errors import GuestMemoryError


class GuestReader(Protocol):
    """Memory and registers of a stopped guest."""

    def read_virtual(self, addr: int, n: int) -> bytes:
        """``n`` bytes at a virtual address (through the guest's page tables)."""

    def read_physical(self, addr: int, n: int) -> bytes:
        """``n`` bytes at a physical address."""

    def reg(self, name: str):
        """A register: rax..r15, rip, rflags, cs..gs, cr0/cr2/cr3/cr4/cr8, efer,
        fs_base, gs_base; ``gdtr``/``idtr``/``tr``/``ldtr`` give
        ``(selector, base, limit, flags)``."""


class BytesReader:
    """A reader over explicit byte blobs, for unit tests: virtual == physical."""

    def __init__(self, blobs: dict[int, bytes], regs: dict | None = None) -> None:
        """``blobs`` maps start addresses to bytes; ``regs`` gives register values."""
        self._blobs = dict(blobs)
        self._regs = dict(regs or {})

    def read_physical(self, addr: int, n: int) -> bytes:
        """Bytes from the blob that holds the whole range."""
        for start, data in self._blobs.items():
            if start <= addr and addr + n <= start + len(data):
                return bytes(data[addr - start: addr - start + n])
        raise GuestMemoryError(f"address {addr:#x} is not mapped", addr)

    read_virtual = read_physical

    def reg(self, name: str):
        """A register value given at construction."""
        return self._regs[name]


class SnapshotReader:
    """A reader of a stopped machine that remembers registers and page
    translations for as long as it lives (the machine must not run meanwhile):
    one walk per page instead of one per read, for an inspector that reads a
    lot in one go (a backtrace at every profile sample)."""

    def __init__(self, machine) -> None:
        """Reads ``machine``; anything else (symbols, ...) is the machine's."""
        self._machine = machine
        self._regs: dict = {}
        self._pages: dict[int, int] = {}

    def reg(self, name: str):
        """The machine's register, read once."""
        if name not in self._regs:
            self._regs[name] = self._machine.reg(name)
        return self._regs[name]

    def read_physical(self, addr: int, n: int) -> bytes:
        """The machine's physical memory."""
        return self._machine.read_physical(addr, n)

    def read_virtual(self, addr: int, n: int) -> bytes:
        """Virtual memory, each page translated once."""
        out = bytearray()
        while n > 0:
            page, offset = addr & ~0xFFF, addr & 0xFFF
            chunk = min(n, 0x1000 - offset)
            frame = self._pages.get(page)
            if frame is None:
                frame = self._pages[page] = self._machine.memory.translate(page)
            out += self._machine.read_physical(frame + offset, chunk)
            addr, n = addr + chunk, n - chunk
        return bytes(out)

    def __getattr__(self, name: str):
        return getattr(self._machine, name)
