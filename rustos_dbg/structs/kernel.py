"""RustOS's own ``#[repr(C)]`` structures, as the kernel lays them out in memory.

Contract: each layout below parses and builds the exact little-endian bytes of
one kernel-owned ``#[repr(C)]`` structure, padding fields included, so
``Layout.build(Layout.parse(b)) == b``; ``sizeof()`` and every field offset
equal the DWARF of ``build/rustos.elf`` (checked by
``tests/structs/test_kernel_layouts.py``).  Field names are the Rust field
names.  The layouts cite ``docs/kernel-structures.md`` (section numbers of
that file):

* ``BootInfo`` / ``MemRegion`` (§4, ``kernel/src/bootinfo.rs``);
* ``HeapStats`` and ``KernelHeapHead`` (§9, ``kernel/src/heap.rs``),
  ``BlockLists`` (§9, ``kernel/core/src/blocks.rs``);
* ``TaskSlot`` and ``executor_layout(max_tasks, queue)`` (§11,
  ``kernel/src/task/executor.rs``), ``ring_queue(capacity)`` (§11,
  ``kernel/core/src/ring.rs``);
* ``FrameTable`` (§12, ``kernel/src/memory/frames.rs``);
* ``Ramdisk`` (§16, ``kernel/src/ramdisk.rs``);
* ``WasmState``, ``WasmSlot`` and ``ExecView`` (§17, ``kernel/src/wasm/mod.rs``,
  ``kernel/core/src/wasm/exec.rs``).

Codes stay plain integer fields (``magic``, ``version``, ``MemRegion.kind``,
``TaskSlot.state``), so that corrupted memory still parses to the numbers it
holds; compare them with :class:`KernelMagic`, :data:`LAYOUT_VERSIONS`,
:class:`~.pvh.MemmapType` and :class:`TaskState`, whose display strings live
apart (``MAGIC_STRUCTURES``, ``REGION_KIND_NAMES``, ``TASK_STATE_NAMES``).
:func:`header_problems` checks a parsed magic and version.  ``magic``,
``version`` and ``_pad`` fields default to the kernel's initialisers when
building, so a test can build a structure from just its interesting fields.

Not declared here, on purpose: what the kernel takes from crates or from the
compiler - ``linked_list_allocator``'s ``Heap``/``HoleList``/``Hole`` (the
``fallback`` that follows ``KernelHeapHead`` in ``KernelHeap``), the
``IrqMutex<T>`` around each static (where its ``data`` starts), ``Option`` /
``NonNull`` niches, trait-object vtables - and the address of each static.
Those are decoded from DWARF (:mod:`rustos_dbg.dwarf`), never from offsets
written by hand.
"""

from __future__ import annotations

import enum
from functools import lru_cache

from construct import Array, Bytes, Default, Int32ul, Int64ul, Struct

from .pvh import MemmapType

__all__ = [
    "KernelMagic", "MAGIC_STRUCTURES", "LAYOUT_VERSIONS", "magic_text", "header_problems",
    "MAX_CMDLINE", "MAX_REGIONS", "REGION_KIND_NAMES", "MemRegion", "BootInfo",
    "BLOCK_SIZES", "CLASS_COUNT", "BlockLists", "HeapStats", "KernelHeapHead",
    "ring_queue", "TaskState", "TASK_STATE_NAMES", "TaskSlot", "MAX_TASKS", "QUEUE_CAPACITY",
    "executor_layout", "FrameTable", "FbInfo", "FB_OWNER_NAMES", "Ramdisk", "RAMDISK_STATE_NAMES", "ExecView",
    "WasmSlot", "WasmState", "WASM_SLOT_STATE_NAMES", "WASM_MAX_DEPTH", "WASM_MAX_INSTANCES", "WASM_PATH_MAX",
]


def _magic(text: str) -> int:
    return int.from_bytes(text.encode("ascii"), "little")


