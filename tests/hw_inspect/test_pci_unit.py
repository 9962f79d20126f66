"""The ``pci`` inspector over the emulator's configuration space."""

import json

import pytest

from rustos_dbg.devices.pci import PciConfig
from rustos_dbg.inspect.hw.pci import decode_pci, format_pci, to_json


def test_the_report_lists_the_bridge_and_the_vga_with_its_bars():
    report = decode_pci(PciConfig().listing())
    bridge, vga = report.functions
    assert (bridge.vendor_id, bridge.device_id, bridge.class_name) == (0x8086, 0x1237, "Host bridge")
    assert (vga.device, vga.class_code, vga.class_name) == (2, 0x030000, "VGA controller")
    bar0, bar2, rom = vga.bars
    assert (bar0.index, bar0.address, bar0.size, bar0.prefetchable, bar0.enabled) == (0, 0xFD00_0000, 16 << 20, True, True)
    assert (bar2.address, bar2.size) == (0xFEBF_0000, 4096) and not rom.enabled
    text = format_pci(report)
    assert "VGA controller: PCI device 1234:1111" in text
    assert "BAR0: 32 bit memory prefetchable at 0xfd000000 [0xfdffffff], 16 MiB" in text
    assert json.loads(to_json(report))["functions"][1]["bars"][0]["end"] == 0xFDFF_FFFF


def test_memory_decoding_off_shows_in_the_bars():
    pci = PciConfig()
    pci.write(0xCF8, 4, 0x8000_1004)
    pci.write(0xCFC, 2, 0)
    vga = decode_pci(pci.listing()).functions[1]
    assert vga.command == () and not vga.bars[0].enabled
    assert "(not decoded)" in format_pci(decode_pci(pci.listing()))


def test_a_short_header_is_a_clear_error():
    with pytest.raises(ValueError, match="a header is 64"):
        decode_pci([((0, 0, 0), b"\x86\x80", {})])
