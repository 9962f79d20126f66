"""``walk`` and ``maps`` on hand-built page tables (BytesReader over a bytearray)."""

import json

import pytest

from rustos_dbg.inspect.hw import maps, pagewalk
from rustos_dbg.inspect.hw.common import HEAP_START, PHYS_OFFSET
from rustos_dbg.inspect.reader import BytesReader

from .hw_helpers import KIB4, MIB2, NX, RW, US, G, PhysMemory, symtab

TEXT, RODATA, DATA, BSS, END = (0xFFFF_FFFF_8010_7000, 0xFFFF_FFFF_8012_0000,
                                0xFFFF_FFFF_8012_7000, 0xFFFF_FFFF_8012_9000,
                                0xFFFF_FFFF_8018_1000)
KERNEL_BASE = 0xFFFF_FFFF_8000_0000
SECTIONS = [(".text", TEXT, RODATA), (".rodata", RODATA, DATA), (".data", DATA, BSS),
            (".bss", BSS, END)]
DF_STACK, MAIN_STACK = 0xFFFF_FFFF_8012_A000, 0xFFFF_FFFF_8013_E000
STACKS = symtab(("RUSTOS_DF_STACK", DF_STACK, 0x5000), ("RUSTOS_MAIN_STACK", MAIN_STACK, 0x11000))
REGS = {"cr0": 0x8001_0011, "cr4": 0xA0, "efer": 0xD00}


def kernel_like(guards_mapped: bool = False, window_mib: int = 128) -> PhysMemory:
    """Page tables laid out as docs/boot.md §5 describes the kernel's."""
    mem = PhysMemory(size=4 << 20)
    for off in range(0, window_mib << 20, MIB2):
        mem.map(PHYS_OFFSET + off, off, RW | NX | G, MIB2)
    guards = {DF_STACK, MAIN_STACK}
    for v in range(TEXT, END, KIB4):
        if v in guards and not guards_mapped:
            continue
        flags = G if v < RODATA else NX | G if v < DATA else RW | NX | G
        mem.map(v, v - KERNEL_BASE, flags)
    for i in range(16):                       # heap frames, allocated downwards
        mem.map(HEAP_START + i * KIB4, 0x300000 - i * KIB4, RW | NX)
    return mem


def reader_for(mem: PhysMemory, **regs) -> BytesReader:
    return BytesReader({0: bytes(mem.data)}, {**REGS, "cr3": mem.root, **regs})


@pytest.fixture(scope="module")
def mem():
    return kernel_like()


@pytest.mark.parametrize("vaddr, paddr, size, perms", [
    (TEXT + 0x9112, 0x110112, KIB4, "R-X"),
    (PHYS_OFFSET + 0x200000 + 0x1234, 0x201234, MIB2, "RW-"),
    (HEAP_START + 0x10, 0x300010, KIB4, "RW-"),
    (RODATA + 8, RODATA + 8 - KERNEL_BASE, KIB4, "R--"),
])
def test_walk_levels_and_translation(mem, vaddr, paddr, size, perms):
    w = pagewalk.walk_address(reader_for(mem), vaddr)
    assert [lv.entry_addr for lv in w.levels] == mem.entry_addrs(vaddr)
    assert [lv.raw for lv in w.levels] == [mem.q(a) for a in mem.entry_addrs(vaddr)]
    assert (w.ok, w.paddr, w.page_size, w.permissions, w.user_page) == (True, paddr, size, perms, False)
    assert w.levels[-1].leaf and "P" in w.levels[-1].flags
    text = pagewalk.format_walk(w)
    assert f"-> phys {paddr:#x}" in text and w.levels[0].name == "PML4E"