class KernelMagic(enum.IntEnum):
    """The ``magic`` (four ASCII bytes read as a little-endian u32) that starts each
    kernel-owned structure, docs/kernel-structures.md §2."""

    BOOT = _magic("BOOT")  # 0x544F_4F42
    HEAP = _magic("HEAP")  # 0x5041_4548
    BLKS = _magic("BLKS")  # 0x534B_4C42
    EXEC = _magic("EXEC")  # 0x4345_5845
    RING = _magic("RING")  # 0x474E_4952
    FRMS = _magic("FRMS")  # 0x534D_5246
    FBUF = _magic("FBUF")  # 0x4655_4246
    RDSK = _magic("RDSK")  # 0x4B53_4452
    WASM = _magic("WASM")  # 0x4D53_4157


#: The structure each magic identifies (display strings, kept apart from the numbers).
MAGIC_STRUCTURES: dict[KernelMagic, str] = {
    KernelMagic.BOOT: "BootInfo",
    KernelMagic.HEAP: "KernelHeap",
    KernelMagic.BLKS: "BlockLists",
    KernelMagic.EXEC: "Executor",
    KernelMagic.RING: "RingQueue<N>",
    KernelMagic.FRMS: "FrameTable",
    KernelMagic.FBUF: "FbInfo",
    KernelMagic.RDSK: "Ramdisk",
    KernelMagic.WASM: "WasmState",
}

#: The layout ``version`` the layouts here describe, per structure (docs/kernel-structures.md §2).
LAYOUT_VERSIONS: dict[KernelMagic, int] = {magic: 1 for magic in KernelMagic}


def magic_text(magic: int) -> str:
    """A u32 magic as its four ASCII bytes (``?`` for non-printable ones)."""
    return "".join(chr(b) if 32 <= b < 127 else "?" for b in (int(magic) & 0xFFFF_FFFF).to_bytes(4, "little"))


def header_problems(parsed, expected: KernelMagic | str, version: int | None = None) -> list[str]:
    """Why ``parsed["magic"]`` / ``parsed["version"]`` are not ``expected`` (a
    :class:`KernelMagic` or its name) and its layout version (:data:`LAYOUT_VERSIONS`
    unless ``version`` is given); empty when they are.  ``parsed`` is anything
    indexable by field name whose fields convert with ``int()``."""
    expected = KernelMagic[expected] if isinstance(expected, str) else KernelMagic(expected)
    want = LAYOUT_VERSIONS[expected] if version is None else version
    out = []
    magic = int(parsed["magic"])
    if magic != expected:
        out.append(f"magic {magic:#010x} ({magic_text(magic)!r}), expected {expected.name!r}")
    found = int(parsed["version"])
    if found != want:
        out.append(f"layout version {found}, expected {want}")
    return out


def _header(magic: KernelMagic) -> list:
    """``magic: u32, version: u32``, the start of every kernel-owned structure (§2)."""
    return [
        "magic" / Default(Int32ul, int(magic)),
        "version" / Default(Int32ul, LAYOUT_VERSIONS[magic]),
    ]


# --- boot information -----------------------------------------------------------------

#: Longest command line ``BootInfo`` keeps (``bootinfo::MAX_CMDLINE``).
MAX_CMDLINE = 256
#: Most memory-map entries ``BootInfo`` keeps (``bootinfo::MAX_REGIONS``).
MAX_REGIONS = 32

#: What the kernel's ``info`` command calls each ``MemRegion.kind`` (``bootinfo::kind_name``);
#: other values (6, 7 are copied from the PVH map as they are) are "unknown".
REGION_KIND_NAMES: dict[MemmapType, str] = {
    MemmapType.RAM: "usable",
    MemmapType.RESERVED: "reserved",
    MemmapType.ACPI: "ACPI",
    MemmapType.NVS: "ACPI NVS",
    MemmapType.UNUSABLE: "unusable",
}

#: ``MemRegion`` (24 bytes), docs/kernel-structures.md §4: one memory-map entry,
#: physical; ``kind`` is a :class:`~.pvh.MemmapType` value.
MemRegion = Struct(
    "start" / Int64ul,              # offset 0
    "size" / Int64ul,               # offset 8
    "kind" / Int32ul,               # offset 16
    "_pad" / Default(Int32ul, 0),   # offset 20
)

