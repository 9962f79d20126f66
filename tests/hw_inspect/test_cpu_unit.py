"""regs/sregs/cregs, x (memory dump) and dis on hand-built bytes."""

import json
import struct

import pytest

from rustos_dbg.inspect.hw import cregs, dis, memdump, regs
from rustos_dbg.inspect.reader import BytesReader

from .hw_helpers import symtab

GDT = 0x20000
GDT_SLOTS = [0, 0x00AF_9B00_0000_FFFF, 0x00CF_9300_0000_FFFF, 0x00CF_F300_0000_FFFF,
             0x00AF_FB00_0000_FFFF]
KFUNC = 0xFFFF_FFFF_8000_1000


def cpu_regs(**extra) -> dict:
    base = {n: i * 0x11 for i, n in enumerate(regs.GPR_NAMES[:-2])}
    base.update(rip=KFUNC + 4, rflags=0x246, rbp=KFUNC + 0x100, cs=0x08, ss=0x10, ds=0x10, es=0x10,
                fs=0, gs=0x1B, gdtr=(0, GDT, 0x27, 0), idtr=(0, 0x30000, 0xFFF, 0),
                tr=(0x28, 0xFFFF_FFFF_8012_7AA0, 0x67, 0x8000_8912), ldtr=(0, 0, 0, 0),
                fs_base=0x1234, gs_base=0, cr0=0x8001_0011, cr2=0xDEAD_BEEF_000, cr3=0x18_1000,
                cr4=0xA0, cr8=0, efer=0xD00)
    base.update(extra)
    return base


def test_regs_symbolized():
    syms = symtab(("kfunc", KFUNC, 0x200))
    g = regs.read_regs(BytesReader({}, cpu_regs()), syms.symbolize)
    assert g["rip"] == KFUNC + 4 and g["rflags"] == 0x246
    rip = next(r for r in g.registers if r.name == "rip")
    assert rip.symbol == "kfunc+0x4"
    assert next(r for r in g.registers if r.name == "rax").symbol is None
    assert g.rflags_set == ("IF", "ZF", "PF")
    text = regs.format_regs(g)
    assert "rip 0xffffffff80001004 <kfunc+0x4>" in text and "[IF ZF PF]" in text
    assert json.loads(regs.to_json(g))["rflags_set"] == ["IF", "ZF", "PF"]


def test_sregs_from_gdt_and_cpu_caches():
    r = BytesReader({GDT: struct.pack("<5Q", *GDT_SLOTS)}, cpu_regs())
    s = regs.read_sregs(r)
    by = {x.name: x for x in s.segments}
    assert [x.name for x in s.segments] == ["cs", "ss", "ds", "es", "fs", "gs", "tr", "ldtr"]
    assert by["cs"].source == "gdt" and by["cs"].descriptor.l and by["cs"].descriptor.kind == "code"
    assert (by["gs"].index, by["gs"].rpl, by["gs"].descriptor.dpl) == (3, 3, 3)
    assert by["fs"].source == "none"
    tr = by["tr"]
    assert tr.source == "cpu" and tr.cache.base == 0xFFFF_FFFF_8012_7AA0 and tr.cache.type == 9
    assert tr.cache.present and not tr.cache.s and "TSS" in tr.cache.type_name
    assert [(t.name, t.base) for t in s.tables] == [("gdtr", GDT), ("idtr", 0x30000)]
    assert s.fs_base == 0x1234 and s.kernel_gs_base is None
    cs_cache = regs.read_sregs(r, caches={"cs": (0x08, 0, 0xFFFFF, 0x00A09B00)})
    assert cs_cache.segments[0].source == "cpu" and cs_cache.segments[0].cache.l
    text = regs.format_sregs(s)
    assert "tr   0x0028" in text and "fs_base        0x1234" in text


def test_cregs_bit_by_bit():
    c = cregs.read_cregs(BytesReader({}, cpu_regs()))
    assert [r.name for r in c.registers] == ["cr0", "cr2", "cr3", "cr4", "cr8", "efer", "rflags"]
    assert c.get("cr0").set_flags == ("PG", "WP", "ET", "PE")
    cr0_bits = {f.name: (f.bit, f.value) for f in c.get("cr0").fields}
    assert cr0_bits["PG"] == (31, 1) and cr0_bits["CD"] == (30, 0) and cr0_bits["WP"] == (16, 1)
    assert c.get("cr4").set_flags == ("PGE", "PAE")
    assert c.get("efer").set_flags == ("NXE", "LMA", "LME")
    assert c.get("rflags").set_flags[:3] == ("IF", "ZF", "PF")
    iopl = next(f for f in c.get("rflags").fields if f.name == "IOPL")
    assert (iopl.bit, iopl.width) == (12, 2)
    assert "0x181000" in c.get("cr3").note and c.get("cr8").fields[0].name == "TPR"
    assert "page-fault" in c.get("cr2").note
    short = cregs.format_cregs(c, verbose=False)
    assert "CR0    = 0x0000000080010011  PG WP ET PE" in short and "reserved" not in short
    long = cregs.format_cregs(c)
    assert "bit 31      PG" in long and "bits 13:12  IOPL" in long


