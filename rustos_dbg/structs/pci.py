"""The PCI configuration space header.

Contract: ``PciHeader`` parses and builds the 64-byte type-0 configuration
header exactly (``build(parse(b)) == b``), per the PCI Local Bus Specification
3.0, §6.1 "Configuration Space Organization" (Figure 6-1, "Type 00h
Configuration Space Header"); ``PciCommand`` is the command register (§6.2.2,
Figure 6-2) and ``PciBar`` a base address register's low bits (§6.2.5.1,
Figures 6-5 and 6-6). :func:`decode_bar` reads a BAR's kind and address.
"""

from __future__ import annotations

import enum

from construct import Array, BitStruct, BitsInteger, Bytes, ByteSwapped, Flag, Int8ul, Int16ul, Int32ul, Struct

__all__ = ["PciCommand", "PciHeader", "PCI_HEADER_SIZE", "BarKind", "decode_bar", "CLASS_NAMES"]

PCI_HEADER_SIZE = 64

#: Command register (offset 04h), §6.2.2 Figure 6-2: bits 15-11 reserved.
PciCommand = ByteSwapped(BitStruct(
    "reserved" / BitsInteger(5),                # bits 15-11
    "interrupt_disable" / Flag,                 # bit 10
    "fast_back_to_back" / Flag,                 # bit 9
    "serr_enable" / Flag,                       # bit 8
    "idsel_stepping" / Flag,                    # bit 7 (hardwired 0 since 3.0)
    "parity_error_response" / Flag,             # bit 6
    "vga_palette_snoop" / Flag,                 # bit 5
    "memory_write_invalidate" / Flag,           # bit 4
    "special_cycles" / Flag,                    # bit 3
    "bus_master" / Flag,                        # bit 2
    "memory_space" / Flag,                      # bit 1
    "io_space" / Flag,                          # bit 0
))

#: Type 00h header, §6.1 Figure 6-1 (offsets in the comments).
PciHeader = Struct(
    "vendor_id" / Int16ul,                      # 00h
    "device_id" / Int16ul,                      # 02h
    "command" / PciCommand,                     # 04h
    "status" / Int16ul,                         # 06h
    "revision_id" / Int8ul,                     # 08h
    "prog_if" / Int8ul,                         # 09h, class code: programming interface
    "subclass" / Int8ul,                        # 0Ah, class code: sub-class
    "class_code" / Int8ul,                      # 0Bh, class code: base class
    "cache_line_size" / Int8ul,                 # 0Ch
    "latency_timer" / Int8ul,                   # 0Dh
    "header_type" / Int8ul,                     # 0Eh, bit 7: multi-function
    "bist" / Int8ul,                            # 0Fh
    "bars" / Array(6, Int32ul),                 # 10h-24h
    "cardbus_cis" / Int32ul,                    # 28h
    "subsystem_vendor_id" / Int16ul,            # 2Ch
    "subsystem_id" / Int16ul,                   # 2Eh
    "expansion_rom" / Int32ul,                  # 30h, bit 0: enabled
    "capabilities" / Int8ul,                    # 34h
    "reserved" / Bytes(7),                      # 35h-3Bh
    "interrupt_line" / Int8ul,                  # 3Ch
    "interrupt_pin" / Int8ul,                   # 3Dh
    "min_gnt" / Int8ul,                         # 3Eh
    "max_lat" / Int8ul,                         # 3Fh
)

#: A BAR's low bits, §6.2.5.1: bit 0 = I/O space; for memory, bits 2-1 the type, bit 3 prefetchable.
PciBar = ByteSwapped(BitStruct(
    "address_high" / BitsInteger(28),           # bits 31-4 (I/O: bits 31-2 with the next two)
    "prefetchable" / Flag,                      # bit 3 (memory)
    "type" / BitsInteger(2),                    # bits 2-1: 0 = 32-bit, 2 = 64-bit (memory)
    "io" / Flag,                                # bit 0
))


class BarKind(enum.Enum):
    """What a BAR decodes."""

    IO = "I/O"
    MEM32 = "32 bit memory"
    MEM64 = "64 bit memory"


def decode_bar(raw: int) -> tuple[BarKind, int, bool]:
    """(kind, address, prefetchable) of a BAR's value (the upper half of a 64-bit BAR not joined)."""
    bar = PciBar.parse(raw.to_bytes(4, "little"))
    if bar.io:
        return BarKind.IO, raw & ~0x3, False
    return (BarKind.MEM64 if bar.type == 2 else BarKind.MEM32), raw & ~0xF, bar.prefetchable


#: Base class codes (PCI Code and ID Assignment Specification), the ones QEMU's PC shows.
CLASS_NAMES = {(0x06, 0x00): "Host bridge", (0x06, 0x01): "ISA bridge", (0x06, 0x80): "Bridge",
               (0x01, 0x01): "IDE controller", (0x03, 0x00): "VGA controller", (0x02, 0x00): "Ethernet controller"}
