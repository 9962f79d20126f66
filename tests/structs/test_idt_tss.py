"""IDT gates and the 64-bit TSS, built by hand and decoded."""

import struct

import pytest

from rustos_dbg.structs.idt import IDT_GATE_SIZE, IdtGate, gate_offset, gate_offset_fields
from rustos_dbg.structs.segments import SystemType
from rustos_dbg.structs.tss import TSS64_SIZE, Tss64, tss_ist

HANDLER = 0xFFFF_FFFF_8010_1234


def hand_gate(handler, selector, ist, type_attr):
    """Figure 6-8 by hand: offset 15:0, selector, IST byte, type/attr byte, offset 31:16, 63:32."""
    return struct.pack("<HHBBHII", handler & 0xFFFF, selector, ist, type_attr,
                       (handler >> 16) & 0xFFFF, handler >> 32, 0)


def test_interrupt_gate_from_handler_address():
    raw = hand_gate(HANDLER, 0x08, 1, 0x8E)  # P=1, DPL=0, type 0xE
    g = IdtGate.parse(raw)
    assert gate_offset(g) == HANDLER
    assert (g.offset_15_0, g.offset_31_16, g.offset_63_32) == (0x1234, 0x8010, 0xFFFF_FFFF)
    assert g.selector == 0x08 and g.ist == 1
    assert int(g.type) == SystemType.INTERRUPT_GATE and g.type == "INTERRUPT_GATE"
    assert g.p and g.dpl == 0
    assert IdtGate.build(g) == raw


def test_user_trap_gate():
    g = IdtGate.parse(hand_gate(0x1000, 0x08, 0, 0xEF))  # P=1, DPL=3, type 0xF
    assert int(g.type) == SystemType.TRAP_GATE
    assert g.dpl == 3 and g.p and g.ist == 0
    assert gate_offset(g) == 0x1000


def test_build_gate_from_fields_matches_hand_bytes():
    built = IdtGate.build(dict(reserved=0, p=True, dpl=0, zero_44=0, type="INTERRUPT_GATE",
                               zero_39_35=0, ist=2, selector=0x08,
                               **gate_offset_fields(HANDLER)))
    assert built == hand_gate(HANDLER, 0x08, 2, 0x8E)
    assert len(built) == IDT_GATE_SIZE


def test_gate_offset_fields_rejects_oversized_address():
    with pytest.raises(ValueError):
        gate_offset_fields(1 << 64)


def test_not_present_gate():
    g = IdtGate.parse(bytes(16))
    assert not g.p and gate_offset(g) == 0


def test_tss64_known_values():
    rsp0, ists = 0xFFFF_8000_0001_0000, [0xFFFF_8000_0002_0000 + 0x1000 * i for i in range(7)]
    raw = struct.pack("<IQQQQ7QQHH", 0, rsp0, 0, 0, 0, *ists, 0, 0, TSS64_SIZE)
    assert len(raw) == TSS64_SIZE == Tss64.sizeof()
    t = Tss64.parse(raw)
    assert t.rsp0 == rsp0 and t.rsp1 == 0 and t.rsp2 == 0
    assert [tss_ist(t, n) for n in range(1, 8)] == ists
    assert t.iomap_base == 104  # no I/O bitmap: offset past the end of the TSS
    assert Tss64.build(t) == raw


def test_tss64_unaligned_offsets():
    raw = bytearray(TSS64_SIZE)
    raw[4:12] = (0x1122334455667788).to_bytes(8, "little")   # RSP0 at offset 4
    raw[36:44] = (0xAABBCCDD).to_bytes(8, "little")          # IST1 at offset 36
    t = Tss64.parse(bytes(raw))
    assert t.rsp0 == 0x1122334455667788 and t.ist1 == 0xAABBCCDD
    with pytest.raises(ValueError):
        tss_ist(t, 0)


def test_tss64_field_offsets_follow_figure_7_11():
    from rustos_dbg.structs.tss import TSS64_OFFSETS

    assert (TSS64_OFFSETS["rsp0"], TSS64_OFFSETS["ist1"], TSS64_OFFSETS["ist7"], TSS64_OFFSETS["iomap_base"]) == (4, 36, 84, 102)
