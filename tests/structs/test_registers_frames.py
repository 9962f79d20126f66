"""Control registers, EFER, RFLAGS, interrupt frames and the #PF error code."""

import struct

import pytest

from rustos_dbg.structs.bitfields import bit_fields, build_int, field_mask, parse_int
from rustos_dbg.structs.control import CR0, CR3, CR3_PCID, CR4, EFER, IA32_EFER_MSR, RFLAGS
from rustos_dbg.structs.frames import (InterruptFrame,
                                       InterruptFrameWithErrorCode, PageFaultErrorCode)


def test_cr0_long_mode_value():
    c = parse_int(CR0, 0x8001_0033)  # PG | WP | NE | ET | MP | PE
    assert c.pg and c.wp and c.ne and c.et and c.mp and c.pe
    assert not (c.cd or c.nw or c.am or c.ts or c.em)
    assert build_int(CR0, c) == 0x8001_0033


def test_cr3_plain_and_pcid():
    c = parse_int(CR3, 0x0000_0000_0010_1018)
    assert c.address << 12 == 0x101000 and c.pwt and c.pcd
    p = parse_int(CR3_PCID, 0x8000_0000_0000_2005)
    assert p.no_flush and p.pcid == 5 and p.address == 2


def test_cr4_bits():
    raw = 0x0010_06A0 | (1 << 12) | (1 << 21)
    c = parse_int(CR4, raw)
    assert c.pae and c.pge and c.osfxsr and c.osxmmexcpt and c.smep and c.smap and c.la57
    assert not (c.pse or c.pcide or c.pke or c.fred)
    assert field_mask(CR4, "fred") == 1 << 32 and field_mask(CR4, "lam_sup") == 1 << 28
    assert build_int(CR4, c) == raw


def test_efer():
    assert IA32_EFER_MSR == 0xC000_0080
    e = parse_int(EFER, 0xD01)
    assert e.sce and e.lme and e.lma and e.nxe
    assert {n: bit_fields(EFER)[n].shift for n in ("sce", "lme", "lma", "nxe")} == {
        "sce": 0, "lme": 8, "lma": 10, "nxe": 11}


def test_rflags():
    f = parse_int(RFLAGS, 0x3246)  # IOPL=3, IF, ZF, PF, reserved bit 1
    assert f.if_ and f.zf and f.pf and f.iopl == 3 and f.reserved_1 == 1
    assert not (f.cf or f.sf or f.ac or f.tf)
    assert field_mask(RFLAGS, "ac") == 1 << 18


def test_interrupt_frame_without_error_code():
    values = (0xFFFF_FFFF_8000_1000, 0x08, 0x202, 0xFFFF_8000_0010_0000, 0x10)
    raw = struct.pack("<5Q", *values)
    f = InterruptFrame.parse(raw)
    assert (f.rip, f.cs, f.rflags, f.rsp, f.ss) == values
    assert InterruptFrame.build(f) == raw and InterruptFrame.sizeof() == 40


def test_interrupt_frame_with_error_code():
    raw = struct.pack("<6Q", 0x2, 0x401000, 0x2B, 0x246, 0x7FFF_F000, 0x23)
    f = InterruptFrameWithErrorCode.parse(raw)
    assert f.error_code == 2 and f.rip == 0x401000 and f.cs & 3 == 3 and f.ss == 0x23
    assert InterruptFrameWithErrorCode.build(f) == raw
    assert InterruptFrameWithErrorCode.sizeof() == 48


@pytest.mark.parametrize("code, expect", [
    (0x0, set()),
    (0x2, {"wr"}),                      # supervisor write to a not-present page
    (0x7, {"p", "wr", "us"}),           # user write to a read-only page
    (0x11, {"p", "id"}),                # fetch from an NX page
    (0x9, {"p", "rsvd"}),               # reserved bit
    (0x8000, {"sgx"}),
    (0x20, {"pk"}),
    (0x40, {"ss"}),
])
def test_page_fault_error_code(code, expect):
    raw = code.to_bytes(4, "little")
    e = PageFaultErrorCode.parse(raw)
    flags = {"p", "wr", "us", "rsvd", "id", "pk", "ss", "hlat", "sgx"}
    assert {n for n in flags if e[n]} == expect
    assert PageFaultErrorCode.build(e) == raw
