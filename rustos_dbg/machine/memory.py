"""Guest memory: physical access to RAM, and virtual access through the guest's page tables.

Contract: ``snapshot()`` returns the whole RAM as a frozen :class:`RamState`
(pages shared with the previous state where unchanged), ``restore()`` writes
it back. With a :class:`~.dirty.TrackedRam` both cost the pages written since
the last snapshot or restore (and, for a restore, the pages in which the two
states differ), not the whole RAM. Physical reads and writes outside RAM, and virtual accesses to
unmapped (or, for writes, read-only) pages, raise :class:`GuestMemoryError`
naming the address and the reason. Every translation, the debugger's and
the CPU's, is the one walker of :mod:`rustos_dbg.x86.paging` over a physical
reader. Physical accesses also reach other memory the engine maps (the VGA's
video memory at its BAR0), so the debugger reads the framebuffer. ``read_linear`` and ``write_linear`` are the CPU's own supervisor
accesses during delivery: they raise ``DeliveryFault`` with the exception
the walker predicts (#PF with the SDM's error code and CR2 = the address,
or #GP for a non-canonical address).
"""

from __future__ import annotations

from ..x86.access import Access
from ..x86.paging import PagingMode, StopReason, mapped_address, walk
from .delivery import DeliveryFault
from .errors import GuestMemoryError
from .pages import PageStore, RamState

__all__ = ["GuestMemory", "RamState"]

PAGE = 4096

_MASK64 = 0xFFFF_FFFF_FFFF_FFFF


