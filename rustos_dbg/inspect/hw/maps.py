"""Address-space inspector (``maps``): every mapped range and what it is.

Contract: ``read_maps(reader, sections=..., symbols=...)`` enumerates the
leaf mappings of the reader's CR3 with ``paging.iter_mappings`` (tables are
read physically, each 4 KiB table once), adds the G bit of each leaf, and
returns a :class:`MemoryMap` of :class:`MapRow` ranges, each with R/W/X/U/G
and a kind: ``kernel`` (a section from ``sections``: ``(name, start, end)``
tuples, e.g. from :func:`kernel_sections`), ``stack`` (the usable part of a
``RUSTOS_*_STACK``), ``guard`` (a stack's first page; listed even when - as
expected - it is unmapped, with ``mapped=False``), ``heap`` (from
``HEAP_START``), ``physmap`` (the ``PHYS_OFFSET`` window), ``framebuffer``
(the linear framebuffer at ``FRAMEBUFFER``) or ``other``.
Adjacent pieces with the same kind, name, rights and page size are merged
(virtually contiguous; ``phys_contiguous`` says whether the frames are too).
Views: ``format_maps``, ``to_json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from ...x86.layout import FRAMEBUFFER, FRAMEBUFFER_MAX
from ...x86.mappings import iter_mappings
from ...x86.paging import PagingMode, walk
from .common import (HEAP_MAX, HEAP_START, PHYS_OFFSET, KERNEL_BASE, PhysCache, StackRange,
                     find_stacks, paging_mode, to_json)

__all__ = ["MapRow", "MemoryMap", "read_maps", "kernel_sections", "format_maps", "to_json"]

_PHYSMAP_END = PHYS_OFFSET + (1 << 46)
# Label priority: lower wins when regions overlap (a stack lies inside .bss).
_PRIORITY = {"guard": 0, "stack": 1, "kernel": 2, "heap": 3, "physmap": 4, "framebuffer": 5}


@dataclass(frozen=True)
class MapRow:
    """A range of linear addresses with one kind and one set of rights."""

    start: int
    end: int
    kind: str                   #: kernel, stack, guard, heap, physmap, framebuffer, other
    name: str                   #: section or stack name, ``heap``, ``physical window``...
    mapped: bool
    paddr: Optional[int] = None  #: physical address of ``start``
    phys_contiguous: bool = True
    page_size: Optional[int] = None
    r: bool = False
    w: bool = False
    x: bool = False
    u: bool = False
    g: bool = False

    @property
    def size(self) -> int:
        """Bytes in the range."""
        return self.end - self.start

    @property
    def perms(self) -> str:
        """``R-X`` style rights (``---`` when unmapped)."""
        return ("R" if self.r else "-") + ("W" if self.w else "-") + ("X" if self.x else "-")

    @property
    def attrs(self) -> str:
        """``U``/``G`` flags, ``-`` for clear."""
        return ("U" if self.u else "-") + ("G" if self.g else "-")


@dataclass(frozen=True)
class MemoryMap:
    """All rows of one address space."""

    cr3: int
    rows: tuple[MapRow, ...]

    def at(self, addr: int) -> Optional[MapRow]:
        """The row containing ``addr``."""
        for row in self.rows:
            if row.start <= addr < row.end:
                return row
        return None


def kernel_sections(elf, higher_half: bool = True) -> list[tuple[str, int, int]]:
    """``(name, start, end)`` of the allocated sections (higher half only by default) of
    ``elf``: a ``KernelImage`` (``machine.image``, already parsed) or a kernel ELF path."""
    from ...machine.image import KernelImage, load_image

    image = elf if isinstance(elf, KernelImage) else load_image(elf)
    return [(sec.name, sec.address, sec.end) for sec in image.sections
            if sec.alloc and sec.size and not (higher_half and sec.address < KERNEL_BASE)]


def _regions(sections, stacks: Sequence[StackRange]) -> list[tuple[int, int, str, str]]:
    regions = [(s, e, "kernel", n) for n, s, e in sections]
    for st in stacks:
        regions.append((st.base, st.guard_end, "guard", f"{st.name} guard"))
        regions.append((st.guard_end, st.top, "stack", st.name))
    regions.append((HEAP_START, HEAP_START + HEAP_MAX, "heap", "kernel heap"))
    regions.append((PHYS_OFFSET, _PHYSMAP_END, "physmap", "physical window"))
    regions.append((FRAMEBUFFER, FRAMEBUFFER + FRAMEBUFFER_MAX, "framebuffer", "linear framebuffer"))
    return sorted(regions, key=lambda r: _PRIORITY[r[2]])


def _label(regions, start: int) -> tuple[str, str]:
    for s, e, kind, name in regions:
        if s <= start < e:
            return kind, name
    return "other", "other"


def _cuts(regions, start: int, end: int) -> list[int]:
    points = {start, end}
    for s, e, _, _ in regions:
        for p in (s, e):
            if start < p < end:
                points.add(p)
    return sorted(points)


def read_maps(reader, sections: Iterable[tuple[str, int, int]] = (), symbols=None,
              stacks: Optional[Iterable[StackRange]] = None, cr3: Optional[int] = None,
              mode: Optional[PagingMode] = None) -> MemoryMap:
    """Every mapped range under ``cr3`` (default: current), classified.

    ``symbols`` (iterable of symbols) gives the stacks, unless ``stacks`` is passed.
    """
    cr3 = reader.reg("cr3") if cr3 is None else cr3
    mode = mode or paging_mode(reader)
    stacks = tuple(stacks) if stacks is not None else find_stacks(symbols)
    regions = _regions(list(sections), stacks)
    read = PhysCache(reader.read_physical)
    rows: list[MapRow] = []
    for leaf in iter_mappings(read, cr3, mode, coalesce=False):
        step = walk(read, cr3, leaf.vaddr, mode).steps[-1]
        p = leaf.permissions
        cuts = _cuts(regions, leaf.vaddr, leaf.end)
        for a, b in zip(cuts, cuts[1:]):
            kind, name = _label(regions, a)
            row = MapRow(a, b, kind, name, True, leaf.paddr + (a - leaf.vaddr), True,
                         leaf.page_size, True, p.writable, p.executable, p.user, step.flags.g)
            prev = rows[-1] if rows else None
            if (prev is not None and prev.end == a and prev.mapped and
                    (prev.kind, prev.name, prev.page_size, prev.perms, prev.attrs)
                    == (kind, name, row.page_size, row.perms, row.attrs)):
                contiguous = prev.phys_contiguous and prev.paddr + prev.size == row.paddr
                rows[-1] = MapRow(prev.start, b, kind, name, True, prev.paddr, contiguous,
                                  prev.page_size, True, prev.w, prev.x, prev.u, prev.g)
            else:
                rows.append(row)
    for st in stacks:
        if not any(r.start < st.guard_end and st.base < r.end for r in rows):
            rows.append(MapRow(st.base, st.guard_end, "guard", f"{st.name} guard", False))
    rows.sort(key=lambda r: r.start)
    return MemoryMap(cr3, tuple(rows))


def format_maps(mm: MemoryMap, kinds: Optional[Iterable[str]] = None) -> str:
    """One line per row: range, size, rights, U/G, page size, physical address, kind, name."""
    wanted = set(kinds) if kinds else None
    lines = [f"address space of CR3 {mm.cr3:#x}",
             f"{'start':>18} {'end':>18} {'size':>10} perm UG page {'phys':>12}  what"]
    for r in mm.rows:
        if wanted and r.kind not in wanted:
            continue
        if not r.mapped:
            lines.append(f"{r.start:#18x} {r.end:#18x} {r.size:#10x} ---  -- -    {'unmapped':>12}  "
                         f"{r.kind}: {r.name}")
            continue
        page = {4096: "4K", 2 << 20: "2M", 1 << 30: "1G"}.get(r.page_size, "?")
        phys = f"{r.paddr:#x}" + ("" if r.phys_contiguous else "*")
        lines.append(f"{r.start:#18x} {r.end:#18x} {r.size:#10x} {r.perms}  {r.attrs} {page:<4} "
                     f"{phys:>12}  {r.kind}: {r.name}")
    if any(not r.phys_contiguous for r in mm.rows):
        lines.append("(* frames not physically contiguous)")
    return "\n".join(lines)
