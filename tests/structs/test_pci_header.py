"""The PCI type-0 configuration header layout (PCI Local Bus Specification 3.0, §6.1)."""

from rustos_dbg.devices.pci import qemu_pc_functions
from rustos_dbg.structs.bitfields import bit_fields
from rustos_dbg.structs.pci import BarKind, PciCommand, PciHeader, decode_bar


def test_the_standard_vga_header_round_trips_and_decodes():
    vga = qemu_pc_functions()[1]
    raw = bytes(vga.config[:64])
    h = PciHeader.parse(raw)
    assert PciHeader.build(h) == raw and PciHeader.sizeof() == 64
    assert (h.vendor_id, h.device_id, h.class_code, h.subclass, h.revision_id) == (0x1234, 0x1111, 3, 0, 2)
    assert h.command.memory_space and h.command.io_space and not h.command.bus_master
    assert h.bars[0] == 0xFD00_0008 and (h.subsystem_vendor_id, h.subsystem_id) == (0x1AF4, 0x1100)


def test_command_bits_sit_where_the_specification_puts_them():
    fields = bit_fields(PciCommand)
    assert fields["io_space"] == (0, 1) and fields["memory_space"] == (1, 1) and fields["bus_master"] == (2, 1)
    assert fields["interrupt_disable"] == (10, 1)


def test_bars_decode_kind_address_and_prefetchable():
    assert decode_bar(0xFD00_0008) == (BarKind.MEM32, 0xFD00_0000, True)
    assert decode_bar(0xFEBF_0000) == (BarKind.MEM32, 0xFEBF_0000, False)
    assert decode_bar(0x0000_C041) == (BarKind.IO, 0xC040, False)
    assert decode_bar(0xE000_000C) == (BarKind.MEM64, 0xE000_0000, True)