#: ``BootInfo`` (``RUSTOS_BOOT_INFO``, 1080 bytes), docs/kernel-structures.md §4.
#: ``cmdline`` holds ``cmdline_len`` bytes, not NUL terminated; ``regions`` holds
#: ``region_count`` valid entries.
BootInfo = Struct(
    *_header(KernelMagic.BOOT),             # offsets 0, 4
    "start_info_phys" / Int64ul,            # offset 8, the loader's hvm_start_info
    "phys_offset" / Int64ul,                # offset 16
    "kernel_base" / Int64ul,                # offset 24
    "kernel_phys_start" / Int64ul,          # offset 32
    "kernel_phys_end" / Int64ul,            # offset 40
    "cmdline_len" / Int32ul,                # offset 48
    "region_count" / Int32ul,               # offset 52
    "cmdline" / Bytes(MAX_CMDLINE),         # offset 56
    "regions" / Array(MAX_REGIONS, MemRegion),  # offset 312, region i at 312 + 24 * i
)


# --- heap -------------------------------------------------------------------------------

#: Block size of each free-list class (``rustos_core::blocks::BLOCK_SIZES``).
BLOCK_SIZES = (8, 16, 32, 64, 128, 256, 512, 1024, 2048)
#: Number of size classes (``rustos_core::blocks::CLASS_COUNT``).
CLASS_COUNT = len(BLOCK_SIZES)

#: ``BlockLists`` (232 bytes), docs/kernel-structures.md §9 "BlockLists": per class
#: the block size, the virtual address of the first free block (0 = empty; each
#: free block's first 8 bytes point to the next) and the number of free blocks.
BlockLists = Struct(
    *_header(KernelMagic.BLKS),                  # offsets 0, 4
    "class_count" / Int32ul,                     # offset 8
    "_pad" / Default(Int32ul, 0),                # offset 12
    "sizes" / Array(CLASS_COUNT, Int64ul),       # offset 16
    "heads" / Array(CLASS_COUNT, Int64ul),       # offset 88
    "counts" / Array(CLASS_COUNT, Int64ul),      # offset 160
)

#: ``HeapStats`` (56 bytes), docs/kernel-structures.md §9 "HeapStats".
HeapStats = Struct(
    "allocs" / Int64ul,         # offset 0
    "frees" / Int64ul,          # offset 8
    "bytes_in_use" / Int64ul,   # offset 16, requested (Layout::size) bytes
    "peak_bytes" / Int64ul,     # offset 24
    "large_allocs" / Int64ul,   # offset 32, requests sent to the fallback
    "grows" / Int64ul,          # offset 40
    "failures" / Int64ul,       # offset 48
)

#: The kernel-owned part of ``KernelHeap`` (320 bytes), docs/kernel-structures.md §9:
#: every field before ``fallback``.  ``fallback`` (at offset 320, the size of this
#: layout) is ``linked_list_allocator::Heap``, whose layout is the crate's and
#: must be decoded from DWARF.
KernelHeapHead = Struct(
    *_header(KernelMagic.HEAP),   # offsets 0, 4
    "start" / Int64ul,            # offset 8, HEAP_START
    "size" / Int64ul,             # offset 16, bytes mapped
    "max" / Int64ul,              # offset 24, HEAP_MAX
    "stats" / HeapStats,          # offset 32
    "lists" / BlockLists,         # offset 88
)


# --- executor ---------------------------------------------------------------------------

#: Task-table slots of the kernel's executor (``executor::MAX_TASKS``).
MAX_TASKS = 32
#: Capacity of the kernel's ready queue (``executor::QUEUE_CAPACITY``).
QUEUE_CAPACITY = 64


def ring_queue(capacity: int = QUEUE_CAPACITY) -> Struct:
    """``RingQueue<capacity>`` (24 + 8 * capacity bytes), docs/kernel-structures.md §11
    "RingQueue<64>": id ``i`` (``0 <= i < len``) is ``slots[(head + i) % capacity]``.
    One layout per capacity: the same object for every call with that capacity."""
    if capacity < 0:
        raise ValueError(f"a RingQueue capacity cannot be negative ({capacity})")
    return _ring_queue(int(capacity))


