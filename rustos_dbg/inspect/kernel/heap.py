"""The kernel heap (``RUSTOS_HEAP``): statistics, free lists, fallback holes, consistency.

Contract: :func:`read_heap` (reader, dwarf) reads ``IrqMutex<KernelHeap>``
once (address and ``data`` offset from DWARF) and decodes it
(docs/kernel-structures.md §9) into a frozen :class:`Heap`. The kernel's own
``#[repr(C)]`` part (``KernelHeap`` up to ``lists``) is parsed with the
``KernelHeapHead`` layout of :mod:`rustos_dbg.structs.kernel`; the crate's
``fallback`` (``linked_list_allocator::Heap``, its ``HoleList`` and ``Hole``\\ s)
is decoded through DWARF by member name, never with hand-written offsets. The
model holds:

* ``stats`` (:class:`HeapStats`), ``start``, ``size``, ``max``, ``locked``;
* ``lists``: one :class:`FreeList` per size class, its ``blocks`` found by
  following the ``next`` word of each free block in guest memory;
* ``fallback`` (:class:`Fallback`): ``linked_list_allocator::Heap``'s
  ``used``, ``bottom``, ``top``, ``pending_extend`` and its :class:`Hole`\\ s,
  walked from the dummy ``holes.first`` through ``next: Option<NonNull<Hole>>``;
* ``problems``: the consistency check (:mod:`.heap_check`), first bad node first.

A walk stops at the end of its list, at a cycle, at ``limit`` nodes, at a
node outside the heap or misaligned (kept as the walk's last node, not read),
or at an unreadable node (kept, ``end='unreadable'``). Only an unreadable
``RUSTOS_HEAP`` itself raises (``GuestMemoryError``); bad pointers never do.
Views: :func:`heap_view` (text) and :func:`to_json`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ...dwarf import Value
from ...machine.errors import GuestMemoryError
from ...structs import kernel as layouts
from .common import (Problem, debug_info, human_bytes, kernel_part, locked_static, magic_problem, to_json,
                     try_u64)

__all__ = ["HeapStats", "FreeList", "Hole", "Fallback", "Heap", "read_heap", "heap_view", "to_json"]

STAT_FIELDS = ("allocs", "frees", "bytes_in_use", "peak_bytes", "large_allocs", "grows", "failures")
WALK_LIMIT = 100_000


@dataclass(frozen=True)
class HeapStats:
    """``HeapStats``: counters kept by the allocator."""

    allocs: int
    frees: int
    bytes_in_use: int
    peak_bytes: int
    large_allocs: int
    grows: int
    failures: int


@dataclass(frozen=True)
class FreeList:
    """One size class: the kernel's head and count, and the blocks walked from the head.
    ``end``: ``null`` (reached 0), ``cycle`` (``loop_to`` was seen before), ``limit``,
    ``invalid`` (last block outside the heap or misaligned) or ``unreadable``."""

    index: int
    block_size: int
    head: int
    count: int
    blocks: tuple[int, ...]
    end: str
    loop_to: int | None = None

    JSON_EXTRA = ("free_bytes",)

    @property
    def free_bytes(self) -> int:
        """Bytes on this list by the kernel's count (what the `heap` command adds up)."""
        return self.count * self.block_size


@dataclass(frozen=True)
class Hole:
    """A free hole of the fallback: its address and size (None when unreadable or not read)."""

    address: int
    size: int | None


@dataclass(frozen=True)
class Fallback:
    """``linked_list_allocator::Heap``: used bytes, [bottom, top), and the holes in list order."""

    used: int
    bottom: int
    top: int
    pending_extend: int
    holes: tuple[Hole, ...]
    end: str
    hole_align: int = 8
    hole_min: int = 16

    JSON_EXTRA = ("free", "hole_bytes", "largest_hole")

    @property
    def free(self) -> int:
        """Free bytes by the allocator's own account: ``top - bottom - used``."""
        return self.top - self.bottom - self.used

    @property
    def hole_bytes(self) -> int:
        """Sum of the sizes of the holes read."""
        return sum(h.size for h in self.holes if h.size is not None)

    @property
    def largest_hole(self) -> int:
        return max((h.size for h in self.holes if h.size is not None), default=0)


@dataclass(frozen=True)
class Heap:
    """The whole heap at one stop."""

    address: int
    locked: bool
    start: int
    size: int
    max: int
    stats: HeapStats
    lists: tuple[FreeList, ...]
    fallback: Fallback
    problems: tuple[Problem, ...]

    JSON_EXTRA = ("free_in_lists", "free_in_holes", "fragmentation", "ok")

    @property
    def free_in_lists(self) -> int:
        return sum(fl.free_bytes for fl in self.lists)

    @property
    def free_in_holes(self) -> int:
        return self.fallback.hole_bytes

    @property
    def fragmentation(self) -> float:
        """``1 - largest hole / hole bytes`` (0 when there is no free hole memory)."""
        total = self.fallback.hole_bytes
        return 0.0 if total == 0 else 1.0 - self.fallback.largest_hole / total

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def list_for(self, block_size: int) -> FreeList:
        """The free list of the class with blocks of ``block_size`` bytes."""
        return next(fl for fl in self.lists if fl.block_size == block_size)


def _walk_blocks(reader, head: int, size: int, lo: int, hi: int, limit: int):
    blocks, seen, addr = [], set(), head
    while addr != 0:
        if addr in seen:
            return tuple(blocks), "cycle", addr
        if len(blocks) >= limit:
            return tuple(blocks), "limit", None
        blocks.append(addr)
        seen.add(addr)
        if not (lo <= addr and addr + size <= hi) or addr % size:
            return tuple(blocks), "invalid", None
        nxt = try_u64(reader, addr)
        if nxt is None:
            return tuple(blocks), "unreadable", None
        addr = nxt
    return tuple(blocks), "null", None


