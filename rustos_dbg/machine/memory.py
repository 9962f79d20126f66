"""Guest memory: physical access to RAM, and virtual access through the guest's page tables.

Contract: physical reads and writes outside RAM, and virtual accesses to
unmapped (or, for writes, read-only) pages, raise :class:`GuestMemoryError`
naming the address and the reason; the page walk is the pure one of
``rustos_dbg.inspect.paging`` over a physical reader. ``read_linear`` and
``write_linear`` are the CPU's own accesses during delivery: they raise
``DeliveryFault`` (#PF with the SDM's error code, CR2 = the address).
"""

from __future__ import annotations

from ..inspect.access import Access
from .delivery import DeliveryFault
from .errors import GuestMemoryError

PAGE = 4096

_MASK64 = 0xFFFF_FFFF_FFFF_FFFF
_ADDR = 0x000F_FFFF_FFFF_F000
_CR0_WP = 1 << 16


class GuestMemory:
    """RAM at physical 0..``size`` of a Unicorn engine, and its virtual views."""

    def __init__(self, uc, size: int, reg) -> None:
        """``reg(name)`` reads a CPU register (for CR0/CR3/CR4/EFER)."""
        self.uc = uc
        self.size = size
        self._reg = reg

    def read_physical(self, addr: int, n: int) -> bytes:
        """``n`` bytes at physical ``addr``."""
        if addr < 0 or n < 0 or addr + n > self.size:
            raise GuestMemoryError(f"physical address {addr:#x} is outside RAM (0-{self.size:#x})", addr)
        return bytes(self.uc.mem_read(addr, n))

    def write_physical(self, addr: int, data: bytes) -> None:
        """Writes ``data`` at physical ``addr``."""
        if addr < 0 or addr + len(data) > self.size:
            raise GuestMemoryError(f"physical address {addr:#x} is outside RAM (0-{self.size:#x})", addr)
        self.uc.mem_write(addr, bytes(data))

    def _read_table(self, addr: int, n: int) -> bytes:
        if addr + n > self.size:
            return b"\0" * n  # an entry beyond RAM reads as not present
        return bytes(self.uc.mem_read(addr, n))

    def paging_mode(self):
        """The paging mode of CR0, CR4 and EFER now."""
        from ..inspect.paging import PagingMode

        return PagingMode.from_registers(self._reg("cr0"), self._reg("cr4"), self._reg("efer"))

    def walk(self, vaddr: int, cr3: int | None = None):
        """The page walk for ``vaddr`` under ``cr3`` (default: the current one)."""
        from ..inspect.paging import walk

        cr3 = self._reg("cr3") if cr3 is None else cr3
        return walk(self._read_table, cr3, vaddr & 0xFFFF_FFFF_FFFF_FFFF, self.paging_mode())

    def translate(self, vaddr: int, access: Access = Access.READ) -> int:
        """Physical address of ``vaddr``; a :class:`GuestMemoryError` when unmapped."""
        from ..inspect.paging import StopReason

        result = self.walk(vaddr)
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

    def write_virtual(self, vaddr: int, data: bytes, *, force: bool = False) -> None:
        """Writes ``data`` at virtual ``vaddr`` (``force``: also to read-only pages, as a debugger may)."""
        pos = 0
        for v, c in self._chunks(vaddr, len(data)):
            phys = self.translate(v, Access.READ if force else Access.WRITE)
            self.write_physical(phys, data[pos:pos + c])
            pos += c

    def _linear(self, vaddr: int, access: Access) -> int:
        """The CPU's own supervisor access: a lean walk of the 4-level tables
        (the rich walker is for inspectors); reserved bits are not checked here."""
        vaddr &= _MASK64
        top = vaddr >> 47
        if top not in (0, 0x1FFFF):
            raise DeliveryFault(13, 0, f"non-canonical address {vaddr:#x}")
        write = access is Access.WRITE
        table = self._reg("cr3") & _ADDR
        writable = True
        for shift in (39, 30, 21, 12):
            slot = table + ((vaddr >> shift) & 0x1FF) * 8
            if slot + 8 > self.size:
                raise DeliveryFault(13, 0, f"page table entry for {vaddr:#x} lies outside RAM")
            entry = int.from_bytes(self.uc.mem_read(slot, 8), "little")
            if not entry & 1:
                raise DeliveryFault(14, 2 if write else 0, f"page fault at {vaddr:#x} ({access.name.lower()}, not present)", cr2=vaddr)
            writable = writable and bool(entry & 2)
            if shift != 12 and shift != 39 and entry & 0x80:
                size = 1 << shift
                paddr = (entry & _ADDR & ~(size - 1)) | (vaddr & (size - 1))
                break
            table = entry & _ADDR
        else:
            paddr = table | (vaddr & 0xFFF)
        if write and not writable and self._reg("cr0") & _CR0_WP:
            raise DeliveryFault(14, 3, f"page fault at {vaddr:#x} (write to a read-only page)", cr2=vaddr)
        if paddr >= self.size:
            raise DeliveryFault(13, 0, f"address {vaddr:#x} maps outside RAM")
        return paddr

    def read_linear(self, vaddr: int, n: int) -> bytes:
        """The CPU's supervisor read during delivery (faults as ``DeliveryFault``)."""
        return b"".join(self.read_physical(self._linear(v, Access.READ), c) for v, c in self._chunks(vaddr, n))

    def write_linear(self, vaddr: int, data: bytes) -> None:
        """The CPU's supervisor write during delivery (faults as ``DeliveryFault``)."""
        pos = 0
        for v, c in self._chunks(vaddr, len(data)):
            self.write_physical(self._linear(v, Access.WRITE), data[pos:pos + c])
            pos += c