@lru_cache(maxsize=None)
def _ring_queue(capacity: int) -> Struct:
    return Struct(
        *_header(KernelMagic.RING),           # offsets 0, 4
        "capacity" / Int32ul,                 # offset 8, N
        "head" / Int32ul,                     # offset 12, index of the oldest id
        "len" / Int32ul,                      # offset 16, ids queued
        "_pad" / Default(Int32ul, 0),         # offset 20
        "slots" / Array(capacity, Int64ul),   # offset 24
    )


class TaskState(enum.IntEnum):
    """``TaskSlot.state`` (``executor::TaskState``), docs/kernel-structures.md §11 "TaskSlot"."""

    FREE = 0
    READY = 1
    RUNNING = 2
    WAITING = 3


#: Display names of :class:`TaskState` values (as the kernel's ``tasks`` command prints them).
TASK_STATE_NAMES: dict[TaskState, str] = {
    TaskState.FREE: "free",
    TaskState.READY: "ready",
    TaskState.RUNNING: "running",
    TaskState.WAITING: "waiting",
}

#: ``TaskSlot`` (64 bytes), docs/kernel-structures.md §11 "TaskSlot"; a free slot
#: is all zeros.  ``future_data``/``future_vtable`` are the boxed ``dyn Future``'s
#: fat pointer (name the type from the vtable through DWARF).
TaskSlot = Struct(
    "id" / Int64ul,                     # offset 0
    "state" / Int32ul,                  # offset 8, a TaskState value
    "woken_while_running" / Int32ul,    # offset 12, 0 or 1
    "wakes" / Int64ul,                  # offset 16
    "polls" / Int64ul,                  # offset 24
    "name_ptr" / Int64ul,               # offset 32, UTF-8 in .rodata
    "name_len" / Int64ul,               # offset 40
    "future_data" / Int64ul,            # offset 48
    "future_vtable" / Int64ul,          # offset 56
)


def executor_layout(max_tasks: int = MAX_TASKS, queue: int = QUEUE_CAPACITY) -> Struct:
    """``Executor`` with ``max_tasks`` slots and a ``RingQueue<queue>`` (40 + 64 *
    max_tasks + 24 + 8 * queue bytes; 2624 for the kernel's 32 and 64),
    docs/kernel-structures.md §11.  One layout per pair: the same object for every
    call with those values."""
    if max_tasks < 0:
        raise ValueError(f"an Executor cannot have {max_tasks} task slots")
    return _executor_layout(int(max_tasks), ring_queue(queue))


@lru_cache(maxsize=None)
def _executor_layout(max_tasks: int, ready: Struct) -> Struct:
    return Struct(
        *_header(KernelMagic.EXEC),             # offsets 0, 4
        "capacity" / Int32ul,                   # offset 8, slots in tasks
        "live" / Int32ul,                       # offset 12, slots not free
        "next_id" / Int64ul,                    # offset 16
        "current" / Int64ul,                    # offset 24, 0 if none
        "total_polls" / Int64ul,                # offset 32
        "tasks" / Array(max_tasks, TaskSlot),   # offset 40, slot i at 40 + 64 * i
        "ready" / ready,                        # offset 40 + 64 * max_tasks
    )


# --- frames -----------------------------------------------------------------------------

#: ``FrameTable`` (64 bytes), docs/kernel-structures.md §12: bit ``i % 64`` of
#: bitmap word ``i / 64`` is frame ``i``, 1 = in use.
FrameTable = Struct(
    *_header(KernelMagic.FRMS),   # offsets 0, 4
    "frame_size" / Int64ul,       # offset 8, 4096
    "frame_count" / Int64ul,      # offset 16
    "usable_count" / Int64ul,     # offset 24
    "free_count" / Int64ul,       # offset 32
    "next_hint" / Int64ul,        # offset 40
    "bitmap" / Int64ul,           # offset 48, virtual address of the words
    "bitmap_words" / Int64ul,     # offset 56
)


# --- framebuffer --------------------------------------------------------------------------

#: Who draws (``fb::Owner``), docs/kernel-structures.md §15.
FB_OWNER_NAMES = {0: "text console", 1: "shell (draw)", 2: "WASM program"}

