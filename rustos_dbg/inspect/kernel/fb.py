"""The kernel's framebuffer (``RUSTOS_FB``): mode, resolution, pitch, where the LFB is, who draws.

Contract: :func:`read_fb` (reader, dwarf) finds ``RUSTOS_FB`` (an
``IrqMutex<Fb>``) through DWARF, reads it once and parses the ``FbInfo`` at
the start of ``Fb`` with the layout of :mod:`rustos_dbg.structs.kernel`
(docs/kernel-structures.md §15) into a frozen :class:`FbState`.
``problems`` notes a bad magic or version and a mode the kernel does not
define; a held lock is reported (``locked``: the holder may be mid-update).
Only an unreadable ``RUSTOS_FB`` raises. Views: :func:`fb_view`, ``to_json``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...structs import kernel as layouts
from .common import Problem, debug_info, kernel_part, locked_static, magic_problem, to_json

__all__ = ["FbState", "read_fb", "fb_view", "to_json"]

_MODES = {0: "text", 1: "framebuffer"}


@dataclass(frozen=True)
class FbState:
    """What ``RUSTOS_FB`` says."""

    address: int
    locked: bool
    mode: str           #: "text" (VGA text shown) or "framebuffer"
    owner: str
    width: int
    height: int
    bpp: int
    pitch: int
    lfb_phys: int
    lfb_size: int
    lfb_virt: int
    pci_slot: str       #: bus:device.function of the VGA ("" before the first enable)
    draws: int
    problems: tuple[Problem, ...]


def read_fb(reader, dwarf=None) -> FbState:
    """Decodes ``RUSTOS_FB`` (see the module contract)."""
    info = debug_info(dwarf)
    mutex, locked, fb = locked_static(reader, info, "RUSTOS_FB")
    i = kernel_part(fb["info"], layouts.FbInfo)
    problems = magic_problem("framebuffer", i, "FBUF")
    if i.mode not in _MODES:
        problems.append(Problem("framebuffer", f"unknown mode {i.mode}"))
    slot = i.pci_slot
    where = f"{slot >> 16 & 0xFF:02x}:{slot >> 8 & 0xFF:02x}.{slot & 0xFF}" if i.lfb_phys else ""
    owner = layouts.FB_OWNER_NAMES.get(i.owner, f"unknown owner {i.owner}")
    return FbState(mutex.address, locked, _MODES.get(i.mode, f"mode {i.mode}"), owner, i.width, i.height, i.bpp,
                   i.pitch, i.lfb_phys, i.lfb_size, i.lfb_virt, where, i.draws, tuple(problems))


def fb_view(f: FbState) -> str:
    """A few lines: the mode, the resolution and pitch, the LFB, the owner."""
    if f.lfb_phys == 0:
        lines = ["mode: text (the framebuffer was never enabled)"]
    else:
        shown = "shown" if f.mode == "framebuffer" else "off, VGA text shown"
        lines = [f"mode: {f.mode} ({shown}), {f.width}x{f.height}x{f.bpp}, pitch {f.pitch} bytes",
                 f"LFB: phys {f.lfb_phys:#x} ({f.lfb_size >> 20} MiB, BAR0 of PCI {f.pci_slot}), "
                 f"mapped at {f.lfb_virt:#x}",
                 f"owner: {f.owner}; {f.draws} drawing operations"]
    if f.locked:
        lines.append("RUSTOS_FB is locked (being updated)")
    if f.problems:
        lines.append(f"check: {len(f.problems)} problem(s)")
        lines += [f"  - {p}" for p in f.problems]
    return "\n".join(lines)
