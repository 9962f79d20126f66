"""Watchpoints: stop right after an instruction reads or writes a watched range.

Contract: a watchpoint is a set of Unicorn memory hooks (``UC_HOOK_MEM_WRITE``,
``UC_HOOK_MEM_READ`` or both) on the physical pages that its virtual range maps
to when it is set (memory hooks see physical addresses with paging on; the
range is translated page by page, so an unmapped range cannot be watched). The hook must not stop
the engine itself (Unicorn would replay the store), so it records the hit and
asks ``request_stop_after()`` to stop before the next instruction: the stop
then reports the accessing instruction as completed, as x86 data breakpoints
(traps) do. Kinds are numbered as GDB's Z2/Z3/Z4.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from unicorn import UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE

from .engine import flush_tlb


class WatchKind(IntEnum):
    """What access triggers a watchpoint (GDB's Z2, Z3, Z4)."""

    WRITE = 2
    READ = 3
    ACCESS = 4


#: Names as ``Stop.access`` gives them.
WATCH_NAMES = {WatchKind.WRITE: "write", WatchKind.READ: "read", WatchKind.ACCESS: "access"}


@dataclass(frozen=True)
class WatchHit:
    """A triggered watchpoint: its start address and kind, the accessed address,
    the access ("read"/"write"), the value written, and the instruction's RIP."""

    address: int
    kind: WatchKind
    accessed: int
    access: str
    value: int | None
    rip: int


class Watchpoints:
    """The watchpoints of one engine."""

    def __init__(self, uc, read_rip, request_stop_after, translate) -> None:
        """``read_rip()`` gives the current RIP; ``request_stop_after(hit)`` stops after this
        instruction; ``translate(vaddr)`` gives a physical address or raises GuestMemoryError."""
        self._uc = uc
        self._translate = translate
        self._rip = read_rip
        self._stop_after = request_stop_after
        self._hooks: dict[tuple[int, int, WatchKind], list[int]] = {}

    def __len__(self) -> int:
        return len(self._hooks)

    def list(self) -> list[tuple[int, int, WatchKind]]:
        """(address, length, kind) of each watchpoint."""
        return sorted(self._hooks)

    def add(self, address: int, length: int, kind: WatchKind) -> None:
        """Watches ``length`` bytes at virtual ``address``."""
        key = (address, length, WatchKind(kind))
        if key in self._hooks:
            return
        chunks = []
        vaddr, left = address, max(length, 1)
        while left > 0:
            size = min(left, 4096 - (vaddr & 0xFFF))
            chunks.append((vaddr, self._translate(vaddr), size))
            vaddr, left = vaddr + size, left - size
        handles = []
        for vstart, pstart, size in chunks:
            data = (key, vstart, pstart)
            if kind in (WatchKind.WRITE, WatchKind.ACCESS):
                handles.append(self._uc.hook_add(UC_HOOK_MEM_WRITE, self._hit, data, pstart, pstart + size - 1))
            if kind in (WatchKind.READ, WatchKind.ACCESS):
                handles.append(self._uc.hook_add(UC_HOOK_MEM_READ, self._hit, data, pstart, pstart + size - 1))
        self._hooks[key] = handles
        # Accesses through TLB entries filled before the hook existed skip it.
        flush_tlb(self._uc)
        self._uc.ctl_flush_tb()

    def remove(self, address: int, length: int, kind: WatchKind) -> bool:
        """Removes a watchpoint; False if there was none."""
        handles = self._hooks.pop((address, length, WatchKind(kind)), None)
        for h in handles or ():
            self._uc.hook_del(h)
        return handles is not None

    def _hit(self, uc, access: int, paddr: int, size: int, value: int, data) -> None:
        (start, length, kind), vstart, pstart = data
        accessed = vstart + (paddr - pstart)
        if accessed + size <= start or accessed >= start + max(length, 1):
            return
        name = "write" if access == 17 else "read"  # UC_MEM_WRITE = 17, UC_MEM_READ = 16
        self._stop_after(WatchHit(start, kind, accessed, name, value if name == "write" else None, self._rip()))