def test_cregs_flags_non_zero_reserved_bits():
    r = cregs.decode_register("cr0", 0x8001_0011 | 1 << 40)
    reserved = [f for f in r.fields if f.name.startswith("reserved")]
    assert reserved and reserved[0].value and "non-zero" in reserved[0].meaning
    pcid = cregs.decode_register("cr3", 0x18_1005, pcide=True)
    assert next(f for f in pcid.fields if f.name == "PCID").value == 5


# --- x -----------------------------------------------------------------------------

DUMP = 0x1000
DUMP_BYTES = b"Hello, world!\x00\x01\x02" + struct.pack("<QQ", KFUNC + 8, 0x1234)


@pytest.mark.parametrize("unit, first", [(1, "48 65 6c 6c"), (2, "6548 6c6c"),
                                         (4, "6c6c6548"), (8, "77202c6f6c6c6548")])
def test_dump_widths(unit, first):
    d = memdump.read_memory(BytesReader({DUMP: DUMP_BYTES}), DUMP, 16 // unit, unit)
    assert d.units_read == 16 // unit and d.error is None
    text = memdump.format_dump(d)
    assert text.startswith(f"0x{DUMP:016x}: {first}") and "|Hello, world!...|" in text


def test_dump_symbolizes_kernel_qwords_and_stops_when_unreadable():
    syms = symtab(("kfunc", KFUNC, 0x200))
    d = memdump.read_memory(BytesReader({DUMP: DUMP_BYTES}), DUMP + 16, 4, 8, symbolize=syms.symbolize)
    assert d.lines[0].values == (KFUNC + 8, 0x1234)
    assert d.lines[0].symbols == ("kfunc+0x8", None)
    assert d.units_read == 2 and "not mapped" in d.error
    text = memdump.format_dump(d)
    assert "<kfunc+0x8>" in text and "<unreadable:" in text
    phys = memdump.read_memory(BytesReader({DUMP: DUMP_BYTES}), DUMP, 3, 1, physical=True)
    assert phys.physical and phys.lines[0].data == b"Hel"
    assert json.loads(memdump.to_json(phys))["lines"][0]["data"] == b"Hel".hex()
    with pytest.raises(ValueError):
        memdump.read_memory(BytesReader({}), 0, 1, 3)


# --- dis ---------------------------------------------------------------------------

CALLEE, DATA = KFUNC + 0x1000, KFUNC + 0x2000


def code() -> bytes:
    c = b"\x55\x48\x89\xe5"                                     # push rbp; mov rbp, rsp
    c += b"\xe8" + struct.pack("<i", CALLEE - (KFUNC + len(c) + 5))   # call callee
    c += b"\x48\x8d\x05" + struct.pack("<i", DATA - (KFUNC + len(c) + 7))  # lea rax, [rip+DATA]
    c += b"\x5d\xc3"                                             # pop rbp; ret
    c += b"\x06"                                                 # invalid in 64-bit mode
    c += b"\x90"
    return c


def test_disassembly_symbolized_with_rip_marker():
    syms = symtab(("kfunc", KFUNC, 0x20), ("callee", CALLEE, 0x10), ("DATA", DATA, 8))
    d = dis.disassemble(BytesReader({KFUNC: code() + bytes(0x40)}), KFUNC, 8,
                        symbolize=syms.symbolize, rip=KFUNC + 4)
    ins = d.instructions
    assert [i.mnemonic for i in ins] == ["push", "mov", "call", "lea", "pop", "ret", "(bad)", "nop"]
    assert ins[0].label == "kfunc" and ins[1].label is None and ins[1].op_str == "rbp, rsp"
    assert ins[2].current and ins[2].is_branch and (ins[2].target, ins[2].target_symbol) == (CALLEE, "callee")
    assert (ins[3].target, ins[3].target_symbol) == (DATA, "DATA") and not ins[3].is_branch
    text = dis.format_disassembly(d)
    assert text.splitlines()[0] == "<kfunc>:"
    assert "=> 0xffffffff80001004" in text and "<callee>" in text and "(bad)" in text
    assert json.loads(dis.to_json(d))["instructions"][2]["target"] == CALLEE


def test_disassembly_stops_at_unreadable_memory():
    d = dis.disassemble(BytesReader({KFUNC: code()[:9]}), KFUNC, 10, rip=0)
    assert [i.mnemonic for i in d.instructions] == ["push", "mov", "call"]
    assert d.error and "<unreadable" in dis.format_disassembly(d)
    empty = dis.disassemble(BytesReader({}), KFUNC, 3, rip=0)
    assert empty.instructions == () and empty.error
