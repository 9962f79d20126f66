"""PVH start info and memory map (Xen public/arch-x86/hvm/start_info.h)."""

import struct

from rustos_dbg.structs.pvh import (HVM_START_INFO_V0_SIZE, MEMMAP_TYPE_NAMES, HvmMemmapEntry,
                                    HvmModlistEntry, HvmStartInfo, MemmapType,
                                    XEN_HVM_START_MAGIC_VALUE, is_valid_start_info)


def test_start_info_layout():
    raw = struct.pack("<IIIIQQQQII", 0x336EC578, 1, 0, 1, 0x7000, 0x8000, 0xF_0000, 0x9000, 3, 0)
    assert len(raw) == HvmStartInfo.sizeof() == 56
    s = HvmStartInfo.parse(raw)
    assert is_valid_start_info(s) and s.magic == XEN_HVM_START_MAGIC_VALUE
    assert (s.version, s.nr_modules, s.modlist_paddr, s.cmdline_paddr) == (1, 1, 0x7000, 0x8000)
    assert (s.rsdp_paddr, s.memmap_paddr, s.memmap_entries) == (0xF_0000, 0x9000, 3)
    assert HvmStartInfo.build(s) == raw
    assert HVM_START_INFO_V0_SIZE == raw.index(struct.pack("<Q", 0x9000))


def test_magic_is_xen3_with_high_bit_on_e():
    assert XEN_HVM_START_MAGIC_VALUE.to_bytes(4, "big") == bytes([ord("3"), ord("n"), ord("E") | 0x80, ord("x")])
    assert not is_valid_start_info(HvmStartInfo.parse(bytes(56)))


def test_memmap_entries():
    raw = (struct.pack("<QQII", 0, 0x9FC00, 1, 0)
           + struct.pack("<QQII", 0x10_0000, 0x7EE_0000, 1, 0)
           + struct.pack("<QQII", 0xFEFF_C000, 0x4000, 2, 0))
    size = HvmMemmapEntry.sizeof()
    assert size == 24
    entries = [HvmMemmapEntry.parse(raw[i:i + size]) for i in range(0, len(raw), size)]
    assert [int(e.type) for e in entries] == [MemmapType.RAM, MemmapType.RAM, MemmapType.RESERVED]
    assert entries[0].type == "RAM" and entries[1].addr == 0x10_0000
    assert MEMMAP_TYPE_NAMES[MemmapType(int(entries[2].type))] == "reserved"
    assert b"".join(HvmMemmapEntry.build(e) for e in entries) == raw


def test_unknown_memmap_type_round_trips():
    raw = struct.pack("<QQII", 0x1000, 0x1000, 0x55, 0)
    e = HvmMemmapEntry.parse(raw)
    assert int(e.type) == 0x55 and HvmMemmapEntry.build(e) == raw
    assert [int(t) for t in (MemmapType.ACPI, MemmapType.NVS, MemmapType.UNUSABLE)] == [3, 4, 5]


def test_modlist_entry():
    raw = struct.pack("<4Q", 0x20_0000, 0x1234, 0x8100, 0)
    m = HvmModlistEntry.parse(raw)
    assert (m.paddr, m.size, m.cmdline_paddr) == (0x20_0000, 0x1234, 0x8100)
    assert HvmModlistEntry.build(m) == raw
