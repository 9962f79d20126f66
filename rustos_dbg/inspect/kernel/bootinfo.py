"""The boot information (``RUSTOS_BOOT_INFO``): command line, memory map, offsets.

Contract: :func:`read_bootinfo` (reader, dwarf) finds ``RUSTOS_BOOT_INFO``
through DWARF, reads it once and parses its bytes with the ``BootInfo`` layout
(:mod:`rustos_dbg.structs.kernel`, docs/kernel-structures.md §4) into a frozen
:class:`BootInfo`: the command line (``cmdline_len`` bytes, UTF-8 with
replacement), the first ``region_count`` :class:`Region`\\ s,
``start_info_phys``, ``phys_offset``, ``kernel_base``,
``kernel_phys_start``/``end``. ``problems`` notes a bad magic or version,
counts beyond the arrays (then clamped), and an uninitialised structure
(``start_info_phys`` 0: ``bootinfo::init`` has not run). Only an unreadable
``RUSTOS_BOOT_INFO`` raises. Views: :func:`bootinfo_view` and :func:`to_json`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...structs import kernel as layouts
from .common import Problem, debug_info, kernel_part, magic_problem, static, to_json

__all__ = ["Region", "BootInfo", "read_bootinfo", "bootinfo_view", "to_json", "KIND_NAMES"]

#: Names the kernel's `info` command gives the region types (bootinfo::kind_name).
KIND_NAMES = {int(kind): name for kind, name in layouts.REGION_KIND_NAMES.items()}


@dataclass(frozen=True)
class Region:
    """One memory-map entry (physical)."""

    start: int
    size: int
    kind: int

    JSON_EXTRA = ("end", "kind_name")

    @property
    def end(self) -> int:
        return self.start + self.size

    @property
    def kind_name(self) -> str:
        return KIND_NAMES.get(self.kind, "unknown")


@dataclass(frozen=True)
class BootInfo:
    """What the kernel kept of the PVH start info."""

    address: int
    start_info_phys: int
    phys_offset: int
    kernel_base: int
    kernel_phys_start: int
    kernel_phys_end: int
    cmdline: str
    regions: tuple[Region, ...]
    problems: tuple[Problem, ...]

    JSON_EXTRA = ("ram_bytes", "initialised")

    @property
    def initialised(self) -> bool:
        return self.start_info_phys != 0

    @property
    def ram_bytes(self) -> int:
        """Bytes in usable (type 1) regions."""
        return sum(r.size for r in self.regions if r.kind == 1)


def read_bootinfo(reader, dwarf=None) -> BootInfo:
    """Decodes ``RUSTOS_BOOT_INFO`` (see the module contract)."""
    info = debug_info(dwarf)
    value = static(reader, info, "RUSTOS_BOOT_INFO")
    bi = kernel_part(value, layouts.BootInfo)
    problems = magic_problem("boot info", bi, "BOOT")
    cmd, regions = bi.cmdline, bi.regions
    length, count = bi.cmdline_len, bi.region_count
    if length > len(cmd):
        problems.append(Problem("boot info", f"cmdline_len {length} exceeds {len(cmd)}"))
    if count > len(regions):
        problems.append(Problem("boot info", f"region_count {count} exceeds {len(regions)}"))
    if bi.start_info_phys == 0:
        problems.append(Problem("boot info", "not initialised yet (start_info_phys is 0)"))
    text = cmd[:min(length, len(cmd))].decode("utf-8", "replace")
    kept = tuple(Region(r.start, r.size, r.kind) for r in regions[:min(count, len(regions))])
    return BootInfo(value.address, bi.start_info_phys, bi.phys_offset, bi.kernel_base,
                    bi.kernel_phys_start, bi.kernel_phys_end, text, kept, tuple(problems))


def bootinfo_view(b: BootInfo) -> str:
    """Compact text: command line, offsets, the memory map like the kernel's `info`."""
    lines = [f"cmdline: \"{b.cmdline}\"",
             f"start info at phys {b.start_info_phys:#x}; phys_offset {b.phys_offset:#x}, "
             f"kernel_base {b.kernel_base:#x}",
             f"kernel image: phys {b.kernel_phys_start:#x}-{b.kernel_phys_end:#x} "
             f"({(b.kernel_phys_end - b.kernel_phys_start) >> 10} KiB)",
             f"memory map ({len(b.regions)} regions, {b.ram_bytes >> 10} KiB usable):"]
    for r in b.regions:
        lines.append(f"  {r.start:#012x}-{r.end:#012x} {r.size // 1024:>8} KiB {r.kind_name}")
    if b.problems:
        lines.append(f"check: {len(b.problems)} problem(s)")
        lines += [f"  - {p}" for p in b.problems]
    return "\n".join(lines)
