"""The DWARF reader against build/rustos.elf: names, layouts, Rust enums, typed values.

Offsets are the documented ones (docs/kernel-structures.md §3, §4, §9, §11,
§12); values are decoded from hand-built bytes through ``BytesReader``.
"""

import struct

import pytest

from rustos_dbg import dwarf
from rustos_dbg.dwarf import DwarfError, Value, normalize, split_path
from rustos_dbg.inspect.reader import BytesReader
from rustos_dbg.machine.errors import GuestMemoryError


@pytest.fixture(scope="module")
def info(kernel_elf):
    return dwarf.load(kernel_elf)


def offsets(typ):
    return {m.name: m.offset for m in typ.members}


# --- loading and names --------------------------------------------------------------


def test_load_is_kept_on_the_image(kernel_elf, info):
    from rustos_dbg.machine.image import load_image

    assert dwarf.load(str(kernel_elf)) is info      # the same file, unchanged: the same image
    assert dwarf.load(load_image(kernel_elf)) is info
    assert info.path == load_image(kernel_elf).path


def test_missing_file():
    from rustos_dbg.machine.errors import KernelImageError

    with pytest.raises(KernelImageError, match="^kernel ELF '/nonexistent/rustos.elf' not found$"):
        dwarf.load("/nonexistent/rustos.elf")


def test_split_path_and_normalize():
    assert split_path("rustos::sync::IrqMutex<rustos::heap::KernelHeap>") == \
        ["rustos", "sync", "IrqMutex<rustos::heap::KernelHeap>"]
    assert split_path("<a::B as core::future::future::Future>::{vtable}") == \
        ["<a::B as core::future::future::Future>", "{vtable}"]
    assert split_path("a::Box<dyn Fn() -> b::C>::x") == ["a", "Box<dyn Fn() -> b::C>", "x"]  # '->' closes nothing
    assert normalize(" A<B,C>  ") == normalize("A<B, C>") == "A<B, C>"


def test_statics_by_plain_and_qualified_name(info):
    heap = info.variable("RUSTOS_HEAP")
    assert heap.name == "rustos::heap::RUSTOS_HEAP"
    assert info.variable("rustos::heap::RUSTOS_HEAP") == heap
    assert heap.address == info.symbols.lookup("RUSTOS_HEAP").address
    assert heap.type.name == "rustos::sync::IrqMutex<rustos::heap::KernelHeap>"
    sizes = {"RUSTOS_BOOT_INFO": 1080, "RUSTOS_HEAP": 376, "RUSTOS_EXECUTOR": 2632, "RUSTOS_FRAMES": 72,
             "RUSTOS_TICKS": 8, "RUSTOS_GDT": 72, "RUSTOS_TSS": 104, "RUSTOS_IDT": 4096}
    for name, size in sizes.items():
        var = info.variable(name)
        assert var.type.size == size, name
        assert var.address == info.symbols.lookup(name).address, name


def test_unknown_and_ambiguous_names(info):
    assert info.find_type("rustos::NoSuchType") is None
    assert info.find_variable("NO_SUCH_STATIC") is None
    with pytest.raises(DwarfError):
        info.type("rustos::NoSuchType")
    with pytest.raises(DwarfError):
        info.variable("NO_SUCH_STATIC")
    with pytest.raises(DwarfError, match="ambiguous"):
        info.type("Ordering")  # core::cmp::Ordering and core::sync::atomic::Ordering


def test_generic_and_suffix_names(info):
    full = info.type("rustos::sync::IrqMutex<rustos::heap::KernelHeap>")
    assert info.type("sync::IrqMutex<rustos::heap::KernelHeap>") == full
    assert info.type("IrqMutex<rustos::heap::KernelHeap>") == full
    assert info.type("KernelHeap") == info.type("rustos::heap::KernelHeap")
    assert info.type("rustos_core::ring::RingQueue<64>").size == 24 + 8 * 64
    cell = info.type("core::cell::UnsafeCell<rustos::heap::KernelHeap>")
    assert cell.member("value").type == info.type("rustos::heap::KernelHeap")
    assert full.params["T"] == info.type("rustos::heap::KernelHeap")
    assert info.type("&str").members[0].name == "data_ptr"
    assert info.type("usize").size == 8 and info.type("usize").kind == "base"


# --- documented layouts ---------------------------------------------------------------


@pytest.mark.parametrize("static", ["RUSTOS_HEAP", "RUSTOS_EXECUTOR", "RUSTOS_FRAMES"])
def test_irq_mutex_data_at_8(info, static):
    typ = info.variable(static).type
    assert offsets(typ) == {"locked": 0, "data": 8}
    assert typ.member("data").type.name.startswith("core::cell::UnsafeCell<")


