"""RustOS's own #[repr(C)] structures (rustos_dbg.structs.kernel) against the kernel's DWARF.

Each layout's size and every field's name, offset and width must equal the
DWARF of build/rustos.elf (recursively: nested structures and array
elements too); hand-made values must build to the bytes the Rust
definitions give and parse back; and the bytes of the real statics in a
booted machine must parse to what the kernel stored (BootInfo) and to the
same values the DWARF decoder reads from those bytes (the other statics).
"""

import struct

import pytest
from construct import Array, Bytes, Default, FormatField, Renamed, Struct
from hypothesis import given, settings
from hypothesis import strategies as st

from rustos_dbg import Machine, dwarf, structs
from rustos_dbg.machine.boot import memory_map
from rustos_dbg.structs.kernel import (BLOCK_SIZES, CLASS_COUNT, LAYOUT_VERSIONS, MAGIC_STRUCTURES,
                                       MAX_CMDLINE, MAX_REGIONS, MAX_TASKS, QUEUE_CAPACITY,
                                       REGION_KIND_NAMES, TASK_STATE_NAMES, BlockLists, BootInfo,
                                       FrameTable, HeapStats, KernelHeapHead, KernelMagic, MemRegion,
                                       TaskSlot, TaskState, executor_layout, header_problems,
                                       magic_text, ring_queue, Ramdisk, ExecView, WasmSlot, WasmState)
from rustos_dbg.structs.pvh import MemmapType

#: layout name -> (layout, its DWARF type). KernelHeapHead is a prefix of KernelHeap.
LAYOUTS = {
    "BootInfo": (BootInfo, "rustos::bootinfo::BootInfo"),
    "MemRegion": (MemRegion, "rustos::bootinfo::MemRegion"),
    "BlockLists": (BlockLists, "rustos_core::blocks::BlockLists"),
    "HeapStats": (HeapStats, "rustos::heap::HeapStats"),
    "KernelHeapHead": (KernelHeapHead, "rustos::heap::KernelHeap"),
    "RingQueue<64>": (ring_queue(64), "rustos_core::ring::RingQueue<64>"),
    "TaskSlot": (TaskSlot, "rustos::task::executor::TaskSlot"),
    "Executor": (executor_layout(), "rustos::task::executor::Executor"),
    "FrameTable": (FrameTable, "rustos::memory::frames::FrameTable"),
    "Ramdisk": (Ramdisk, "rustos::ramdisk::Ramdisk"),
    "ExecView": (ExecView, "rustos_core::wasm::exec::ExecView"),
    "WasmSlot": (WasmSlot, "rustos::wasm::WasmSlot"),
    "WasmState": (WasmState, "rustos::wasm::WasmState"),
}
#: The statics and the layout of their kernel-owned part (through IrqMutex::data for the locked ones).
STATICS = {
    "RUSTOS_BOOT_INFO": BootInfo,
    "RUSTOS_HEAP": KernelHeapHead,
    "RUSTOS_EXECUTOR": executor_layout(),
    "RUSTOS_FRAMES": FrameTable,
    "RUSTOS_RAMDISK": Ramdisk,
    "RUSTOS_WASM": WasmState,
}
RUST_INTS = {"<L": "u32", "<Q": "u64"}  # construct format strings -> Rust types


def int_type(name: str, rust: str) -> bool:
    """Whether DWARF type ``name`` is the integer ``rust`` or its atomic (same size and layout)."""
    return name in (rust, f"core::sync::atomic::Atomic<{rust}>", f"core::sync::atomic::Atomic{rust.upper()}")
CMDLINE = "rustos-dbg layouts console=ttyS0"


@pytest.fixture(scope="module")
def info(kernel_elf):
    return dwarf.load(kernel_elf)


def fields(layout):
    """(name, offset, construct) of each field of a Struct, wrappers (names, defaults) removed."""
    offset = 0
    for sc in layout.subcons:
        name = sc.name
        inner = sc
        while isinstance(inner, (Renamed, Default)):
            inner = inner.subcon
        yield name, offset, inner
        offset += sc.sizeof()


