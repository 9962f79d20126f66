"""IDT, GDT and TSS inspectors on hand-built bytes (BytesReader)."""

import json
import struct

import pytest

from rustos_dbg.inspect.hw import gdt, idt, tss
from rustos_dbg.inspect.hw.common import vector_name
from rustos_dbg.inspect.reader import BytesReader
from rustos_dbg.machine.errors import GuestMemoryError
from rustos_dbg.structs.idt import IdtGate, gate_offset_fields

from .hw_helpers import KIB4, NX, RW, PhysMemory, gate, symtab

HANDLER = 0xFFFF_FFFF_8011_5BD0
IDT_BASE = 0x10000


def _idt_reader(gates: dict[int, bytes], count: int = 256) -> BytesReader:
    blob = bytearray(16 * count)
    for v, g in gates.items():
        blob[16 * v:16 * v + 16] = g
    return BytesReader({IDT_BASE: bytes(blob)}, {"idtr": (0, IDT_BASE, 16 * count - 1, 0)})


def test_gate_built_from_handler_address_decodes_back():
    e = idt.decode_gate(14, gate(HANDLER, ist=2), symbolize=lambda a: "trap_stub_14")
    assert (e.handler, e.selector, e.ist, e.dpl, e.present) == (HANDLER, 8, 2, 0, True)
    assert (e.type_name, e.valid, e.handler_symbol) == ("interrupt", True, "trap_stub_14")
    assert e.vector_name == "#PF page fault"


def test_gate_agrees_with_the_structs_layout():
    raw = IdtGate.build(dict(reserved=0, p=True, dpl=3, zero_44=0, type="TRAP_GATE", zero_39_35=0,
                             ist=5, selector=0x10, **gate_offset_fields(HANDLER)))
    e = idt.decode_gate(3, raw)
    assert (e.handler, e.dpl, e.ist, e.selector, e.type_name) == (HANDLER, 3, 5, 0x10, "trap")
    assert e.handler_symbol is None


def test_invalid_and_absent_gates():
    e = idt.decode_gate(40, gate(0x1234, gate_type=0xC))
    assert not e.valid and e.type_name.startswith("invalid")
    empty = idt.decode_gate(200, bytes(16))
    assert not empty.present and "empty" in idt.format_entry(empty)
    with pytest.raises(ValueError):
        idt.decode_gate(0, bytes(8))


def test_read_idt_all_entries_and_one_vector():
    r = _idt_reader({v: gate(0xFFFF_FFFF_8000_0000 + 16 * v, ist=1 if v == 8 else 0)
                     for v in range(48)})
    table = idt.read_idt(r, symbolize=lambda a: f"stub{(a & 0xFFFF) // 16}")
    assert len(table.entries) == 256 and table.capacity == 256
    assert table.entry(8).ist == 1 and table.entry(8).handler_symbol == "stub8"
    assert table.entry(47).handler == 0xFFFF_FFFF_8000_0000 + 16 * 47
    assert not table.entry(48).present
    one = idt.read_idt(r, vector=33)
    assert [e.vector for e in one.entries] == [33] and one.entries[0].vector_name.startswith("IRQ1 ")
    text = idt.format_idt(table, only_present=True)
    assert text.count("\n") == 48 and "stub8" in text
    assert json.loads(idt.to_json(one))["entries"][0]["handler"] == 0xFFFF_FFFF_8000_0000 + 16 * 33


def test_read_idt_respects_the_limit_and_reports_unreadable_tables():
    r = _idt_reader({0: gate(0x1000)}, count=4)
    assert len(idt.read_idt(r).entries) == 4
    assert idt.read_idt(r, vector=10).entries == ()
    bad = BytesReader({}, {"idtr": (0, 0x5000, 0xFFF, 0)})
    with pytest.raises(GuestMemoryError):
        idt.read_idt(bad)


def test_vector_names():
    assert [vector_name(v) for v in (0, 8, 14, 15)] == [
        "#DE divide error", "#DF double fault", "#PF page fault", "reserved"]
    assert vector_name(32) == "IRQ0 timer (PIT)" and vector_name(36) == "IRQ4 COM1"
    assert vector_name(47).startswith("IRQ15") and vector_name(48) == "user-defined"
    assert all(vector_name(v) for v in range(256))


# --- GDT ------------------------------------------------------------------------

TSS_BASE = 0xFFFF_FFFF_8012_7AA0
GDT_BASE = 0x20000


def _tss_descriptor(base: int, limit: int = 0x67, busy: bool = True) -> tuple[int, int]:
    low = (limit & 0xFFFF) | (base & 0xFFFFFF) << 16 | (0xB if busy else 0x9) << 40 | 1 << 47 \
        | ((base >> 24) & 0xFF) << 56
    return low, base >> 32