def test_kernel_heap_layout(info):
    kh = info.type("rustos::heap::KernelHeap")
    assert kh.size == 368
    assert offsets(kh) == {"magic": 0, "version": 4, "start": 8, "size": 16, "max": 24, "stats": 32,
                           "lists": 88, "fallback": 320}
    assert offsets(info.type("rustos::heap::HeapStats")) == {
        "allocs": 0, "frees": 8, "bytes_in_use": 16, "peak_bytes": 24, "large_allocs": 32, "grows": 40,
        "failures": 48}
    lists = info.type("rustos_core::blocks::BlockLists")
    assert lists.size == 232
    assert offsets(lists) == {"magic": 0, "version": 4, "class_count": 8, "_pad": 12, "sizes": 16,
                              "heads": 88, "counts": 160}
    heads = lists.member("heads").type
    assert (heads.kind, heads.count, heads.element.name, heads.size) == ("array", 9, "u64", 72)
    assert heads.name == "[u64; 9]"


def test_linked_list_allocator_layout(info):
    heap = info.type("linked_list_allocator::Heap")
    holes = info.type("linked_list_allocator::hole::HoleList")
    hole = info.type("linked_list_allocator::hole::Hole")
    assert set(offsets(heap)) == {"used", "holes"}
    assert set(offsets(holes)) == {"first", "bottom", "top", "pending_extend"}
    assert set(offsets(hole)) == {"size", "next"} and hole.size == 16 and hole.align == 8
    # The cross-check values of docs/kernel-structures.md §9 for the current build.
    base = heap.member("holes").offset
    assert heap.member("used").offset == 0
    assert base + holes.member("first").offset + hole.member("size").offset == 8
    assert base + holes.member("first").offset + hole.member("next").offset == 16
    assert (base + holes.member("bottom").offset, base + holes.member("top").offset) == (24, 32)
    assert base + holes.member("pending_extend").offset == 40
    assert hole.member("next").type.name == \
        "core::option::Option<core::ptr::non_null::NonNull<linked_list_allocator::hole::Hole>>"


def test_executor_layout(info):
    ex = info.type("rustos::task::executor::Executor")
    assert ex.size == 2624
    assert offsets(ex) == {"magic": 0, "version": 4, "capacity": 8, "live": 12, "next_id": 16, "current": 24,
                           "total_polls": 32, "tasks": 40, "ready": 2088}
    tasks = ex.member("tasks").type
    assert (tasks.count, tasks.element.name) == (32, "rustos::task::executor::TaskSlot")
    slot = info.type("rustos::task::executor::TaskSlot")
    assert slot.size == 64
    assert offsets(slot) == {"id": 0, "state": 8, "woken_while_running": 12, "wakes": 16, "polls": 24,
                             "name_ptr": 32, "name_len": 40, "future_data": 48, "future_vtable": 56}
    ring = ex.member("ready").type
    assert offsets(ring) == {"magic": 0, "version": 4, "capacity": 8, "head": 12, "len": 16, "_pad": 20,
                             "slots": 24}


def test_frames_and_bootinfo_layouts(info):
    assert offsets(info.type("rustos::memory::frames::FrameTable")) == {
        "magic": 0, "version": 4, "frame_size": 8, "frame_count": 16, "usable_count": 24, "free_count": 32,
        "next_hint": 40, "bitmap": 48, "bitmap_words": 56}
    boot = info.type("rustos::bootinfo::BootInfo")
    assert boot.size == 1080
    assert offsets(boot)["cmdline"] == 56 and offsets(boot)["regions"] == 312
    assert offsets(info.type("rustos::bootinfo::MemRegion")) == {"start": 0, "size": 8, "kind": 16, "_pad": 20}


def test_enumerations(info):
    err = info.type("rustos::memory::paging::MapError")
    assert err.kind == "enum" and err.enumerators == {0: "OutOfFrames", 1: "AlreadyMapped", 2: "HugePage"}
    ordering = info.type("core::cmp::Ordering")
    assert ordering.signed and ordering.enumerators[-1] == "Less"
    value = Value(ordering, 0x10, BytesReader({0x10: b"\xff"}))
    assert value.int() == -1 and value.enum_name() == "Less"


# --- Rust enums and values ----------------------------------------------------------


def test_option_nonnull_hole_is_niche_encoded(info):
    opt = info.type("core::option::Option<core::ptr::non_null::NonNull<linked_list_allocator::hole::Hole>>")
    assert opt.kind == "variant" and opt.size == 8
    assert opt.discriminant.offset == 0 and opt.discriminant.size == 8
    by_name = {v.name: v.discr_value for v in opt.variants}
    assert by_name == {"None": 0, "Some": None}  # Some: every other value (the pointer itself)


