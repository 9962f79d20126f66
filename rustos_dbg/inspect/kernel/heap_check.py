"""Consistency check of a decoded :class:`~.heap.Heap`: which node is the first bad one.

Contract: :func:`check_heap` (a pure function of the model, no guest reads)
returns the problems in walk order: the free lists by class, each from its
head, then the fallback's holes from the lowest. Within a list only the first
bad node is reported (what follows it is not trustworthy); later lists and the
holes are still checked. Per hole: inside ``[bottom, top)`` and the heap,
aligned to ``align_of::<Hole>()``, at least ``size_of::<Hole>()`` bytes,
readable, above the end of the previous hole (sorted, disjoint). Per free-list
node of class size S: inside ``[start, start + size)``, aligned to S, readable,
overlapping no sound hole and no block checked before it (a block inside free
fallback memory is the block's fault), not seen before (cycle); then the walked
length must equal the list's ``count``.

The totals and counters are checked last, whatever the structure looked like
(an overrun that corrupts hole headers usually breaks both, and the totals say
how much free memory went missing): the sizes of the holes read must add up to
the fallback's free bytes ``top - bottom - used``; the fallback must span the
heap (``top - bottom + pending_extend == size``); the fallback's ``used`` must
cover what the free lists hold plus the bytes in use (every block is carved
from it, and a block is at least the size requested); and the statistics must
agree with each other (``frees <= allocs``, ``bytes_in_use <= peak_bytes``,
each live allocation at least one byte, none in use when all were freed).
"""

from __future__ import annotations

import bisect

from .common import Problem