def _gdt_reader() -> BytesReader:
    low, high = _tss_descriptor(TSS_BASE)
    slots = [0, 0x00AF_9B00_0000_FFFF, 0x00CF_9300_0000_FFFF, 0x00CF_F300_0000_FFFF,
             0x00AF_FB00_0000_FFFF, low, high]
    return BytesReader({GDT_BASE: struct.pack("<7Q", *slots)},
                       {"gdtr": (0, GDT_BASE, 0x37, 0), "tr": (0x28, TSS_BASE, 0x67, 0x8B00)})


def test_gdt_descriptors_as_the_kernel_docs_list_them():
    g = gdt.read_gdt(_gdt_reader())
    kinds = [(d.index, d.kind, d.dpl) for d in g.descriptors]
    assert kinds == [(0, "null", 0), (1, "code", 0), (2, "data", 0), (3, "data", 3),
                     (4, "code", 3), (5, "tss", 0)]
    code = g.by_selector(0x08)
    assert code.l and not code.db and code.present and code.limit_bytes == 0xFFFF_FFFF
    data = g.by_selector(0x10)
    assert data.db and not data.l and "read/write" in data.type_name
    tss_desc = g.by_selector(0x28)
    assert (tss_desc.size, tss_desc.base, tss_desc.limit_bytes) == (16, TSS_BASE, 0x67)
    assert tss_desc.is_tr and tss_desc.type_name == "64-bit TSS (busy)"
    assert [d.is_tr for d in g.descriptors].count(True) == 1
    text = gdt.format_gdt(g)
    assert "<- TR" in text and "64-bit TSS (busy)" in text
    assert json.loads(gdt.to_json(g))["descriptors"][5]["base"] == TSS_BASE


def test_selector_parts():
    assert gdt.describe_selector(0x2B) == {"index": 5, "ti": 0, "rpl": 3}
    assert gdt.describe_selector(0x0F) == {"index": 1, "ti": 1, "rpl": 3}


# --- TSS --------------------------------------------------------------------------

STACK = 0x40000            # a 16 KiB GuardedStack: guard page + 0x4000 usable
STACK_SIZE = 0x5000
TSS_ADDR = 0x30000


def _tss_setup(guard_mapped: bool = False, rsp: int = 0):
    mem = PhysMemory(size=1 << 20)
    for page in range(STACK + (0 if guard_mapped else KIB4), STACK + STACK_SIZE, KIB4):
        mem.map(page, page, RW | NX)
    top = STACK + STACK_SIZE
    mem.put(top - 0x30, 0xDEAD)           # deepest write: 0x30 below the top
    mem.put(top - 8, 1)
    tss_bytes = struct.pack("<IQQQQ7QQHH", 0, top, 0, 0, 0, top, top - 0x100, 0, 0, 0, 0, 0,
                            0, 0, 104)
    mem.write(TSS_ADDR, tss_bytes)
    regs = {"tr": (0x28, TSS_ADDR, 0x67, 0x8900), "cr3": mem.root, "rsp": rsp,
            "cr0": 0x80010011, "cr4": 0xA0, "efer": 0xD00}
    return BytesReader({0: bytes(mem.data)}, regs), symtab(("RUSTOS_DF_STACK", STACK, STACK_SIZE))


def test_tss_stacks_usage_and_guard():
    reader, syms = _tss_setup(rsp=STACK + STACK_SIZE - 0x20)
    info = tss.read_tss(reader, symbols=syms)
    rsp0, ist1, ist2 = info.rsp[0], info.ist[0], info.ist[1]
    assert (rsp0.stack, rsp0.top, rsp0.at_top) == ("RUSTOS_DF_STACK", STACK + STACK_SIZE, True)
    assert ist1.usable_size == 0x4000 and ist1.stack_base == STACK
    assert ist1.used_bytes == 0x30 and ist1.live_depth == 0x20
    assert ist1.guard_unmapped is True
    assert ist2.at_top is False and ist2.stack == "RUSTOS_DF_STACK"
    assert all(s.empty for s in info.ist[2:]) and info.rsp[1].empty
    assert (info.iomap_base, info.io_bitmap) == (104, False)
    text = tss.format_tss(info)
    assert "IST1" in text and "guard 0x40000 unmapped" in text and "used 0x30" in text
    assert json.loads(tss.to_json(info))["ist"][0]["used_bytes"] == 0x30


def test_tss_reports_a_mapped_guard_and_unknown_pointers():
    reader, syms = _tss_setup(guard_mapped=True)
    info = tss.read_tss(reader, symbols=syms)
    assert info.ist[0].guard_unmapped is False and "MAPPED" in tss.format_tss(info)
    assert info.ist[0].live_depth is None
    reader, _ = _tss_setup()
    bare = tss.read_tss(reader)            # no symbols: no stack names
    assert bare.ist[0].stack is None and "not in a known stack" in tss.format_tss(bare)
