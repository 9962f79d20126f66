"""Paging-structure entries for 4-level (and 5-level) paging.

Contract: one 8-byte little-endian layout per entry format, parsed and built
exactly (``build(parse(b)) == b``).  Three formats exist:

* ``TableEntry`` - an entry that references the next table (PML5E, PML4E,
  PDPTE with PS=0, PDE with PS=0); exported under those names too;
* ``PDPTE1G`` / ``PDE2M`` - an entry that maps a 1 GiB / 2 MiB page (PS=1);
* ``PTE`` - an entry that maps a 4 KiB page.

The ``address`` field holds physical-address bits 51:N (N = 12, 21 or 30, so
the parsed value is the address shifted right by N); ``entry_address`` returns
the address itself.  Bits between MAXPHYADDR and 51 are reserved but depend on
the CPU, so the layouts cover the architectural maximum (52 bits) and leave
that check to callers.  Section and table numbers follow the numbering
explained in :mod:`rustos_dbg.structs`.
"""

from __future__ import annotations

import enum

from construct import BitsInteger, BitStruct, ByteSwapped, Construct, Container, Flag

from .bitfields import field_mask, field_value, parse_int

__all__ = [
    "PageLevel", "LEVEL_ENTRY_NAMES", "LEVEL_TABLE_NAMES", "ENTRY_FIELD_NAMES",
    "TableEntry", "PML5E", "PML4E", "PDPTE", "PDE", "PDPTE1G", "PDE2M", "PTE",
    "ENTRIES_PER_TABLE", "level_shift", "leaf_page_size", "entry_layout",
    "entry_address", "parse_entry",
]

#: Number of 8-byte entries in every paging structure (one 4 KiB page).
ENTRIES_PER_TABLE = 512


class PageLevel(enum.IntEnum):
    """Paging-structure level; the value is the level number (PT = 1)."""

    PT = 1
    PD = 2
    PDPT = 3
    PML4 = 4
    PML5 = 5


#: Name of an entry at each level, as used by the SDM.
LEVEL_ENTRY_NAMES: dict[PageLevel, str] = {
    PageLevel.PML5: "PML5E",
    PageLevel.PML4: "PML4E",
    PageLevel.PDPT: "PDPTE",
    PageLevel.PD: "PDE",
    PageLevel.PT: "PTE",
}

#: Name of the table at each level.
LEVEL_TABLE_NAMES: dict[PageLevel, str] = {
    PageLevel.PML5: "PML5 table",
    PageLevel.PML4: "PML4 table",
    PageLevel.PDPT: "page-directory-pointer table",
    PageLevel.PD: "page directory",
    PageLevel.PT: "page table",
}

#: Short descriptions of the entry fields (human strings kept apart from layouts).
ENTRY_FIELD_NAMES: dict[str, str] = {
    "p": "present",
    "rw": "read/write (0 = read-only)",
    "us": "user/supervisor (1 = user-mode accesses allowed)",
    "pwt": "page-level write-through",
    "pcd": "page-level cache disable",
    "a": "accessed",
    "d": "dirty",
    "ps": "page size (1 = this entry maps a page)",
    "g": "global",
    "pat": "PAT memory-type bit",
    "pk": "protection key",
    "xd": "execute-disable (NX)",
    "reserved": "reserved (must be 0)",
}

#: Entry that references another paging structure: PML5E, PML4E, PDPTE (PS=0),
#: PDE (PS=0).  Intel SDM Vol. 3A §4.5 4-Level Paging and 5-Level Paging,
#: Tables 4-14, 4-15, 4-17 and 4-19.  Bit 7 (PS) must be 0 in these formats;
#: in a PML5E/PML4E it is reserved.
TableEntry = ByteSwapped(BitStruct(
    "xd" / Flag,                        # bit 63, execute-disable (if EFER.NXE=1)
    "ignored_62_52" / BitsInteger(11),
    "address" / BitsInteger(40),        # bits 51:12 of the next table's address
    "ignored_11_8" / BitsInteger(4),
    "ps" / Flag,                        # bit 7, 0 here
    "ignored_6" / BitsInteger(1),
    "a" / Flag,                         # bit 5, accessed
    "pcd" / Flag,                       # bit 4
    "pwt" / Flag,                       # bit 3
    "us" / Flag,                        # bit 2, user/supervisor
    "rw" / Flag,                        # bit 1, read/write
    "p" / Flag,                         # bit 0, present
))