def test_walk_access_checks(mem):
    r = reader_for(mem)
    text = {c.access: c for c in pagewalk.walk_address(r, TEXT).accesses}
    assert text["read"].allowed and text["execute"].allowed
    assert (text["write"].mnemonic, text["write"].error_code) == ("#PF", 0x3)
    heap = {c.access: c for c in pagewalk.walk_address(r, HEAP_START).accesses}
    assert heap["write"].allowed and heap["execute"].error_code == 0x11
    user = {c.access: c for c in pagewalk.walk_address(r, HEAP_START, user=True).accesses}
    assert user["read"].error_code == 0x5 and user["write"].error_code == 0x7


def test_walk_stops_at_a_missing_entry_with_the_pf_codes(mem):
    w = pagewalk.walk_address(reader_for(mem), 0xDEADBEEF000)
    assert not w.ok and w.stop_level == "PML4E" and len(w.levels) == 1
    assert w.stop_reason == "entry not present"
    codes = {c.access: c.error_code for c in w.accesses}
    assert codes == {"read": 0x0, "write": 0x2, "execute": 0x10}
    assert "not present" in pagewalk.format_walk(w)
    guard = pagewalk.walk_address(reader_for(mem), DF_STACK)
    assert guard.stop_level == "PTE" and len(guard.levels) == 4
    assert json.loads(pagewalk.to_json(guard))["stop_level"] == "PTE"


def test_walk_non_canonical_is_gp(mem):
    w = pagewalk.walk_address(reader_for(mem), 0x8000_0000_0000_0000)
    assert not w.levels and all(c.mnemonic == "#GP" and c.error_code == 0 for c in w.accesses)


def test_maps_rows_are_classified(mem):
    mm = maps.read_maps(reader_for(mem), SECTIONS, symbols=STACKS)
    by_name = {r.name: r for r in mm.rows}
    text = by_name[".text"]
    assert (text.start, text.end, text.perms, text.attrs, text.kind) == (TEXT, RODATA, "R-X", "-G", "kernel")
    assert by_name[".rodata"].perms == "R--" and by_name[".data"].perms == "RW-"
    window = by_name["physical window"]
    assert (window.start, window.size, window.page_size, window.perms) == (PHYS_OFFSET, 128 << 20, MIB2, "RW-")
    heap = by_name["kernel heap"]
    assert (heap.kind, heap.size, heap.g, heap.phys_contiguous) == ("heap", 16 * KIB4, False, False)
    guard = by_name["RUSTOS_DF_STACK guard"]
    assert (guard.kind, guard.mapped, guard.start, guard.size) == ("guard", False, DF_STACK, KIB4)
    stack = by_name["RUSTOS_DF_STACK"]
    assert (stack.start, stack.end, stack.perms) == (DF_STACK + KIB4, DF_STACK + 0x5000, "RW-")
    bss = [r for r in mm.rows if r.name == ".bss"]
    assert len(bss) == 3 and all(r.perms == "RW-" for r in bss)    # split by the two stacks
    covered = sum(r.size for r in mm.rows if TEXT <= r.start < END)
    assert covered == END - TEXT                     # guard rows fill the holes
    assert mm.at(TEXT + 5).name == ".text" and mm.at(0x1000) is None
    out = maps.format_maps(mm)
    assert "unmapped" in out and "guard: RUSTOS_MAIN_STACK guard" in out
    assert json.loads(maps.to_json(mm))["rows"][0]["kind"] == "heap"


def test_maps_mapped_guard_and_unknown_ranges():
    mem = kernel_like(guards_mapped=True, window_mib=4)
    mem.map(0x400000, 0x5000, RW | US)
    mm = maps.read_maps(reader_for(mem), SECTIONS, symbols=STACKS)
    guard = next(r for r in mm.rows if r.name == "RUSTOS_DF_STACK guard")
    assert guard.mapped and guard.perms == "RW-"
    other = mm.at(0x400000)
    assert (other.kind, other.u, other.perms, other.attrs) == ("other", True, "RWX", "U-")


def test_maps_coalesces_the_kernel_layout():
    mem = kernel_like(window_mib=128)
    reader = reader_for(mem)
    mm = maps.read_maps(reader, SECTIONS, symbols=STACKS)
    assert len(mm.rows) < 20