class _Extents:
    """Disjoint [start, end) ranges already accepted, with what they are."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._items: list[tuple[int, int, str]] = []

    def overlap(self, start: int, end: int) -> str | None:
        i = bisect.bisect_right(self._starts, start) - 1
        for j in (i, i + 1):
            if 0 <= j < len(self._items):
                s, e, label = self._items[j]
                if s < end and start < e:
                    return label
        return None

    def add(self, start: int, end: int, label: str) -> None:
        i = bisect.bisect_right(self._starts, start)
        self._starts.insert(i, start)
        self._items.insert(i, (start, end, label))


def _list_problems(heap, fl, extents: _Extents) -> list[Problem]:
    where = f"list {fl.block_size} (class {fl.index})"
    lo, hi, size = heap.start, heap.start + heap.size, fl.block_size
    last = len(fl.blocks) - 1
    for i, addr in enumerate(fl.blocks):
        via = fl.blocks[i - 1] if i else None
        reason = None
        if not (lo <= addr and addr + size <= hi):
            reason = f"outside the heap [{lo:#x}, {hi:#x})"
        elif size and addr % size:
            reason = f"not aligned to its class size {size}"
        elif i == last and fl.end == "unreadable":
            reason = "unreadable (not mapped)"
        else:
            other = extents.overlap(addr, addr + size)
            if other is not None:
                reason = f"overlaps {other}"
        if reason is not None:
            return [Problem(where, reason, i, addr, via)]
        extents.add(addr, addr + size, f"{where} node {i} at {addr:#x}")
    if fl.end == "cycle":
        first = fl.blocks.index(fl.loop_to)
        return [Problem(where, f"cycle: points back to node {first}", len(fl.blocks), fl.loop_to,
                        fl.blocks[-1] if fl.blocks else None)]
    if fl.end == "limit":
        return [Problem(where, f"walk stopped after {len(fl.blocks)} nodes")]
    if len(fl.blocks) != fl.count:
        return [Problem(where, f"{len(fl.blocks)} blocks on the list but its count says {fl.count}")]
    return []


def _hole_problems(heap) -> tuple[list[tuple[int, int, str]], list[Problem]]:
    """The holes that are sound (as extents) and the problems of the hole list."""
    fb = heap.fallback
    lo, hi = max(fb.bottom, heap.start), min(fb.top, heap.start + heap.size)
    good: list[tuple[int, int, str]] = []
    previous_end, previous = None, None
    for i, hole in enumerate(fb.holes):
        addr, size = hole.address, hole.size
        reason = None
        if not (lo <= addr < hi):
            reason = f"outside the fallback [{lo:#x}, {hi:#x})"
        elif addr % fb.hole_align:
            reason = f"not aligned to {fb.hole_align}"
        elif size is None:
            reason = "unreadable (not mapped)"
        elif size < fb.hole_min:
            reason = f"size {size} is smaller than a Hole ({fb.hole_min} bytes)"
        elif addr + size > hi:
            reason = f"ends at {addr + size:#x}, beyond {hi:#x}"
        elif previous_end is not None and addr < previous_end:
            reason = f"not above the previous hole (which ends at {previous_end:#x})"
        if reason is not None:
            return good, [Problem("holes", reason, i, addr, previous)]
        good.append((addr, addr + size, f"hole {i} at {addr:#x}"))
        previous_end, previous = addr + size, addr
    if fb.end == "cycle":
        return good, [Problem("holes", "cycle: a hole points back to an earlier one", len(fb.holes), None, previous)]
    if fb.end == "limit":
        return good, [Problem("holes", f"walk stopped after {len(fb.holes)} holes")]
    if fb.end == "unreadable" and not fb.holes:
        return good, [Problem("holes", "the dummy first hole is unreadable")]
    return good, []


def _total_problems(heap) -> list[Problem]:
    """Totals and counters that must agree, independently of the walks."""
    problems: list[Problem] = []
    fb, s = heap.fallback, heap.stats
    if fb.hole_bytes != fb.free:
        read = [h for h in fb.holes if h.size is not None]
        partial = "" if fb.end == "null" else f" (the walk ended {fb.end}: holes after it are not counted)"
        problems.append(Problem("totals", f"the {len(read)} hole(s) read add up to {fb.hole_bytes} bytes, but "
                                          f"top - bottom - used = {fb.free} bytes free{partial}"))
    if fb.bottom and fb.top - fb.bottom + fb.pending_extend != heap.size:
        problems.append(Problem("totals", f"the fallback spans {fb.top - fb.bottom} + {fb.pending_extend} bytes "
                                          f"(top - bottom + pending_extend), but the heap maps {heap.size}"))
    if fb.used < heap.free_in_lists + s.bytes_in_use:
        problems.append(Problem("totals", f"the fallback's used {fb.used} bytes cannot hold the free lists' "
                                          f"{heap.free_in_lists} bytes plus {s.bytes_in_use} bytes in use"))
    live = s.allocs - s.frees
    if live < 0:
        problems.append(Problem("counters", f"frees {s.frees} exceed allocs {s.allocs}"))
    elif live == 0 and s.bytes_in_use:
        problems.append(Problem("counters", f"{s.bytes_in_use} bytes in use, but every allocation was freed "
                                            f"(allocs = frees = {s.allocs})"))
    elif s.bytes_in_use < live:
        problems.append(Problem("counters", f"{live} live allocations (allocs - frees) in {s.bytes_in_use} "
                                            f"bytes in use"))
    if s.bytes_in_use > s.peak_bytes:
        problems.append(Problem("counters", f"bytes_in_use {s.bytes_in_use} exceeds peak_bytes {s.peak_bytes}"))
    return problems


def check_heap(heap) -> tuple[Problem, ...]:
    """Every inconsistency of ``heap``, the first bad node first (see the module contract)."""
    problems: list[Problem] = []
    if heap.size > heap.max:
        problems.append(Problem("heap", f"size {heap.size} exceeds max {heap.max}"))
    fb = heap.fallback
    if fb.bottom and not (heap.start <= fb.bottom <= fb.top <= heap.start + heap.size):
        problems.append(Problem("fallback", f"[{fb.bottom:#x}, {fb.top:#x}) is not inside the heap"))
    good_holes, hole_problems = _hole_problems(heap)
    extents = _Extents()
    for start, end, label in good_holes:
        extents.add(start, end, label)
    for fl in heap.lists:
        problems += _list_problems(heap, fl, extents)
    return tuple(problems + hole_problems + _total_problems(heap))