def test_option_nonnull_decodes(info):
    opt = info.type("core::option::Option<core::ptr::non_null::NonNull<linked_list_allocator::hole::Hole>>")
    hole = struct.pack("<QQ", 4096, 0)  # size 4096, next None
    reader = BytesReader({0x100: struct.pack("<Q", 0x2000), 0x108: b"\0" * 8, 0x2000: hole})
    some, none = Value(opt, 0x100, reader), Value(opt, 0x108, reader)
    assert some.variant()[0] == "Some" and none.variant()[0] == "None"
    assert none.option() is None and none.deref() is None and none.pointer() is None
    assert some.pointer() == 0x2000
    target = some.deref()
    assert target.type.name == "linked_list_allocator::hole::Hole" and target.address == 0x2000
    assert target["size"].int() == 4096 and target["next"].deref() is None
    assert some.option().type.name == "core::ptr::non_null::NonNull<linked_list_allocator::hole::Hole>"


def test_option_reference_and_tagged_option(info):
    ref = info.type("core::option::Option<&u64>")
    reader = BytesReader({0x10: struct.pack("<QQ", 0x40, 0), 0x40: struct.pack("<Q", 77),
                          0x80: struct.pack("<QQ", 1, 1234), 0x90: struct.pack("<QQ", 0, 99)})
    assert Value(ref, 0x10, reader).deref().int() == 77
    assert Value(ref, 0x18, reader).deref() is None
    tagged = info.type("core::option::Option<u64>")
    assert tagged.size == 16
    assert Value(tagged, 0x80, reader).option().int() == 1234
    assert Value(tagged, 0x90, reader).option() is None


def test_value_fields_arrays_wrappers(info):
    mutex = info.type("rustos::sync::IrqMutex<rustos::heap::KernelHeap>")
    blob = bytearray(376)
    blob[0] = 1  # locked
    struct.pack_into("<IIQQQ", blob, 8, 0x50414548, 1, 0x4444_4444_0000, 256 * 1024, 32 << 20)
    struct.pack_into("<9Q", blob, 8 + 88 + 16, *[8 << i for i in range(9)])
    struct.pack_into("<Q", blob, 8 + 88 + 88 + 3 * 8, 0x4444_4444_1040)
    reads = []

    class Counting(BytesReader):
        def read_virtual(self, addr, n):
            reads.append((addr, n))
            return super().read_virtual(addr, n)

    v = Value(mutex, 0x1000, Counting({0x1000: bytes(blob)})).load()
    assert reads == [(0x1000, 376)]
    kh = v["data"]["value"]
    assert v["locked"].bool() is True  # Atomic<bool> -> UnsafeCell -> Align1<u8> -> u8
    assert kh["magic"].int() == 0x50414548 and kh["size"].int() == 256 * 1024
    sizes = kh["lists"]["sizes"]
    assert len(sizes) == 9 and sizes[3].int() == 64 and sizes[-1].int() == 2048
    assert sizes.ints() == [8, 16, 32, 64, 128, 256, 512, 1024, 2048]
    assert kh["lists"]["heads"][3].int() == 0x4444_4444_1040
    assert reads == [(0x1000, 376)]  # every field came from the one read
    with pytest.raises(IndexError):
        sizes[9]
    with pytest.raises(DwarfError):
        kh["no_such_field"]
    with pytest.raises(DwarfError):
        kh.int()


def test_value_reads_lazily_and_raises_guest_errors(info):
    var = info.variable("RUSTOS_TICKS")
    reader = BytesReader({var.address: struct.pack("<Q", 1234)})
    ticks = info.value(reader, "RUSTOS_TICKS")
    assert ticks.int() == 1234  # Atomic<u64> wrapper
    with pytest.raises(GuestMemoryError):
        info.value(BytesReader({}), "RUSTOS_TICKS").int()


def test_str_value(info):
    reader = BytesReader({0x10: struct.pack("<QQ", 0x100, 5), 0x100: b"shell"})
    assert Value(info.type("&str"), 0x10, reader).str() == "shell"


def test_future_vtables_name_their_type(info):
    name = "<rustos::shell::shell_task::{async_fn_env#0} as core::future::future::Future>::{vtable}"
    vtable = info.variable(name)
    assert vtable.address and info.variables_at(vtable.address)[0].name == name
    holder = vtable.type.containing_type
    assert holder.name == "rustos::shell::shell_task::{async_fn_env#0}"
    assert offsets(vtable.type)["__method3"] == 24


def test_type_lookups_are_cached(info):
    name = "rustos::sync::IrqMutex<rustos::heap::KernelHeap>"
    assert info.type(name) is info.type(name)
    executor = info.variable("RUSTOS_EXECUTOR")
    assert executor.type is not None and info.variable("RUSTOS_EXECUTOR").type is executor.type
