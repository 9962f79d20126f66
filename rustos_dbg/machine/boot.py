"""Boot: lay out guest memory and CPU state for the 64-bit PVH entry.

Honours docs/boot.md for a loader that starts the CPU in long mode: the ELF's
PT_LOAD segments are copied to their physical addresses and zero-filled to
``p_memsz``; a PVH ``hvm_start_info`` with a memory map and the command line
is placed in low memory (with the ramdisk as its one module, placed as QEMU's
loader places ``-initrd``: see :func:`initrd_address`); a GDT with a 64-bit code segment and page tables
that identity-map the first GiB (2 MiB pages) are built; the CPU enters
``pvh_start64`` in IA-32e mode with IF=0 and ``rdi`` = the start info.

Everything this module writes lives below 1 MiB, which the kernel keeps
reserved (the memory map marks 0x9fc00-0xfffff reserved as a PC's does).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..structs.pvh import HvmMemmapEntry, HvmModlistEntry, HvmStartInfo, MemmapType, XEN_HVM_START_MAGIC_VALUE

GDT_ADDR = 0x0500
PML4_ADDR = 0x1000
PDPT_ADDR = 0x2000
PD_ADDR = 0x3000
START_INFO_ADDR = 0x5000
MEMMAP_ADDR = 0x5100
MODLIST_ADDR = 0x5700
CMDLINE_ADDR = 0x5800
CMDLINE_MAX = 0x800

#: GDT: null, 64-bit ring-0 code (0x08), ring-0 data (0x10).
BOOT_GDT = (0, 0x00AF_9A00_0000_FFFF, 0x00CF_9200_0000_FFFF)
CODE_SELECTOR = 0x08
DATA_SELECTOR = 0x10

EFER_LME_LMA = 0x500
CR0_PE_ET_PG = 0x8000_0011
CR4_PAE = 0x20


@dataclass(frozen=True)
class BootState:
    """Register values at the 64-bit entry."""

    rip: int
    rdi: int
    cr0: int = CR0_PE_ET_PG
    cr3: int = PML4_ADDR
    cr4: int = CR4_PAE
    efer: int = EFER_LME_LMA
    gdtr: tuple[int, int] = (GDT_ADDR, len(BOOT_GDT) * 8 - 1)
    rflags: int = 0x2


def memory_map(ram_bytes: int) -> list[tuple[int, int, MemmapType]]:
    """The PC memory map of a machine with ``ram_bytes`` of RAM: (start, size, type)."""
    return [
        (0, 0x9FC00, MemmapType.RAM),
        (0x9FC00, 0x400, MemmapType.RESERVED),
        (0xF0000, 0x10000, MemmapType.RESERVED),
        (0x10_0000, ram_bytes - 0x10_0000, MemmapType.RAM),
    ]


#: What QEMU's PC keeps free at the top of RAM below 4 GiB for the ACPI tables
#: (``acpi_data_size`` of the pc machine types since 2.x: 0x20000 + 0x8000).
QEMU_ACPI_DATA_SIZE = 0x28000


def initrd_address(ram_bytes: int, size: int) -> int:
    """Where QEMU's PVH loader (x86_load_linux, QEMU 7.2) puts an initrd of ``size``
    bytes: page-aligned, ending below ``below_4g_mem_size - acpi_data_size - 1``.
    A ``ValueError`` when it does not fit above the first MiB."""
    initrd_max = min(ram_bytes, 0xE000_0000) - QEMU_ACPI_DATA_SIZE - 1
    addr = (initrd_max - size) & ~0xFFF
    if size >= initrd_max or addr < 0x20_0000:
        raise ValueError(f"a {size}-byte ramdisk does not fit in {ram_bytes >> 20} MiB of RAM")
    return addr


def boot_blobs(ram_bytes: int, cmdline: str, initrd: bytes | None = None) -> list[tuple[int, bytes]]:
    """(physical address, bytes) to write for the start info, GDT and page tables,
    and the ramdisk ``initrd`` with its module-list entry when given."""
    raw_cmdline = cmdline.encode("ascii", "replace")[: CMDLINE_MAX - 1] + b"\0"
    regions = memory_map(ram_bytes)
    memmap = b"".join(HvmMemmapEntry.build(dict(addr=a, size=s, type=t, reserved=0)) for a, s, t in regions)
    modules: list[tuple[int, bytes]] = []
    if initrd is not None:
        at = initrd_address(ram_bytes, len(initrd))
        entry = HvmModlistEntry.build(dict(paddr=at, size=len(initrd), cmdline_paddr=0, reserved=0))
        modules = [(MODLIST_ADDR, entry), (at, initrd)]
    info = HvmStartInfo.build(dict(
        magic=XEN_HVM_START_MAGIC_VALUE, version=1, flags=0, nr_modules=1 if modules else 0,
        modlist_paddr=MODLIST_ADDR if modules else 0,
        cmdline_paddr=CMDLINE_ADDR, rsdp_paddr=0, memmap_paddr=MEMMAP_ADDR,
        memmap_entries=len(regions), reserved=0,
    ))
    pd = struct.pack("<512Q", *((i << 21) | 0x83 for i in range(512)))
    return [
        (GDT_ADDR, struct.pack(f"<{len(BOOT_GDT)}Q", *BOOT_GDT)),
        (PML4_ADDR, struct.pack("<Q", PDPT_ADDR | 3).ljust(4096, b"\0")),
        (PDPT_ADDR, struct.pack("<Q", PD_ADDR | 3).ljust(4096, b"\0")),
        (PD_ADDR, pd),
        (START_INFO_ADDR, info),
        (MEMMAP_ADDR, memmap),
        (CMDLINE_ADDR, raw_cmdline),
    ] + modules


def segment_blobs(image) -> list[tuple[int, bytes]]:
    """(physical address, bytes) of every PT_LOAD segment, zero-filled to its memory size."""
    return [(seg.paddr, seg.data + bytes(seg.memsz - len(seg.data))) for seg in image.segments]


def boot_state(image) -> BootState:
    """The CPU state at ``pvh_start64``."""
    return BootState(rip=image.entry64, rdi=START_INFO_ADDR)