def compare(layout, typ, path):
    """Every field of ``layout`` has the name, offset, width and shape of ``typ``'s member."""
    assert layout.sizeof() == typ.size, f"{path}: size"
    members = typ.members
    mine = list(fields(layout))
    assert [m.name for m in members] == [n for n, _, _ in mine], f"{path}: field names"
    for (name, offset, sc), member in zip(mine, members):
        compare_field(sc, member.type, offset, member.offset, f"{path}.{name}")


def compare_field(sc, typ, offset, dwarf_offset, path):
    assert offset == dwarf_offset, f"{path}: offset {offset}, DWARF {dwarf_offset}"
    assert sc.sizeof() == typ.size, f"{path}: size {sc.sizeof()}, DWARF {typ.size}"
    if isinstance(sc, Struct):
        compare(sc, typ, path)
    elif isinstance(sc, Array):
        assert typ.kind == "array" and typ.count == sc.count, f"{path}: {typ.name}"
        element = sc.subcon
        if isinstance(element, Struct):
            compare(element, typ.element, f"{path}[]")
        else:
            assert int_type(typ.element.name, RUST_INTS[element.fmtstr]), f"{path}: {typ.name}"
    elif isinstance(sc, Bytes):
        assert typ.kind == "array" and typ.count == sc.length and int_type(typ.element.name, "u8"), path
    else:
        assert isinstance(sc, FormatField) and int_type(typ.name, RUST_INTS[sc.fmtstr]), f"{path}: {typ.name}"


# --- layouts against the DWARF -------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(set(LAYOUTS) - {"KernelHeapHead"}))
def test_size_and_offsets_equal_the_dwarf(info, name):
    layout, type_name = LAYOUTS[name]
    compare(layout, info.type(type_name), name)


def test_kernel_heap_head_is_the_repr_c_prefix(info):
    """KernelHeapHead is every KernelHeap field before `fallback`, which stays the crate's (DWARF)."""
    heap = info.type("rustos::heap::KernelHeap")
    head = list(fields(KernelHeapHead))
    members = heap.members
    assert [m.name for m in members] == [n for n, _, _ in head] + ["fallback"]
    for (name, offset, sc), member in zip(head, members):
        compare_field(sc, member.type, offset, member.offset, f"KernelHeap.{name}")
    fallback = heap.member("fallback")
    assert KernelHeapHead.sizeof() == fallback.offset == 320
    assert fallback.type.name == "linked_list_allocator::Heap"
    assert heap.size == KernelHeapHead.sizeof() + fallback.type.size


@pytest.mark.parametrize("static", sorted(STATICS))
def test_statics_hold_these_types(info, static):
    """The static (or its IrqMutex's data) has the type of the layout, at the DWARF's data offset."""
    var = info.variable(static)
    typ = var.type
    if typ.name.startswith("rustos::sync::IrqMutex<"):
        data = typ.member("data")
        assert data.offset == 8  # docs/kernel-structures.md §3; the inspectors take it from DWARF
        typ = data.type.member("value").type
    layout = STATICS[static]
    assert typ.size >= layout.sizeof()
    if layout is not KernelHeapHead:
        compare(layout, typ, static)


def test_generic_parameters_match_the_kernel(info):
    executor = info.type("rustos::task::executor::Executor")
    assert executor.member("tasks").type.count == MAX_TASKS == 32
    assert executor.member("ready").type.name == f"rustos_core::ring::RingQueue<{QUEUE_CAPACITY}>"
    assert info.type("rustos_core::blocks::BlockLists").member("sizes").type.count == CLASS_COUNT == 9
    boot = info.type("rustos::bootinfo::BootInfo")
    assert (boot.member("cmdline").type.count, boot.member("regions").type.count) == (MAX_CMDLINE, MAX_REGIONS)


def test_parametrised_layouts():
    assert ring_queue(64) is ring_queue() is ring_queue(capacity=64)
    assert executor_layout() is executor_layout(32, 64) is executor_layout(max_tasks=32, queue=QUEUE_CAPACITY)
    assert executor_layout(4, 8).subcons[-1].subcon is ring_queue(8)
    for n in (0, 1, 7, 64, 100):
        assert ring_queue(n).sizeof() == 24 + 8 * n
    for tasks, queue in ((0, 0), (1, 2), (32, 64), (5, 3)):
        assert executor_layout(tasks, queue).sizeof() == 40 + 64 * tasks + 24 + 8 * queue
    with pytest.raises(ValueError):
        ring_queue(-1)
    with pytest.raises(ValueError):
        executor_layout(-1, 4)


