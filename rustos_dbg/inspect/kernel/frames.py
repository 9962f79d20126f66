"""The physical frame allocator (``RUSTOS_FRAMES``): counters and the bitmap.

Contract: :func:`read_frames` (reader, dwarf) reads ``IrqMutex<FrameTable>``
(address and ``data`` offset from DWARF), parses the ``FrameTable`` with its
layout (:mod:`rustos_dbg.structs.kernel`, docs/kernel-structures.md §12) and
reads the bitmap words it points to (bit ``i % 64`` of word ``i / 64`` is
frame ``i``, 1 = in use; bits at or beyond ``frame_count`` are ignored). The
frozen :class:`Frames` holds the kernel's counters, the used/free counts
recomputed from the bitmap, and the free frames coalesced into
:class:`FreeRange`\\ s (the first ``max_ranges``, plus the total number of
ranges). ``problems`` lists contradictions: the recomputed free count differs
from ``free_count``, more free than usable, ``bitmap_words`` is not
``ceil(frame_count / 64)``, the bitmap is unreadable (then the recomputed
fields are None). Only an unreadable ``RUSTOS_FRAMES`` raises. Views:
:func:`frames_view` (text) and :func:`to_json`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...structs import kernel as layouts
from .common import Problem, debug_info, kernel_part, locked_static, magic_problem, to_json, try_bytes

__all__ = ["FreeRange", "Frames", "read_frames", "free_ranges", "frames_view", "to_json"]

MAX_BITMAP_WORDS = 1 << 14  # MAX_FRAMES / 64: 4 GiB of frames


@dataclass(frozen=True)
class FreeRange:
    """Free frames ``first .. first + count`` (physical ``start .. end``)."""

    first: int
    count: int
    frame_size: int = 4096

    JSON_EXTRA = ("start", "end")

    @property
    def start(self) -> int:
        return self.first * self.frame_size

    @property
    def end(self) -> int:
        return (self.first + self.count) * self.frame_size


@dataclass(frozen=True)
class Frames:
    """The frame table at one stop."""

    address: int
    locked: bool
    frame_size: int
    frame_count: int
    usable_count: int
    free_count: int
    next_hint: int
    bitmap: int
    bitmap_words: int
    used_bits: int | None
    free_bits: int | None
    free_ranges: tuple[FreeRange, ...]
    range_count: int | None
    problems: tuple[Problem, ...]

    JSON_EXTRA = ("ok",)

    @property
    def ok(self) -> bool:
        return not self.problems


def free_ranges(words: list[int], frame_count: int) -> list[tuple[int, int]]:
    """Every run of clear bits below ``frame_count``, as (first frame, count)."""
    ranges: list[tuple[int, int]] = []
    run_start = None
    for w, word in enumerate(words):
        base = w * 64
        if base >= frame_count:
            break
        limit = min(64, frame_count - base)
        full = (1 << limit) - 1
        if word & full == full and run_start is None:
            continue  # all in use: nothing starts here
        if word & full == 0 and run_start is not None:
            continue  # all free: the current run goes on
        for bit in range(limit):
            used = word >> bit & 1
            if not used and run_start is None:
                run_start = base + bit
            elif used and run_start is not None:
                ranges.append((run_start, base + bit - run_start))
                run_start = None
    if run_start is not None:
        ranges.append((run_start, frame_count - run_start))
    return ranges


def read_frames(reader, dwarf=None, *, max_ranges: int = 16) -> Frames:
    """Decodes ``RUSTOS_FRAMES`` and its bitmap (see the module contract)."""
    info = debug_info(dwarf)
    mutex, locked, value = locked_static(reader, info, "RUSTOS_FRAMES")
    ft = kernel_part(value, layouts.FrameTable)
    fields = {f: ft[f] for f in ("frame_size", "frame_count", "usable_count", "free_count",
                                 "next_hint", "bitmap", "bitmap_words")}
    problems = magic_problem("frames", ft, "FRMS")
    count, nwords = fields["frame_count"], fields["bitmap_words"]
    if nwords != -(-count // 64):
        problems.append(Problem("frames", f"bitmap_words {nwords}, expected ceil({count} / 64) = {-(-count // 64)}"))
    used = free = range_count = None
    ranges: list[tuple[int, int]] = []
    want = min(-(-count // 64), MAX_BITMAP_WORDS)
    if not want:
        data = b""
    else:
        data = try_bytes(reader, fields["bitmap"], want * 8) if fields["bitmap"] else None
    if data is None:
        problems.append(Problem("frames", f"bitmap at {fields['bitmap']:#x} ({want} words) is unreadable"))
    else:
        words = [int.from_bytes(data[i:i + 8], "little") for i in range(0, len(data), 8)]
        count = min(count, len(words) * 64)
        last = count % 64
        used = sum(bin(w).count("1") for w in words[:count // 64])
        if last:
            used += bin(words[count // 64] & ((1 << last) - 1)).count("1")
        free = count - used
        ranges = free_ranges(words, count)
        range_count = len(ranges)
        if free != fields["free_count"]:
            problems.append(Problem("frames", f"the bitmap has {free} free frames but free_count says "
                                              f"{fields['free_count']}"))
    if fields["free_count"] > fields["usable_count"]:
        problems.append(Problem("frames", f"free_count {fields['free_count']} exceeds usable_count "
                                          f"{fields['usable_count']}"))
    size = fields["frame_size"] or 4096
    return Frames(mutex.address, locked, **fields, used_bits=used, free_bits=free,
                  free_ranges=tuple(FreeRange(f, n, size) for f, n in ranges[:max_ranges]),
                  range_count=range_count, problems=tuple(problems))


def frames_view(fr: Frames) -> str:
    """Compact text: counters, the recomputed counts, the first free ranges."""
    mib = fr.frame_count * fr.frame_size >> 20
    lines = [f"frames: {fr.frame_count} tracked ({mib} MiB), {fr.usable_count} usable, {fr.free_count} free, "
             f"next hint {fr.next_hint}, frame {fr.frame_size} B, lock {'HELD' if fr.locked else 'free'}",
             f"  bitmap {fr.bitmap:#x}, {fr.bitmap_words} words"]
    if fr.free_bits is not None:
        agree = "agrees" if fr.free_bits == fr.free_count else "DISAGREES"
        lines[-1] += f": {fr.used_bits} used, {fr.free_bits} free ({agree} with free_count)"
        lines.append(f"  free ranges ({fr.range_count}):")
        for r in fr.free_ranges:
            lines.append(f"    {r.start:#014x}-{r.end:#014x}  {r.count:>8} frames  {r.count * r.frame_size >> 10:>9} KiB")
        if fr.range_count and fr.range_count > len(fr.free_ranges):
            lines.append(f"    ... {fr.range_count - len(fr.free_ranges)} more")
    if fr.problems:
        lines.append(f"check: {len(fr.problems)} problem(s)")
        lines += [f"  - {p}" for p in fr.problems]
    return "\n".join(lines)
