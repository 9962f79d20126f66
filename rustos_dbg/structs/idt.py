"""64-bit IDT gate descriptors (interrupt and trap gates).

Contract: ``IdtGate`` parses and builds one 16-byte IDT entry exactly
(``build(parse(b)) == b``); ``gate_offset`` joins the three offset pieces into
the handler address and ``gate_offset_fields`` splits an address back into
them, so a gate can be built from a handler address.  Section numbers follow
the numbering explained in :mod:`rustos_dbg.structs`.
"""

from __future__ import annotations

from construct import BitsInteger, BitStruct, ByteSwapped, Enum, Flag

from .segments import SystemType

__all__ = ["IdtGate", "GATE_TYPES", "IDT_GATE_SIZE", "gate_offset", "gate_offset_fields"]

#: Size in bytes of one IDT entry in IA-32e mode.
IDT_GATE_SIZE = 16

#: Gate types valid in a 64-bit IDT (Intel SDM Vol. 3A §6.14.1).
GATE_TYPES = frozenset({SystemType.INTERRUPT_GATE, SystemType.TRAP_GATE})

#: 64-bit interrupt/trap gate, Intel SDM Vol. 3A §6.14.1 64-Bit Mode IDT
#: (Figure 6-8 "64-Bit IDT Gate Descriptors").  Type 0xE = interrupt gate
#: (clears IF on entry), 0xF = trap gate; IST selects an Interrupt Stack Table
#: slot 1..7 of the TSS, 0 meaning "no stack switch via IST".
IdtGate = ByteSwapped(BitStruct(
    "reserved" / BitsInteger(32),          # bits 127:96
    "offset_63_32" / BitsInteger(32),      # bits 95:64
    "offset_31_16" / BitsInteger(16),      # bits 63:48
    "p" / Flag,                            # bit 47, present
    "dpl" / BitsInteger(2),                # bits 46:45
    "zero_44" / BitsInteger(1),            # bit 44, must be 0 (S)
    "type" / Enum(BitsInteger(4), SystemType),  # bits 43:40
    "zero_39_35" / BitsInteger(5),         # bits 39:35, must be 0
    "ist" / BitsInteger(3),                # bits 34:32
    "selector" / BitsInteger(16),          # bits 31:16, code-segment selector
    "offset_15_0" / BitsInteger(16),       # bits 15:0
))


def gate_offset(gate) -> int:
    """Handler address (64-bit offset) of a parsed :data:`IdtGate`."""
    return (gate.offset_63_32 << 32) | (gate.offset_31_16 << 16) | gate.offset_15_0


def gate_offset_fields(address: int) -> dict[str, int]:
    """Split a 64-bit handler address into the ``IdtGate`` offset fields.

    The result can be merged into the dict passed to ``IdtGate.build``.
    """
    if not 0 <= address < 1 << 64:
        raise ValueError(f"handler address {address:#x} is not a 64-bit value")
    return {
        "offset_63_32": address >> 32,
        "offset_31_16": (address >> 16) & 0xFFFF,
        "offset_15_0": address & 0xFFFF,
    }
