"""The PVH loader (docs/boot.md §2, §4): what QEMU's ``-kernel`` does for a PVH ELF.

Contract: :func:`plan` copies the PT_LOAD segments to their physical
addresses, places a version-1 ``hvm_start_info`` with the PC memory map and
the command line in low memory, and enters the kernel at the physical
address of its Xen ``XEN_ELFNOTE_PHYS32_ENTRY`` note (``pvh_start32`` for
RustOS) as the PVH ABI says: 32-bit protected mode, paging off, flat CS/DS/
ES/SS, IF = 0, ``ebx`` = the start info. The kernel then switches to long
mode itself, in the emulator as on QEMU. A ramdisk is the start info's one
module, placed where QEMU 7.2 places ``-initrd`` (:func:`initrd_address`).
"""

from __future__ import annotations

from ..structs.pvh import HvmMemmapEntry, HvmModlistEntry, HvmStartInfo, XEN_HVM_START_MAGIC_VALUE
from .boot import BootPlan, BootState, gdt32_blob, memory_map, segment_blobs

START_INFO_ADDR = 0x5000
MEMMAP_ADDR = 0x5100
MODLIST_ADDR = 0x5700
CMDLINE_ADDR = 0x5800
CMDLINE_MAX = 0x800

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


def start_info_blobs(ram_bytes: int, cmdline: str, initrd: bytes | None = None) -> list[tuple[int, bytes]]:
    """(physical address, bytes) of the start info, its memory map and the command line,
    and of the ramdisk ``initrd`` with its module-list entry when given."""
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
    return [(START_INFO_ADDR, info), (MEMMAP_ADDR, memmap), (CMDLINE_ADDR, raw_cmdline)] + modules


def plan(image, ram_bytes: int, cmdline: str, initrd: bytes | None = None) -> BootPlan:
    """The PVH boot of ``image``: entered at its 32-bit entry with ``ebx`` = the start info
    (and ``initrd``, a ramdisk's bytes, as its one module)."""
    blobs = segment_blobs(image) + [gdt32_blob()] + start_info_blobs(ram_bytes, cmdline, initrd)
    state = BootState("protected32", image.pvh_entry32, gprs=(("rbx", START_INFO_ADDR),))
    return BootPlan("pvh", tuple(blobs), state)
