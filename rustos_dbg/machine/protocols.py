"""Boot-protocol dispatch: which loader boots a kernel, and what it lays out.

Contract: :func:`boot_plan` decides the protocol of a validated
:class:`~.image.KernelImage` and returns a :class:`BootPlan` (blobs to write
to physical memory, the CPU state at the kernel's entry, notes for the user):

* ``pvh``: the kernel has the PVH note (Xen ELF note 18): :mod:`.boot`, at
  the 64-bit entry ``pvh_start64`` (docs/boot.md §3);
* ``limine``: the kernel's loaded image holds a Limine base revision tag or
  request: :mod:`.boot_limine` (docs/boot.md "Limine kernels").

A kernel of no known protocol, or one that misses what its protocol needs, is
a :class:`KernelImageError` with one line naming what is missing. This is the
only place that chooses a protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import boot, boot_limine
from .errors import KernelImageError
from .image import ENTRY64_SYMBOL


@dataclass(frozen=True)
class BootPlan:
    """What a loader lays out: ``blobs`` (physical address, bytes), the entry ``state``."""

    protocol: str
    blobs: tuple
    state: boot.BootState
    notes: tuple[str, ...] = ()
    #: Protocol-specific facts for display (e.g. the Limine plan), or None.
    detail: object = field(default=None, compare=False)


def boot_plan(image, ram_bytes: int, cmdline: str, modules: tuple = ()) -> BootPlan:
    """The plan of the protocol that boots ``image`` (see the module docstring)."""
    if image.pvh_entry32 is not None:
        return _pvh(image, ram_bytes, cmdline, modules)
    if boot_limine.is_limine(image):
        limine = boot_limine.plan(image, ram_bytes, cmdline, tuple(modules))
        return BootPlan("limine", tuple(limine.blobs), limine.state, tuple(limine.notes), limine)
    raise KernelImageError(
        f"'{image.path}' has no known boot protocol: no PVH entry note (Xen ELF note 18) "
        f"and no Limine base revision tag or request")


def _pvh(image, ram_bytes: int, cmdline: str, modules) -> BootPlan:
    if image.entry64 is None:
        raise KernelImageError(f"'{image.path}' has no '{ENTRY64_SYMBOL}' symbol: "
                               f"the 64-bit entry of docs/boot.md is missing")
    if modules:
        raise KernelImageError("modules are a Limine feature: this PVH kernel cannot receive them")
    for seg in image.segments:
        if seg.paddr + seg.memsz > ram_bytes or seg.paddr < 0x10_0000:
            raise KernelImageError(
                f"'{image.path}' loads {seg.memsz:#x} bytes at physical {seg.paddr:#x}, "
                f"outside the RAM above 1 MiB of a {ram_bytes >> 20} MiB machine")
    blobs = boot.segment_blobs(image) + boot.boot_blobs(ram_bytes, cmdline)
    return BootPlan("pvh", tuple(blobs), boot.boot_state(image))
