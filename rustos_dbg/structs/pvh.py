"""PVH boot ABI: the start-of-day structure handed to the kernel in %ebx.

Contract: ``HvmStartInfo`` (56 bytes, version 1), ``HvmModlistEntry`` (32
bytes) and ``HvmMemmapEntry`` (24 bytes) parse and build the exact
little-endian bytes (``build(parse(b)) == b``).  The magic value is a plain
field so that garbage can still be decoded; compare it with
``XEN_HVM_START_MAGIC_VALUE`` (see ``is_valid_start_info``).  Version-0
structures end after ``rsdp_paddr`` (``HVM_START_INFO_V0_SIZE`` bytes).

Source: Xen public header ``xen/include/public/arch-x86/hvm/start_info.h``
(struct hvm_start_info, hvm_modlist_entry, hvm_memmap_table_entry and the
XEN_HVM_MEMMAP_TYPE_* values) - not the Intel SDM.
"""

from __future__ import annotations

import enum

from construct import Enum, Int32ul, Int64ul, Struct

__all__ = ["HvmStartInfo", "HvmModlistEntry", "HvmMemmapEntry", "MemmapType",
           "MEMMAP_TYPE_NAMES", "XEN_HVM_START_MAGIC_VALUE", "HVM_START_INFO_V0_SIZE",
           "is_valid_start_info"]

#: ``XEN_HVM_START_MAGIC_VALUE``: "xEn3" with the 0x80 bit of the "E" set.
XEN_HVM_START_MAGIC_VALUE = 0x336EC578

#: Size of a version-0 ``hvm_start_info`` (no memory-map fields).
HVM_START_INFO_V0_SIZE = 40


class MemmapType(enum.IntEnum):
    """``XEN_HVM_MEMMAP_TYPE_*`` values of ``hvm_memmap_table_entry.type`` (E820-compatible)."""

    RAM = 1
    RESERVED = 2
    ACPI = 3
    NVS = 4
    UNUSABLE = 5
    DISABLED = 6
    PMEM = 7


#: Human-readable names for :class:`MemmapType` values.
MEMMAP_TYPE_NAMES: dict[MemmapType, str] = {
    MemmapType.RAM: "usable RAM",
    MemmapType.RESERVED: "reserved",
    MemmapType.ACPI: "ACPI reclaimable",
    MemmapType.NVS: "ACPI NVS",
    MemmapType.UNUSABLE: "unusable",
    MemmapType.DISABLED: "disabled",
    MemmapType.PMEM: "persistent memory",
}

#: ``struct hvm_start_info`` (version 1), Xen public/arch-x86/hvm/start_info.h.
HvmStartInfo = Struct(
    "magic" / Int32ul,           # offset 0, XEN_HVM_START_MAGIC_VALUE
    "version" / Int32ul,         # offset 4
    "flags" / Int32ul,           # offset 8, SIF_xxx flags
    "nr_modules" / Int32ul,      # offset 12
    "modlist_paddr" / Int64ul,   # offset 16, array of hvm_modlist_entry
    "cmdline_paddr" / Int64ul,   # offset 24, NUL-terminated ASCII
    "rsdp_paddr" / Int64ul,      # offset 32, ACPI RSDP
    "memmap_paddr" / Int64ul,    # offset 40 (version >= 1), array of hvm_memmap_table_entry
    "memmap_entries" / Int32ul,  # offset 48 (version >= 1)
    "reserved" / Int32ul,        # offset 52, must be zero
)

#: ``struct hvm_modlist_entry``, Xen public/arch-x86/hvm/start_info.h.
HvmModlistEntry = Struct(
    "paddr" / Int64ul,
    "size" / Int64ul,
    "cmdline_paddr" / Int64ul,
    "reserved" / Int64ul,
)

#: ``struct hvm_memmap_table_entry``, Xen public/arch-x86/hvm/start_info.h;
#: ``type`` decodes to a :class:`MemmapType` name (unknown values stay ints).
HvmMemmapEntry = Struct(
    "addr" / Int64ul,
    "size" / Int64ul,
    "type" / Enum(Int32ul, MemmapType),
    "reserved" / Int32ul,
)


def is_valid_start_info(info) -> bool:
    """True when a parsed :data:`HvmStartInfo` carries the PVH magic value."""
    return info.magic == XEN_HVM_START_MAGIC_VALUE
