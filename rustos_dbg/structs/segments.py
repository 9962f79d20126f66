"""Segment selectors and GDT/LDT descriptors as seen by a 64-bit kernel.

Contract: ``SegmentSelector`` (2 bytes), ``SegmentDescriptor`` (8 bytes, code or
data, S=1) and ``SystemSegmentDescriptor`` (16 bytes, 64-bit TSS/LDT, S=0)
parse and build the exact in-memory bytes; ``build(parse(b)) == b`` for every
``b`` of the right length.  Bit layouts are little-endian integers written as
``ByteSwapped(BitStruct(...))`` from the most-significant bit down.  Helpers
reassemble the split base/limit fields into ints.  Section numbers follow the
numbering explained in :mod:`rustos_dbg.structs`.
"""

from __future__ import annotations

import enum

from construct import BitsInteger, BitStruct, ByteSwapped, Enum, Flag

__all__ = [
    "SegmentSelector", "SegmentDescriptor", "SystemSegmentDescriptor",
    "SystemType", "SYSTEM_TYPE_NAMES",
    "descriptor_base", "descriptor_limit", "descriptor_limit_bytes",
    "system_descriptor_base",
]


class SystemType(enum.IntEnum):
    """Type field of a system descriptor (S=0) in IA-32e mode.

    Intel SDM Vol. 3A §3.5 System Descriptor Types, Table 3-2 (IA-32e mode
    column).  Gate types are shared with :mod:`rustos_dbg.structs.idt`.
    """

    LDT = 0x2
    TSS_AVAILABLE = 0x9
    TSS_BUSY = 0xB
    CALL_GATE = 0xC
    INTERRUPT_GATE = 0xE
    TRAP_GATE = 0xF


#: Human-readable names for :class:`SystemType` values (kept apart from the numbers).
SYSTEM_TYPE_NAMES: dict[SystemType, str] = {
    SystemType.LDT: "LDT",
    SystemType.TSS_AVAILABLE: "64-bit TSS (available)",
    SystemType.TSS_BUSY: "64-bit TSS (busy)",
    SystemType.CALL_GATE: "64-bit call gate",
    SystemType.INTERRUPT_GATE: "64-bit interrupt gate",
    SystemType.TRAP_GATE: "64-bit trap gate",
}


#: Segment selector, Intel SDM Vol. 3A §3.4.2 Segment Selectors (Figure 3-6).
SegmentSelector = ByteSwapped(BitStruct(
    "index" / BitsInteger(13),   # bits 15:3, descriptor index in the GDT/LDT
    "ti" / Flag,                 # bit 2, table indicator: 0 = GDT, 1 = LDT
    "rpl" / BitsInteger(2),      # bits 1:0, requested privilege level
))


def _descriptor_fields(type_fields: list) -> list:
    """The 64 bits shared by all 8-byte descriptors, with ``type_fields`` for bits 43:40.

    Intel SDM Vol. 3A §3.4.5 Segment Descriptors (Figure 3-8), declared once
    here and reused by the code/data and the system descriptor layouts.
    """
    return [
        "base_31_24" / BitsInteger(8),   # bits 63:56
        "g" / Flag,                      # bit 55, granularity (limit in 4 KiB units)
        "db" / Flag,                     # bit 54, default operation size (D/B)
        "l" / Flag,                      # bit 53, 64-bit code segment
        "avl" / Flag,                    # bit 52, available to software
        "limit_19_16" / BitsInteger(4),  # bits 51:48
        "p" / Flag,                      # bit 47, present
        "dpl" / BitsInteger(2),          # bits 46:45, descriptor privilege level
        "s" / Flag,                      # bit 44, 1 = code/data, 0 = system
        *type_fields,                    # bits 43:40
        "base_23_16" / BitsInteger(8),   # bits 39:32
        "base_15_0" / BitsInteger(16),   # bits 31:16
        "limit_15_0" / BitsInteger(16),  # bits 15:0
    ]


#: Code- or data-segment descriptor (S=1), Intel SDM Vol. 3A §3.4.5 Segment
#: Descriptors (Figure 3-8) and §3.4.5.1 Code- and Data-Segment Descriptor Types
#: (Table 3-1: type bit 11 = executable, 10 = conforming/expand-down,
#: 9 = readable/writable, 8 = accessed).
SegmentDescriptor = ByteSwapped(BitStruct(*_descriptor_fields([
    "executable" / Flag,   # bit 43
    "dc" / Flag,           # bit 42, conforming (code) / expand-down (data)
    "rw" / Flag,           # bit 41, readable (code) / writable (data)
    "accessed" / Flag,     # bit 40
])))

#: 16-byte system-segment descriptor (64-bit TSS or LDT), Intel SDM Vol. 3A
#: §7.2.3 TSS Descriptor in 64-bit mode (Figure 7-4).  Bits 63:0 share the
#: 8-byte descriptor layout with a 4-bit :class:`SystemType`; bits 127:64 hold
#: base 63:32 and a reserved dword whose bits 12:8 must be zero.
SystemSegmentDescriptor = ByteSwapped(BitStruct(
    "reserved_127_109" / BitsInteger(19),
    "zero_108_104" / BitsInteger(5),     # must be zero
    "reserved_103_96" / BitsInteger(8),
    "base_63_32" / BitsInteger(32),      # bits 95:64
    *_descriptor_fields(["type" / Enum(BitsInteger(4), SystemType)]),
))


def descriptor_base(desc) -> int:
    """Base address 31:0 of a parsed 8-byte (or the low half of a 16-byte) descriptor."""
    return (desc.base_31_24 << 24) | (desc.base_23_16 << 16) | desc.base_15_0


def descriptor_limit(desc) -> int:
    """Raw 20-bit limit field of a parsed descriptor (in bytes or 4 KiB units per G)."""
    return (desc.limit_19_16 << 16) | desc.limit_15_0


def descriptor_limit_bytes(desc) -> int:
    """Offset of the last byte of the segment: the limit scaled by the G flag.

    Intel SDM Vol. 3A §3.4.5: with G=1 the limit counts 4 KiB units and the low
    12 bits of the effective limit are all ones.
    """
    limit = descriptor_limit(desc)
    return (limit << 12) | 0xFFF if desc.g else limit


def system_descriptor_base(desc) -> int:
    """Full 64-bit base address of a parsed :data:`SystemSegmentDescriptor`."""
    return (desc.base_63_32 << 32) | descriptor_base(desc)
