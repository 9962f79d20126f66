"""Every leaf mapping reachable from CR3, optionally coalesced into ranges;
every paging-structure table reachable from it.

Contract: pure, over a ``read_phys`` callable as :mod:`.paging`; entries
with reserved bits set are skipped (any access through them faults);
permissions are combined over the levels as the walker does (Intel SDM
Vol. 3A §4.6).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterator, Optional

from ..structs.paging import ENTRIES_PER_TABLE, PageLevel, TableEntry, entry_address, entry_layout, level_shift
from .paging import _CR3_ADDRESS, _MASK64, _P, _RW, _US, _XD, PagingMode, Permissions, ReadPhys, reserved_bits

__all__ = ["Mapping", "iter_mappings", "iter_tables"]


@dataclass(frozen=True)
class Mapping:
    """A range of linear addresses mapped contiguously with the same rights and page size."""

    vaddr: int
    paddr: int
    size: int
    page_size: int
    permissions: Permissions

    @property
    def end(self) -> int:
        """First linear address after the range."""
        return self.vaddr + self.size


def _leaves(read_phys: ReadPhys, mode: PagingMode, table: int, level: PageLevel, base: int,
            rights: tuple[bool, bool, bool], perm_cache: dict) -> Iterator[Mapping]:
    """Depth-first leaf mappings below the table at ``table`` (``base`` = its first vaddr)."""
    entries = struct.unpack("<512Q", read_phys(table, 8 * ENTRIES_PER_TABLE))
    shift = level_shift(level)
    va_bits = mode.va_bits
    for index, raw in enumerate(entries):
        if not raw & _P:
            continue
        layout = entry_layout(level, raw)
        if reserved_bits(level, layout, raw, mode):
            continue
        vaddr = base | (index << shift)
        if vaddr >> (va_bits - 1):   # sign-extend upper-half addresses
            vaddr |= _MASK64 & ~((1 << va_bits) - 1)
        sub = (rights[0] and bool(raw & _RW), rights[1] and bool(raw & _US),
               rights[2] or bool(raw & _XD))
        if layout is TableEntry:
            yield from _leaves(read_phys, mode, entry_address(layout, raw), PageLevel(level - 1),
                               vaddr, sub, perm_cache)
            continue
        perms = perm_cache.get(sub)
        if perms is None:
            perms = perm_cache[sub] = Permissions(True, sub[0], sub[1], not (mode.nxe and sub[2]))
        size = 1 << shift
        yield Mapping(vaddr, entry_address(layout, raw), size, size, perms)


def iter_mappings(read_phys: ReadPhys, cr3: int, mode: Optional[PagingMode] = None, *,
                  coalesce: bool = True) -> Iterator[Mapping]:
    """Every present leaf mapping reachable from ``cr3``, in increasing linear-address order.

    Entries with reserved bits set are skipped (any access through them
    faults).  With ``coalesce``, runs that are contiguous both virtually and
    physically, with equal permissions and page size, are merged.
    """
    mode = mode or PagingMode()
    leaves = _leaves(read_phys, mode, cr3 & _CR3_ADDRESS, mode.top_level, 0,
                     (True, True, False), {})
    if not coalesce:
        yield from leaves
        return
    run: Optional[Mapping] = None
    for leaf in leaves:
        if (run is not None and run.end == leaf.vaddr and run.paddr + run.size == leaf.paddr
                and run.permissions == leaf.permissions and run.page_size == leaf.page_size):
            run = Mapping(run.vaddr, run.paddr, run.size + leaf.size, run.page_size,
                          run.permissions)
            continue
        if run is not None:
            yield run
        run = leaf
    if run is not None:
        yield run


def iter_tables(read_phys: ReadPhys, cr3: int, mode: Optional[PagingMode] = None) -> Iterator[tuple[int, PageLevel]]:
    """The physical address and level of every paging-structure table reachable
    from ``cr3`` (the top one first, then depth-first; each once), following the
    same entries as :func:`iter_mappings`."""
    mode = mode or PagingMode()
    seen: set[int] = set()
    stack = [(cr3 & _CR3_ADDRESS, mode.top_level)]
    while stack:
        table, level = stack.pop()
        if table in seen:
            continue
        seen.add(table)
        yield table, level
        for raw in struct.unpack("<512Q", read_phys(table, 8 * ENTRIES_PER_TABLE)):
            if not raw & _P:
                continue
            layout = entry_layout(level, raw)
            if layout is TableEntry and not reserved_bits(level, layout, raw, mode):
                stack.append((entry_address(layout, raw), PageLevel(level - 1)))