class GuestMemory:
    """RAM at physical 0..``size`` of a Unicorn engine, and its virtual views."""

    def __init__(self, uc, size: int, reg, tracked=None) -> None:
        """``reg(name)`` reads a CPU register (for CR0/CR3/CR4/EFER); ``tracked``
        is the engine's RAM when it is a :class:`~.dirty.TrackedRam`."""
        self.uc = uc
        self.size = size
        self._reg = reg
        #: The engine's RAM when its writes are tracked (:class:`~.dirty.TrackedRam`), else None.
        self.tracked = tracked
        self._pages = PageStore(size, uc.mem_read, uc.mem_write, tracked)

    def _check(self, addr: int, n: int) -> None:
        """Raises unless [addr, addr + n) is RAM or another memory the engine maps (the video memory)."""
        if 0 <= addr and 0 <= n and addr + n <= self.size:
            return
        if n > 0 and any(start <= addr and addr + n - 1 <= end for start, end, _ in self.uc.mem_regions()):
            return
        raise GuestMemoryError(f"physical address {addr:#x} is outside RAM (0-{self.size:#x})", addr)

    def read_physical(self, addr: int, n: int) -> bytes:
        """``n`` bytes at physical ``addr`` (RAM, or the video memory where the VGA's BAR0 maps it)."""
        self._check(addr, n)
        return bytes(self.uc.mem_read(addr, n))

    def write_physical(self, addr: int, data: bytes) -> None:
        """Writes ``data`` at physical ``addr`` (RAM, or the video memory)."""
        self._check(addr, len(data))
        self.uc.mem_write(addr, bytes(data))

    def snapshot(self) -> RamState:
        """All of RAM now (pages unchanged since the last snapshot or restore shared with it)."""
        return self._pages.snapshot()

    def restore(self, state: RamState) -> None:
        """Puts back the contents of ``state``."""
        self._pages.restore(state)

    def _read_table(self, addr: int, n: int) -> bytes:
        if addr + n > self.size:
            return b"\0" * n  # an entry beyond RAM reads as not present
        return bytes(self.uc.mem_read(addr, n))

    def paging_mode(self) -> PagingMode:
        """The paging mode of CR0, CR4 and EFER now."""
        return PagingMode.from_registers(self._reg("cr0"), self._reg("cr4"), self._reg("efer"))

    def walk(self, vaddr: int, cr3: int | None = None):
        """The page walk for ``vaddr`` under ``cr3`` (default: the current one)."""
        cr3 = self._reg("cr3") if cr3 is None else cr3
        return walk(self._read_table, cr3, vaddr & _MASK64, self.paging_mode())

    def translate(self, vaddr: int, access: Access = Access.READ, cr3: int | None = None,
                  mode: PagingMode | None = None) -> int:
        """Physical address of ``vaddr`` (under ``cr3``, default the current one; in
        ``mode``, default the current one); a :class:`GuestMemoryError` when unmapped."""
        if access is Access.READ:
            paddr = mapped_address(self._read_table, self._reg("cr3") if cr3 is None else cr3, vaddr & _MASK64,
                                   mode or self.paging_mode())
            if paddr is not None:
                return paddr
        result = self.walk(vaddr, cr3)
        if result.stop_reason is StopReason.NON_CANONICAL:
            raise GuestMemoryError(f"address {vaddr:#x} is not canonical", vaddr)
        if not result.ok:
            level = result.stop_level.name if result.stop_level is not None else "?"
            why = "not present" if result.stop_reason is StopReason.NOT_PRESENT else "reserved bit set"
            raise GuestMemoryError(f"address {vaddr:#x} is not mapped ({level} entry {why})", vaddr)
        if access is Access.WRITE and not result.permissions.writable:
            raise GuestMemoryError(f"address {vaddr:#x} is mapped read-only", vaddr)
        return result.paddr

    def _chunks(self, vaddr: int, n: int):
        while n > 0:
            chunk = min(n, PAGE - (vaddr & (PAGE - 1)))
            yield vaddr, chunk
            vaddr, n = vaddr + chunk, n - chunk

    def read_virtual(self, vaddr: int, n: int) -> bytes:
        """``n`` bytes at virtual ``vaddr``, through the current page tables."""
        return b"".join(self.read_physical(self.translate(v), c) for v, c in self._chunks(vaddr, n))

    def read_virtual_in(self, cr3: int, vaddr: int, n: int) -> bytes:
        """``n`` bytes at virtual ``vaddr`` in the address space whose PML4 is at ``cr3``."""
        return b"".join(self.read_physical(self.translate(v, cr3=cr3), c) for v, c in self._chunks(vaddr, n))

    def write_virtual(self, vaddr: int, data: bytes, *, force: bool = False) -> None:
        """Writes ``data`` at virtual ``vaddr`` (``force``: also to read-only pages, as a debugger may)."""
        pos = 0
        for v, c in self._chunks(vaddr, len(data)):
            phys = self.translate(v, Access.READ if force else Access.WRITE)
            self.write_physical(phys, data[pos:pos + c])
            pos += c

    def _linear(self, vaddr: int, access: Access) -> int:
        """The CPU's own supervisor access: the walk, and the fault it would raise."""
        result = self.walk(vaddr)
        fault = result.fault_for(access)
        vaddr &= _MASK64
        if fault is not None and result.stop_reason is StopReason.NON_CANONICAL:
            raise DeliveryFault(fault.vector, fault.error_code, f"non-canonical address {vaddr:#x}")
        if fault is not None:
            why = "not present" if not result.ok else "protection"
            raise DeliveryFault(fault.vector, fault.error_code,
                                f"page fault at {vaddr:#x} ({access.name.lower()}, {why})", cr2=vaddr)
        if result.paddr >= self.size:
            raise DeliveryFault(13, 0, f"address {vaddr & _MASK64:#x} maps outside RAM")
        return result.paddr

    def read_linear(self, vaddr: int, n: int) -> bytes:
        """The CPU's supervisor read during delivery (faults as ``DeliveryFault``)."""
        return b"".join(self.read_physical(self._linear(v, Access.READ), c) for v, c in self._chunks(vaddr, n))

    def write_linear(self, vaddr: int, data: bytes) -> None:
        """The CPU's supervisor write during delivery (faults as ``DeliveryFault``)."""
        pos = 0
        for v, c in self._chunks(vaddr, len(data)):
            self.write_physical(self._linear(v, Access.WRITE), data[pos:pos + c])
            pos += c