#: ``FbInfo`` (64 bytes, the first field of ``Fb`` in ``RUSTOS_FB``), docs/kernel-structures.md §15.
FbInfo = Struct(
    *_header(KernelMagic.FBUF),   # offsets 0, 4
    "mode" / Int32ul,             # offset 8: 0 VGA text, 1 linear framebuffer
    "owner" / Int32ul,            # offset 12: FB_OWNER_NAMES
    "width" / Int32ul,            # offset 16
    "height" / Int32ul,           # offset 20
    "bpp" / Int32ul,              # offset 24
    "pitch" / Int32ul,            # offset 28, bytes per line
    "lfb_phys" / Int64ul,         # offset 32, BAR0
    "lfb_size" / Int64ul,         # offset 40
    "lfb_virt" / Int64ul,         # offset 48
    "pci_slot" / Int32ul,         # offset 56: bus << 16 | device << 8 | function
    "draws" / Int32ul,            # offset 60
)


# --- ramdisk ----------------------------------------------------------------------------

#: ``Ramdisk.state`` values (``ramdisk::STATE_*``).
RAMDISK_STATE_NAMES = {0: "absent", 1: "mounted", 2: "corrupt"}

#: ``Ramdisk`` (40 bytes), docs/kernel-structures.md §16: the PVH module mounted at /ram.
Ramdisk = Struct(
    *_header(KernelMagic.RDSK),   # offsets 0, 4
    "phys" / Int64ul,             # offset 8, physical address of the module (0: none)
    "size" / Int64ul,             # offset 16
    "module_count" / Int32ul,     # offset 24, modules the loader listed
    "state" / Int32ul,            # offset 28, RAMDISK_STATE_NAMES
    "files" / Int32ul,            # offset 32, members when mounted
    "_pad" / Default(Int32ul, 0),  # offset 36
)

# --- WASM -------------------------------------------------------------------------------

#: Frames a WASM call stack holds (``rustos_core::wasm::MAX_DEPTH``).
WASM_MAX_DEPTH = 64
#: Instance slots (``wasm::MAX_INSTANCES``).
WASM_MAX_INSTANCES = 2
#: Bytes of a slot's path (``wasm::PATH_MAX``).
WASM_PATH_MAX = 48
#: ``WasmSlot.state`` values (``wasm::SLOT_*``).
WASM_SLOT_STATE_NAMES = {0: "empty", 1: "running", 2: "exited", 3: "trapped"}

#: ``ExecView`` (288 bytes), docs/kernel-structures.md §17: one run's fuel, memory and
#: call stack (function indices, imports first; outermost first), as the interpreter updates them.
ExecView = Struct(
    "fuel_limit" / Int64ul,       # offset 0
    "fuel_used" / Int64ul,        # offset 8
    "memory_addr" / Int64ul,      # offset 16, virtual address of linear memory (0: none)
    "memory_pages" / Int32ul,     # offset 24, 64 KiB pages
    "depth" / Int32ul,            # offset 28, entries of stack in use
    "stack" / Array(WASM_MAX_DEPTH, Int32ul),  # offset 32
)

#: ``WasmSlot`` (360 bytes), docs/kernel-structures.md §17: one instance.
WasmSlot = Struct(
    "state" / Int32ul,            # offset 0, WASM_SLOT_STATE_NAMES
    "path_len" / Int32ul,         # offset 4
    "module_addr" / Int64ul,      # offset 8, virtual address of the module's bytes (the ramdisk)
    "module_len" / Int64ul,       # offset 16
    "path" / Bytes(WASM_PATH_MAX),  # offset 24
    "view" / ExecView,            # offset 72
)

#: ``WasmState`` (744 bytes), docs/kernel-structures.md §17: ``RUSTOS_WASM``.
WasmState = Struct(
    *_header(KernelMagic.WASM),   # offsets 0, 4
    "runs" / Int64ul,             # offset 8, runs started since boot
    "slot_count" / Int32ul,       # offset 16
    "max_depth" / Int32ul,        # offset 20
    "instances" / Array(WASM_MAX_INSTANCES, WasmSlot),  # offset 24
)