def test_exported_from_the_package():
    for name in ("BootInfo", "MemRegion", "BlockLists", "HeapStats", "KernelHeapHead", "TaskSlot",
                 "FrameTable", "ring_queue", "executor_layout", "KernelMagic", "TaskState", "header_problems"):
        assert name in structs.__all__ and getattr(structs, name) is not None


# --- magics, codes ------------------------------------------------------------------------------


def test_magics_are_their_ascii_names():
    for magic in KernelMagic:
        assert struct.pack("<I", magic) == magic.name.encode() and magic_text(magic) == magic.name
    assert (KernelMagic.BOOT, KernelMagic.HEAP, KernelMagic.BLKS) == (0x544F_4F42, 0x5041_4548, 0x534B_4C42)
    assert (KernelMagic.EXEC, KernelMagic.RING, KernelMagic.FRMS) == (0x4345_5845, 0x474E_4952, 0x534D_5246)
    assert set(MAGIC_STRUCTURES) == set(LAYOUT_VERSIONS) == set(KernelMagic)
    assert set(LAYOUT_VERSIONS.values()) == {1}
    assert magic_text(0x0001_4142) == "BA??"


def test_header_problems():
    good = FrameTable.parse(FrameTable.build(dict(frame_size=4096, frame_count=0, usable_count=0, free_count=0,
                                                  next_hint=0, bitmap=0, bitmap_words=0)))
    assert header_problems(good, KernelMagic.FRMS) == header_problems(good, "FRMS") == []
    assert header_problems(good, "HEAP") == ["magic 0x534d5246 ('FRMS'), expected 'HEAP'"]
    corrupt = FrameTable.parse(b"\xde\xad\xbe\xef\x07\x00\x00\x00" + bytes(56))  # still parses
    assert header_problems(corrupt, KernelMagic.FRMS) == [
        "magic 0xefbeadde ('????'), expected 'FRMS'", "layout version 7, expected 1"]
    assert header_problems(corrupt, KernelMagic.FRMS, version=7) == ["magic 0xefbeadde ('????'), expected 'FRMS'"]


def test_code_enums_and_names():
    assert [int(s) for s in TaskState] == [0, 1, 2, 3]
    assert [TASK_STATE_NAMES[s] for s in TaskState] == ["free", "ready", "running", "waiting"]
    assert {int(k): v for k, v in REGION_KIND_NAMES.items()} == {
        1: "usable", 2: "reserved", 3: "ACPI", 4: "ACPI NVS", 5: "unusable"}
    assert all(isinstance(k, MemmapType) for k in REGION_KIND_NAMES)


# --- known bytes: build, parse, build -----------------------------------------------------------


def round_trip(layout, raw):
    assert len(raw) == layout.sizeof()
    parsed = layout.parse(raw)
    assert layout.build(parsed) == raw
    return parsed


def test_block_lists_known_values():
    heads = [0x4444_4444_0000 + 8 * i if i % 2 else 0 for i in range(CLASS_COUNT)]
    counts = [i * 3 for i in range(CLASS_COUNT)]
    raw = BlockLists.build(dict(class_count=CLASS_COUNT, sizes=list(BLOCK_SIZES), heads=heads, counts=counts))
    expected = (struct.pack("<4I", 0x534B_4C42, 1, 9, 0) + struct.pack("<9Q", *BLOCK_SIZES)
                + struct.pack("<9Q", *heads) + struct.pack("<9Q", *counts))
    assert raw == expected  # magic, version and _pad default to the kernel's initialisers
    bl = round_trip(BlockLists, raw)
    assert (bl.magic, bl.version, bl.class_count, bl._pad) == (KernelMagic.BLKS, 1, 9, 0)
    assert list(bl.sizes) == list(BLOCK_SIZES) and list(bl.heads) == heads and list(bl.counts) == counts