PML5E = TableEntry  #: PML5 entry, Intel SDM Vol. 3A §4.5 Table 4-14.
PML4E = TableEntry  #: PML4 entry, Intel SDM Vol. 3A §4.5 Table 4-15.
PDPTE = TableEntry  #: PDPTE referencing a page directory, Intel SDM Vol. 3A §4.5 Table 4-17.
PDE = TableEntry    #: PDE referencing a page table, Intel SDM Vol. 3A §4.5 Table 4-19.


def _large_page_entry(page_shift: int) -> Construct:
    """Layout of a PS=1 entry mapping a page of ``1 << page_shift`` bytes.

    Intel SDM Vol. 3A §4.5, Table 4-16 (1 GiB page, shift 30) and Table 4-18
    (2 MiB page, shift 21): the address field covers bits 51:shift, and bits
    shift-1:13 are reserved.  Declared once here for both sizes.
    """
    return ByteSwapped(BitStruct(
        "xd" / Flag,                                # bit 63
        "pk" / BitsInteger(4),                      # bits 62:59, protection key
        "ignored_58_52" / BitsInteger(7),
        "address" / BitsInteger(52 - page_shift),   # bits 51:page_shift
        "reserved" / BitsInteger(page_shift - 13),  # bits page_shift-1:13
        "pat" / Flag,                               # bit 12
        "ignored_11_9" / BitsInteger(3),
        "g" / Flag,                                 # bit 8, global
        "ps" / Flag,                                # bit 7, 1 here
        "d" / Flag,                                 # bit 6, dirty
        "a" / Flag,                                 # bit 5
        "pcd" / Flag,                               # bit 4
        "pwt" / Flag,                               # bit 3
        "us" / Flag,                                # bit 2
        "rw" / Flag,                                # bit 1
        "p" / Flag,                                 # bit 0
    ))


#: PDPTE mapping a 1 GiB page, Intel SDM Vol. 3A §4.5 Table 4-16.
PDPTE1G = _large_page_entry(30)
#: PDE mapping a 2 MiB page, Intel SDM Vol. 3A §4.5 Table 4-18.
PDE2M = _large_page_entry(21)

#: PTE mapping a 4 KiB page, Intel SDM Vol. 3A §4.5 Table 4-20.
PTE = ByteSwapped(BitStruct(
    "xd" / Flag,                        # bit 63
    "pk" / BitsInteger(4),              # bits 62:59, protection key
    "ignored_58_52" / BitsInteger(7),
    "address" / BitsInteger(40),        # bits 51:12 of the page frame
    "ignored_11_9" / BitsInteger(3),
    "g" / Flag,                         # bit 8
    "pat" / Flag,                       # bit 7
    "d" / Flag,                         # bit 6
    "a" / Flag,                         # bit 5
    "pcd" / Flag,                       # bit 4
    "pwt" / Flag,                       # bit 3
    "us" / Flag,                        # bit 2
    "rw" / Flag,                        # bit 1
    "p" / Flag,                         # bit 0
))

_LEAF_LAYOUTS = {PageLevel.PDPT: PDPTE1G, PageLevel.PD: PDE2M, PageLevel.PT: PTE}


def level_shift(level: PageLevel) -> int:
    """Lowest linear-address bit that indexes the table at ``level`` (PT: 12, PD: 21, ...)."""
    return 12 + 9 * (int(level) - 1)


def leaf_page_size(level: PageLevel) -> int:
    """Size in bytes of a page mapped directly by an entry at ``level``."""
    return 1 << level_shift(level)


def entry_layout(level: PageLevel, raw: int) -> Construct:
    """Layout that applies to the entry value ``raw`` found at ``level``.

    PTEs always map a page; PDPTEs and PDEs map a page when PS (bit 7) is 1;
    PML4Es and PML5Es always reference a table (their bit 7 is reserved).
    """
    level = PageLevel(level)
    if level is PageLevel.PT:
        return PTE
    if level in _LEAF_LAYOUTS and field_value(TableEntry, "ps", raw):
        return _LEAF_LAYOUTS[level]
    return TableEntry


def entry_address(layout: Construct, raw: int) -> int:
    """Physical address held by entry ``raw`` decoded with ``layout``."""
    return raw & field_mask(layout, "address")


def parse_entry(level: PageLevel, raw: int) -> Container:
    """Decode the 64-bit entry value ``raw`` found at ``level`` with the right layout."""
    return parse_int(entry_layout(level, raw), raw)