def _walk_holes(reader, first, bottom: int, top: int, limit: int):
    hole_type = first.type
    align, minimum = hole_type.align or 8, hole_type.size or 16
    holes, seen = [], set()
    try:
        ptr = first["next"].pointer()
    except GuestMemoryError:
        return (), "unreadable", align, minimum
    while ptr is not None:
        if ptr in seen:
            return tuple(holes), "cycle", align, minimum
        if len(holes) >= limit:
            return tuple(holes), "limit", align, minimum
        seen.add(ptr)
        if not (bottom <= ptr and ptr + minimum <= top) or ptr % align:
            holes.append(Hole(ptr, None))
            return tuple(holes), "invalid", align, minimum
        try:
            node = Value(hole_type, ptr, reader).load()
            size, ptr = node["size"].int(), node["next"].pointer()
        except GuestMemoryError:
            holes.append(Hole(ptr, None))
            return tuple(holes), "unreadable", align, minimum
        holes.append(Hole(node.address, size))
    return tuple(holes), "null", align, minimum


def read_heap(reader, dwarf=None, *, limit: int = WALK_LIMIT) -> Heap:
    """Decodes ``RUSTOS_HEAP`` from guest memory (see the module contract)."""
    from .heap_check import check_heap

    info = debug_info(dwarf)
    mutex, locked, kh = locked_static(reader, info, "RUSTOS_HEAP")
    head = kernel_part(kh, layouts.KernelHeapHead)
    start, size, max_ = head.start, head.size, head.max
    stats = HeapStats(*(head.stats[f] for f in STAT_FIELDS))
    bl = head.lists
    problems = magic_problem("heap", head, "HEAP") + magic_problem("block lists", bl, "BLKS")
    sizes, heads, counts = bl.sizes, bl.heads, bl.counts
    count = min(bl.class_count, len(sizes))
    lists = []
    for c in range(count):
        block = sizes[c] or 1
        blocks, end, loop_to = _walk_blocks(reader, heads[c], block, start, start + size, limit)
        lists.append(FreeList(c, sizes[c], heads[c], counts[c], blocks, end, loop_to))
    fb = kh["fallback"]  # the crate's layout: through DWARF
    holes_v = fb["holes"]
    bottom, top = holes_v["bottom"].int(), holes_v["top"].int()
    holes, end, align, minimum = _walk_holes(reader, holes_v["first"], bottom, top, limit)
    fallback = Fallback(fb["used"].int(), bottom, top, holes_v["pending_extend"].int(), holes, end,
                        align, minimum)
    heap = Heap(mutex.address, locked, start, size, max_, stats, tuple(lists), fallback, ())
    return replace(heap, problems=tuple(problems) + check_heap(heap))


def _blocks_text(fl: FreeList, max_blocks: int) -> str:
    shown = " ".join(f"{b:#x}" for b in fl.blocks[:max_blocks])
    if len(fl.blocks) > max_blocks:
        shown += f" ... (+{len(fl.blocks) - max_blocks})"
    if fl.end == "cycle":
        shown += f" -> {fl.loop_to:#x} (cycle)"
    elif fl.end in ("invalid", "unreadable", "limit"):
        shown += f" ({fl.end})"
    return shown or "-"


def heap_view(heap: Heap, max_blocks: int = 4, max_holes: int = 16) -> str:
    """Compact text: summary, the free lists, the holes, the check."""
    s, fb = heap.stats, heap.fallback
    lines = [
        f"heap {heap.start:#x}-{heap.start + heap.size:#x}  size {human_bytes(heap.size)} "
        f"({heap.size} B) of max {human_bytes(heap.max)}  lock {'HELD' if heap.locked else 'free'}",
        f"  in use {s.bytes_in_use} B  peak {s.peak_bytes} B  allocs {s.allocs}  frees {s.frees}  "
        f"large {s.large_allocs}  grows {s.grows}  failures {s.failures}",
        f"  free: {heap.free_in_lists} B in lists, {fb.free} B in fallback "
        f"({len(fb.holes)} holes, {heap.free_in_holes} B, largest {fb.largest_hole} B, "
        f"fragmentation {heap.fragmentation:.1%})",
        "  class   size  count  walked  blocks",
    ]
    for fl in heap.lists:
        lines.append(f"  {fl.index:>5} {fl.block_size:>6} {fl.count:>6} {len(fl.blocks):>7}  "
                     f"{_blocks_text(fl, max_blocks)}")
    lines.append(f"  fallback [{fb.bottom:#x}, {fb.top:#x})  used {fb.used} B  "
                 f"pending_extend {fb.pending_extend}")
    for i, h in enumerate(fb.holes[:max_holes]):
        size = "unreadable" if h.size is None else f"{h.size:>10} B"
        end = "" if h.size is None else f"  end {h.address + h.size:#x}"
        lines.append(f"    hole {i:>3}  {h.address:#x}  {size}{end}")
    if len(fb.holes) > max_holes:
        lines.append(f"    ... {len(fb.holes) - max_holes} more holes")
    if heap.ok:
        lines.append("  check: ok")
    else:
        lines.append(f"  check: {len(heap.problems)} problem(s); first: {heap.problems[0]}")
        lines += [f"    - {p}" for p in heap.problems[1:8]]
    return "\n".join(lines)