def test_boot_info_known_values():
    cmdline = b"console=ttyS0 quiet"
    regions = [(0, 0x9FC00, 1), (0x9FC00, 0x400, 2), (0x10_0000, 0x7F0_0000, 1)]
    raw = (struct.pack("<IIQQQQQII", 0x544F_4F42, 1, 0x5000, 0xFFFF_8000_0000_0000, 0xFFFF_FFFF_8000_0000,
                       0x10_0000, 0x22_3000, len(cmdline), len(regions))
           + cmdline.ljust(MAX_CMDLINE, b"\0")
           + b"".join(struct.pack("<QQII", s, n, k, 0) for s, n, k in regions).ljust(24 * MAX_REGIONS, b"\0"))
    bi = round_trip(BootInfo, raw)
    assert (bi.magic, bi.version, bi.start_info_phys) == (KernelMagic.BOOT, 1, 0x5000)
    assert (bi.phys_offset, bi.kernel_base) == (0xFFFF_8000_0000_0000, 0xFFFF_FFFF_8000_0000)
    assert (bi.kernel_phys_start, bi.kernel_phys_end) == (0x10_0000, 0x22_3000)
    assert bi.cmdline[:bi.cmdline_len] == cmdline
    assert [(r.start, r.size, r.kind) for r in bi.regions[:bi.region_count]] == regions
    assert raw[312 + 24 * 2: 312 + 24 * 3] == MemRegion.build(dict(start=0x10_0000, size=0x7F0_0000, kind=1))


def test_ring_queue_and_executor_known_values():
    # A wrapped queue: ids 7, 8, 9 starting at slot 3 of 4.
    raw = struct.pack("<6I", 0x474E_4952, 1, 4, 3, 3, 0) + struct.pack("<4Q", 8, 9, 0, 7)
    ring = round_trip(ring_queue(4), raw)
    assert [ring.slots[(ring.head + i) % ring.capacity] for i in range(ring.len)] == [7, 8, 9]
    slot = dict(id=5, state=TaskState.WAITING, woken_while_running=1, wakes=2, polls=3,
                name_ptr=0xFFFF_FFFF_8010_0000, name_len=5, future_data=0x4444_4444_1000,
                future_vtable=0xFFFF_FFFF_8011_0000)
    slot_raw = struct.pack("<QIIQQQQQQ", 5, 3, 1, 2, 3, 0xFFFF_FFFF_8010_0000, 5, 0x4444_4444_1000,
                           0xFFFF_FFFF_8011_0000)
    assert TaskSlot.build(slot) == slot_raw
    free = dict.fromkeys(slot, 0)
    layout = executor_layout(2, 4)
    raw = (struct.pack("<IIIIQQQ", 0x4345_5845, 1, 2, 1, 6, 5, 100) + slot_raw + bytes(64)
           + struct.pack("<6I", 0x474E_4952, 1, 4, 1, 1, 0) + struct.pack("<4Q", 0, 5, 0, 0))
    assert layout.build(dict(capacity=2, live=1, next_id=6, current=5, total_polls=100, tasks=[slot, free],
                             ready=dict(capacity=4, head=1, len=1, slots=[0, 5, 0, 0]))) == raw
    ex = round_trip(layout, raw)
    assert (ex.capacity, ex.live, ex.next_id, ex.current, ex.total_polls) == (2, 1, 6, 5, 100)
    assert ex.tasks[0].name_ptr == 0xFFFF_FFFF_8010_0000 and ex.tasks[0].state == TaskState.WAITING
    assert all(v == 0 for k, v in ex.tasks[1].items() if not k.startswith("_"))
    assert (ex.ready.magic, ex.ready.head, ex.ready.len, ex.ready.slots[1]) == (KernelMagic.RING, 1, 1, 5)


