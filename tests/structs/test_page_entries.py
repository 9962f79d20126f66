"""Paging-structure entry layouts checked against the SDM tables."""

import pytest

from rustos_dbg.structs.bitfields import bit_fields, build_int, field_mask, parse_int
from rustos_dbg.structs.paging import (PDE, PDE2M, PDPTE, PDPTE1G, PML4E, PTE, PageLevel,
                                       TableEntry, entry_address, entry_layout, leaf_page_size,
                                       level_shift, parse_entry)


def test_table_entry_aliases_share_one_layout():
    assert PML4E is PDPTE is PDE is TableEntry


def test_pte_user_rw_nx():
    raw = 0x8000_0000_0012_3067  # XD | frame 0x123000 | D A U/S R/W P
    e = parse_int(PTE, raw)
    assert (e.p, e.rw, e.us, e.pwt, e.pcd, e.a, e.d, e.pat, e.g) == (
        True, True, True, False, False, True, True, False, False)
    assert e.xd and e.address == 0x123
    assert entry_address(PTE, raw) == 0x123000
    assert build_int(PTE, e) == raw


def test_bit_12_is_pat_in_large_pages_but_address_in_pte():
    raw = 0x1083  # bit 12, PS/PAT (bit 7), R/W, P
    big = parse_int(PDE2M, raw)
    assert big.pat and big.ps and entry_address(PDE2M, raw) == 0
    small = parse_int(PTE, raw)
    assert small.pat and entry_address(PTE, raw) == 0x1000


def test_2mib_and_1gib_address_fields():
    assert entry_address(PDE2M, 0x0000_0000_0060_00E3) == 0x600000
    assert entry_address(PDPTE1G, 0x0000_0001_4000_0083) == 0x1_4000_0000
    assert parse_int(PDE2M, 0x2000E3).d
    # reserved bits 20:13 (2 MiB) and 29:13 (1 GiB)
    assert field_mask(PDE2M, "reserved") == 0x1F_E000
    assert field_mask(PDPTE1G, "reserved") == 0x3FFF_E000
    assert parse_int(PDPTE1G, 0x40002083).reserved == 1


def test_protection_key_bits_62_59():
    assert field_mask(PTE, "pk") == 0x7800_0000_0000_0000
    assert parse_int(PDE2M, 0x2800_0000_0000_0083).pk == 0b0101


def test_flag_positions_match_sdm():
    expected = {"p": 0, "rw": 1, "us": 2, "pwt": 3, "pcd": 4, "a": 5, "ps": 7, "xd": 63}
    fields = bit_fields(TableEntry)
    assert {n: fields[n].shift for n in expected} == expected
    assert bit_fields(PTE)["g"].shift == 8 and bit_fields(PTE)["d"].shift == 6
    assert field_mask(TableEntry, "address") == 0x000F_FFFF_FFFF_F000


@pytest.mark.parametrize("level, raw, layout", [
    (PageLevel.PML4, 0x1083, TableEntry),   # PS is reserved in a PML4E, not a page
    (PageLevel.PDPT, 0x83, PDPTE1G),
    (PageLevel.PDPT, 0x03, TableEntry),
    (PageLevel.PD, 0x83, PDE2M),
    (PageLevel.PD, 0x03, TableEntry),
    (PageLevel.PT, 0x83, PTE),              # bit 7 of a PTE is PAT
])
def test_entry_layout_dispatch(level, raw, layout):
    assert entry_layout(level, raw) is layout
    assert build_int(layout, parse_entry(level, raw)) == raw


def test_level_geometry():
    assert [level_shift(lv) for lv in PageLevel] == [12, 21, 30, 39, 48]
    assert leaf_page_size(PageLevel.PD) == 2 << 20
    assert leaf_page_size(PageLevel.PDPT) == 1 << 30
