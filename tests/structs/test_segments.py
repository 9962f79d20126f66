"""GDT descriptors and selectors decoded against hand-worked SDM values."""

import struct

import pytest

from rustos_dbg.structs.segments import (SYSTEM_TYPE_NAMES, SegmentDescriptor, SegmentSelector,
                                         SystemSegmentDescriptor, SystemType, descriptor_base,
                                         descriptor_limit, descriptor_limit_bytes,
                                         system_descriptor_base)


def q(value: int) -> bytes:
    return value.to_bytes(8, "little")


def test_kernel_code_segment_0x00af9a000000ffff():
    raw = q(0x00AF9A000000FFFF)
    d = SegmentDescriptor.parse(raw)
    # access byte 0x9a = P=1, DPL=00, S=1, type 1010 (execute/read code)
    assert (d.p, d.dpl, d.s) == (True, 0, True)
    assert (d.executable, d.dc, d.rw, d.accessed) == (True, False, True, False)
    # flags nibble 0xa = G=1, D/B=0, L=1, AVL=0
    assert (d.g, d.db, d.l, d.avl) == (True, False, True, False)
    assert descriptor_base(d) == 0
    assert descriptor_limit(d) == 0xFFFFF
    assert descriptor_limit_bytes(d) == 0xFFFF_FFFF
    assert SegmentDescriptor.build(d) == raw


def test_user_code_and_kernel_data_segments():
    user = SegmentDescriptor.parse(q(0x00AFFA000000FFFF))
    assert user.dpl == 3 and user.l and user.executable
    data = SegmentDescriptor.parse(q(0x00CF92000000FFFF))
    assert not data.executable and data.rw and data.db and not data.l
    assert data.dpl == 0 and data.g


def test_split_base_and_limit_are_joined():
    # Hand-assembled: base 0x12345678, limit 0xABCDE, access 0x92, flags D/B=1, G=0.
    raw = struct.pack("<HHBBBB", 0xBCDE, 0x5678, 0x34, 0x92, 0x40 | 0xA, 0x12)
    d = SegmentDescriptor.parse(raw)
    assert descriptor_base(d) == 0x12345678
    assert descriptor_limit(d) == 0xABCDE
    assert descriptor_limit_bytes(d) == 0xABCDE  # G=0: byte granular
    assert d.db and not d.g
    assert SegmentDescriptor.build(d) == raw


def test_64bit_tss_descriptor():
    base, limit = 0xFFFF_8000_0012_3450, 0x67
    low = struct.pack("<HHBBBB", limit, base & 0xFFFF, (base >> 16) & 0xFF, 0x89, 0x00,
                      (base >> 24) & 0xFF)
    raw = low + struct.pack("<II", base >> 32, 0)
    d = SystemSegmentDescriptor.parse(raw)
    assert int(d.type) == SystemType.TSS_AVAILABLE == 0x9
    assert d.type == "TSS_AVAILABLE"
    assert SYSTEM_TYPE_NAMES[SystemType(int(d.type))] == "64-bit TSS (available)"
    assert d.p and d.dpl == 0 and not d.s
    assert system_descriptor_base(d) == base
    assert descriptor_limit(d) == limit
    assert SystemSegmentDescriptor.build(d) == raw
    assert SystemSegmentDescriptor.sizeof() == 16


def test_busy_tss_type_after_ltr():
    raw = bytearray(16)
    raw[5] = 0x8B  # LTR marks the descriptor busy: type 0xB
    assert int(SystemSegmentDescriptor.parse(bytes(raw)).type) == SystemType.TSS_BUSY


@pytest.mark.parametrize("selector, index, ti, rpl", [
    (0x08, 1, False, 0), (0x2B, 5, False, 3), (0x1C, 3, True, 0)])
def test_selector_fields(selector, index, ti, rpl):
    s = SegmentSelector.parse(selector.to_bytes(2, "little"))
    assert (s.index, s.ti, s.rpl) == (index, ti, rpl)
    assert SegmentSelector.build(s) == selector.to_bytes(2, "little")