def test_frame_table_and_heap_head_known_values():
    ft_raw = struct.pack("<II7Q", 0x534D_5246, 1, 4096, 32768, 32608, 30000, 17, 0xFFFF_FFFF_8020_0000, 512)
    ft = round_trip(FrameTable, ft_raw)
    assert (ft.frame_size, ft.frame_count, ft.usable_count, ft.free_count) == (4096, 32768, 32608, 30000)
    assert (ft.next_hint, ft.bitmap, ft.bitmap_words) == (17, 0xFFFF_FFFF_8020_0000, 512)
    stats = dict(allocs=10, frees=4, bytes_in_use=300, peak_bytes=512, large_allocs=1, grows=0, failures=2)
    lists = dict(class_count=9, sizes=list(BLOCK_SIZES), heads=[0x4444_4444_0100] + [0] * 8, counts=[1] + [0] * 8)
    raw = KernelHeapHead.build(dict(start=0x4444_4444_0000, size=256 << 10, max=32 << 20, stats=stats, lists=lists))
    assert raw[:32] == struct.pack("<IIQQQ", 0x5041_4548, 1, 0x4444_4444_0000, 256 << 10, 32 << 20)
    assert raw[32:88] == struct.pack("<7Q", 10, 4, 300, 512, 1, 0, 2) == HeapStats.build(stats)
    assert raw[88:] == BlockLists.build(lists)
    head = round_trip(KernelHeapHead, raw)
    assert dict((k, head.stats[k]) for k in stats) == stats and head.lists.heads[0] == 0x4444_4444_0100


@pytest.mark.parametrize("name", sorted(LAYOUTS))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_build_parse_round_trip_on_any_bytes(name, data):
    """Corrupted memory (any bytes: bad magics, unknown states and kinds) parses and builds back."""
    layout = LAYOUTS[name][0]
    raw = data.draw(st.binary(min_size=layout.sizeof(), max_size=layout.sizeof()))
    assert layout.build(layout.parse(raw)) == raw


# --- the bytes of a booted kernel -------------------------------------------------------------------


@pytest.fixture(scope="module")
def booted(kernel_elf):
    machine = Machine.boot(kernel_elf, cmdline=CMDLINE)
    assert machine.run_until_serial("rustos> ") is None
    return machine


def static_bytes(machine, info, name):
    """(bytes of the static's kernel-owned value, its address, its DWARF type): the
    IrqMutex data offset comes from DWARF."""
    var = info.variable(name)
    typ, address = var.type, var.address
    if typ.has_member("data"):
        data = typ.member("data")
        typ, address = data.type.member("value").type, address + data.offset
    return machine.read_virtual(address, typ.size), address, typ


@pytest.mark.emulator
def test_boot_info_of_a_booted_kernel(booted, info):
    var = info.variable("RUSTOS_BOOT_INFO")
    raw = booted.read_virtual(var.address, BootInfo.sizeof())
    bi = round_trip(BootInfo, raw)
    assert bi.magic == KernelMagic.BOOT and struct.pack("<I", bi.magic) == b"BOOT" and bi.version == 1
    assert header_problems(bi, KernelMagic.BOOT) == []
    assert bi.cmdline[:bi.cmdline_len].decode() == CMDLINE
    assert bi.cmdline[bi.cmdline_len:] == bytes(MAX_CMDLINE - bi.cmdline_len)
    ram = 128 << 20  # Machine.boot's default
    assert [(r.start, r.size, r.kind) for r in bi.regions[:bi.region_count]] == [
        (start, size, int(kind)) for start, size, kind in memory_map(ram)]
    assert all(r.start == r.size == r.kind == r._pad == 0 for r in bi.regions[bi.region_count:])
    assert (bi.phys_offset, bi.kernel_base) == (0xFFFF_8000_0000_0000, 0xFFFF_FFFF_8000_0000)
    assert bi.start_info_phys == 0x5000 and bi.kernel_phys_start == 0x10_0000 < bi.kernel_phys_end


def same(parsed, value, path):
    """The construct-parsed ``parsed`` equals the DWARF decoding ``value`` of the same bytes."""
    typ = value.type
    if typ.name.startswith("core::sync::atomic::Atomic"):  # an integer in a struct of the same layout
        assert parsed == int.from_bytes(value.raw(), "little"), path
    elif typ.kind == "struct":
        for member in typ.members:
            if member.name in parsed:
                same(parsed[member.name], value[member.name], f"{path}.{member.name}")
    elif typ.kind == "array" and int_type(typ.element.name, "u8"):
        assert parsed == value.raw(), path
    elif typ.kind == "array":
        assert len(parsed) == len(value), path
        for i, element in enumerate(value):
            same(parsed[i], element, f"{path}[{i}]")
    else:
        assert parsed == value.int(), f"{path}: {parsed} != {value.int()}"


