"""The PVH loader (docs/boot.md §2, §4): what QEMU's ``-kernel`` does for a PVH ELF.

Contract: :func:`plan` copies the PT_LOAD segments to their physical
addresses, places a version-1 ``hvm_start_info`` with the PC memory map and
the command line in low memory, and enters the kernel at the physical
address of its Xen ``XEN_ELFNOTE_PHYS32_ENTRY`` note (``pvh_start32`` for
RustOS) as the PVH ABI says: 32-bit protected mode, paging off, flat CS/DS/
ES/SS, IF = 0, ``ebx`` = the start info. The kernel then switches to long
mode itself, in the emulator as on QEMU.
"""

from __future__ import annotations

from ..structs.pvh import HvmMemmapEntry, HvmStartInfo, XEN_HVM_START_MAGIC_VALUE
from .boot import BootPlan, BootState, gdt32_blob, memory_map, segment_blobs

START_INFO_ADDR = 0x5000
MEMMAP_ADDR = 0x5100
CMDLINE_ADDR = 0x5800
CMDLINE_MAX = 0x800


def start_info_blobs(ram_bytes: int, cmdline: str) -> list[tuple[int, bytes]]:
    """(physical address, bytes) of the start info, its memory map and the command line."""
    raw_cmdline = cmdline.encode("ascii", "replace")[: CMDLINE_MAX - 1] + b"\0"
    regions = memory_map(ram_bytes)
    memmap = b"".join(HvmMemmapEntry.build(dict(addr=a, size=s, type=t, reserved=0)) for a, s, t in regions)
    info = HvmStartInfo.build(dict(
        magic=XEN_HVM_START_MAGIC_VALUE, version=1, flags=0, nr_modules=0, modlist_paddr=0,
        cmdline_paddr=CMDLINE_ADDR, rsdp_paddr=0, memmap_paddr=MEMMAP_ADDR,
        memmap_entries=len(regions), reserved=0,
    ))
    return [(START_INFO_ADDR, info), (MEMMAP_ADDR, memmap), (CMDLINE_ADDR, raw_cmdline)]


def plan(image, ram_bytes: int, cmdline: str) -> BootPlan:
    """The PVH boot of ``image``: entered at its 32-bit entry with ``ebx`` = the start info."""
    blobs = segment_blobs(image) + [gdt32_blob()] + start_info_blobs(ram_bytes, cmdline)
    state = BootState("protected32", image.pvh_entry32, gprs=(("rbx", START_INFO_ADDR),))
    return BootPlan("pvh", tuple(blobs), state)
