"""Boot: which protocol a kernel is booted by, and what every loader shares.

Contract: :func:`boot_plan` is the one dispatch on the boot protocol: it
returns the :class:`BootPlan` of the loader for ``image`` (the bytes to
write into RAM and the CPU state at the kernel's entry), or raises a
one-line :class:`~.errors.KernelImageError` naming what is missing. Each
protocol's loader lives in its own module (``boot_<protocol>.py``) with a
``plan(image, ram_bytes, cmdline)`` function; :mod:`.entry` puts the CPU
into the :class:`BootState` a plan names.

What loaders share: the PC memory map of :func:`memory_map` (RAM below the
EBDA at 0x9fc00, the BIOS area reserved, RAM from 1 MiB) and the PT_LOAD
segments of :func:`segment_blobs`. Everything a loader writes besides the
kernel lives below 1 MiB, which the kernels keep reserved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..structs.pvh import MemmapType
from .errors import KernelImageError

#: The GDT of a 32-bit protected-mode entry: null, flat 32-bit ring-0 code (0x08), flat data (0x10).
GDT32 = (0, 0x00CF_9A00_0000_FFFF, 0x00CF_9200_0000_FFFF)
GDT32_ADDR = 0x0500
CODE32_SELECTOR, DATA32_SELECTOR = 0x08, 0x10
#: CR0 in 32-bit protected mode with paging off: PE | ET.
CR0_PE_ET = 0x11
#: The IDTR a PC BIOS leaves (its real-mode interrupt vector table): base 0, limit 0x3ff.
BIOS_IDTR = (0, 0x3FF)


@dataclass(frozen=True)
class BootState:
    """The CPU at a kernel's entry: 32-bit protected mode with paging off (``mode``
    "protected32", flat segments ``code_selector``/``data_selector`` of the GDT at
    ``gdtr``) or IA-32e 64-bit mode ("long64", then ``cr3``/``cr4``/``efer`` as given)."""

    mode: str
    rip: int
    gprs: tuple[tuple[str, int], ...] = ()  #: general registers set at entry (others are 0)
    cr0: int = CR0_PE_ET
    cr3: int = 0
    cr4: int = 0
    efer: int = 0
    gdtr: tuple[int, int] = (GDT32_ADDR, len(GDT32) * 8 - 1)
    idtr: tuple[int, int] = BIOS_IDTR
    code_selector: int = CODE32_SELECTOR
    data_selector: int = DATA32_SELECTOR
    rflags: int = 0x2
    #: "long64": CS and SS caches to load (selector, base, limit, descriptor high dword), or
    #: None (as Unicorn starts); the machine loads them (it knows the context layout)
    code: tuple | None = None
    data: tuple | None = None
    #: "long64": the DS, ES, FS, GS selector (None: left 0)
    selectors: int | None = None
    #: Both PICs start with every IRQ masked (Limine masks them)
    mask_pic: bool = False

    @property
    def rsp(self) -> int:
        """The stack pointer at the entry (0 unless the loader sets one)."""
        return dict(self.gprs).get("rsp", 0)


@dataclass(frozen=True)
class BootModule:
    """A file handed to the kernel by its loader (``--module FILE[,STRING]``): its
    contents, its file name and the STRING given with it (None: none given)."""

    data: bytes
    name: str
    string: str | None = None


@dataclass(frozen=True)
class BootPlan:
    """What a loader does: write ``blobs`` ((physical address, bytes)) and enter at ``state``;
    ``notes`` for the user (e.g. a request it does not serve), ``detail`` the
    protocol's own record for display (the Limine plan), or None."""

    protocol: str
    blobs: tuple[tuple[int, bytes], ...]
    state: BootState
    notes: tuple[str, ...] = ()
    detail: object = field(default=None, compare=False)


def boot_plan(image, ram_bytes: int, cmdline: str, modules: tuple[BootModule, ...] = (),
              initrd: bytes | None = None) -> BootPlan:
    """The plan of the loader ``image`` asks for (the one protocol dispatch); ``modules``
    go to a protocol that takes modules (Multiboot2, Limine), ``initrd`` (a ramdisk's
    bytes) to a PVH kernel as its one module, as QEMU's ``-initrd``."""
    from . import boot_limine, boot_multiboot2, boot_pvh

    if image.pvh_entry32 is not None:
        check_segments(image, ram_bytes)
        if modules:
            raise KernelImageError("--module is for Multiboot2 and Limine kernels: a PVH kernel takes one ramdisk (--initrd)")
        return boot_pvh.plan(image, ram_bytes, cmdline, initrd)
    if initrd is not None:
        raise KernelImageError("--initrd is a PVH kernel's ramdisk: a Multiboot2 or Limine kernel takes --module")
    header = boot_multiboot2.find_header(image)
    if header is not None:
        check_segments(image, ram_bytes)
        return boot_multiboot2.plan(image, header, ram_bytes, cmdline, modules)
    if boot_limine.is_limine(image):
        limine = boot_limine.plan(image, ram_bytes, cmdline, modules)
        return BootPlan("limine", tuple(limine.blobs), limine.state, tuple(limine.notes), limine)
    raise KernelImageError(
        f"'{image.path}' has no known boot protocol: no PVH entry note (Xen ELF note type 18), "
        f"no Multiboot2 header (magic 0xe85250d6) in its first 32 KiB, and no Limine base revision tag or request")


def check_segments(image, ram_bytes: int) -> None:
    """A kernel loaded at its physical addresses must fit in the RAM above 1 MiB."""
    for seg in image.segments:
        if seg.paddr + seg.memsz > ram_bytes or seg.paddr < 0x10_0000:
            raise KernelImageError(
                f"'{image.path}' loads {seg.memsz:#x} bytes at physical {seg.paddr:#x}, "
                f"outside the RAM above 1 MiB of a {ram_bytes >> 20} MiB machine")


def memory_map(ram_bytes: int) -> list[tuple[int, int, MemmapType]]:
    """The PC memory map of a machine with ``ram_bytes`` of RAM: (start, size, type)."""
    return [
        (0, 0x9FC00, MemmapType.RAM),
        (0x9FC00, 0x400, MemmapType.RESERVED),
        (0xF0000, 0x10000, MemmapType.RESERVED),
        (0x10_0000, ram_bytes - 0x10_0000, MemmapType.RAM),
    ]


def segment_blobs(image) -> list[tuple[int, bytes]]:
    """(physical address, bytes) of every PT_LOAD segment, zero-filled to its memory size."""
    return [(seg.paddr, seg.data + bytes(seg.memsz - len(seg.data))) for seg in image.segments]


def gdt32_blob() -> tuple[int, bytes]:
    """(address, bytes) of :data:`GDT32`, the GDT the 32-bit entry's segments come from."""
    import struct

    return GDT32_ADDR, struct.pack(f"<{len(GDT32)}Q", *GDT32)