@pytest.mark.emulator
@pytest.mark.parametrize("name", sorted(STATICS))
def test_live_statics_parse_like_the_dwarf_reads_them(booted, info, name):
    raw, address, typ = static_bytes(booted, info, name)
    layout = STATICS[name]
    parsed = round_trip(layout, raw[:layout.sizeof()])
    assert header_problems(parsed, {"RUSTOS_BOOT_INFO": "BOOT", "RUSTOS_HEAP": "HEAP",
                                    "RUSTOS_EXECUTOR": "EXEC", "RUSTOS_FRAMES": "FRMS",
                                    "RUSTOS_RAMDISK": "RDSK", "RUSTOS_WASM": "WASM"}[name]) == []
    value = dwarf.Value(typ, address, None, raw)  # the DWARF decoder over the same bytes
    same(parsed, value, name)
    if name == "RUSTOS_HEAP":
        assert parsed.lists.magic == KernelMagic.BLKS and list(parsed.lists.sizes) == list(BLOCK_SIZES)
        assert parsed.size > 0 and parsed.stats.allocs > 0
    if name == "RUSTOS_EXECUTOR":
        assert parsed.ready.magic == KernelMagic.RING and parsed.live == 3
        assert sum(s.state != TaskState.FREE for s in parsed.tasks) == 3
    if name == "RUSTOS_FRAMES":
        assert parsed.frame_count == 128 << 8 and parsed.bitmap == info.variable(
            "rustos::memory::frames::BITMAP").address


# --- the kernel inspectors parse through these layouts ----------------------------------------------


def frames_blob(info, **fields):
    """{address: bytes} of RUSTOS_FRAMES: the IrqMutex's data offset from DWARF, the FrameTable built here."""
    var = info.variable("RUSTOS_FRAMES")
    data = var.type.member("data").offset
    table = FrameTable.build(dict(dict(frame_size=4096, frame_count=0, usable_count=0, free_count=0, next_hint=0,
                                       bitmap=0, bitmap_words=0), **fields))
    return {var.address: bytes(data) + table + bytes(var.type.size - data - len(table))}


def test_inspectors_report_a_corrupt_magic_of_a_parsed_layout(info):
    from rustos_dbg.inspect.kernel import read_frames
    from rustos_dbg.inspect.reader import BytesReader

    assert read_frames(BytesReader(frames_blob(info)), info).ok
    bad = read_frames(BytesReader(frames_blob(info, magic=0x5041_4548, version=2)), info)
    assert [p.reason for p in bad.problems] == ["magic 0x50414548 ('HEAP'), expected 'FRMS'",
                                                "layout version 2, expected 1"]


def test_inspectors_refuse_a_layout_the_dwarf_contradicts(info):
    from construct import Int32ul, Int64ul

    from rustos_dbg.inspect.kernel.common import kernel_part

    value = dwarf.Value(info.type("rustos::bootinfo::MemRegion"), 0, None, bytes(24))
    assert kernel_part(value, MemRegion).size == 0
    swapped = Struct("size" / Int64ul, "start" / Int64ul, "kind" / Int32ul, "_pad" / Int32ul)
    with pytest.raises(dwarf.DwarfError, match="'size' is at 0"):
        kernel_part(value, swapped)
    with pytest.raises(dwarf.DwarfError, match=r"'kind' is at 16 \(8 bytes\)"):
        kernel_part(value, Struct("start" / Int64ul, "size" / Int64ul, "kind" / Int64ul))
    with pytest.raises(dwarf.DwarfError, match="no field 'extra'"):
        kernel_part(value, Struct(*MemRegion.subcons, "extra" / Int32ul))
    prefix = Struct("start" / Int64ul, "size" / Int64ul, "kind" / Int32ul)  # leading fields only: fine
    assert kernel_part(value, prefix).kind == 0
    heap_type = info.type("rustos::heap::KernelHeap")
    heap = dwarf.Value(heap_type, 0, None, bytes(heap_type.size))
    assert kernel_part(heap, KernelHeapHead).lists.class_count == 0  # a prefix: up to `fallback`
