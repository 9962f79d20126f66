"""PCI configuration mechanism #1: the host bridge and the standard VGA as QEMU's firmware leaves them."""

from rustos_dbg.devices import build_pc
from rustos_dbg.devices.base import freeze, thaw
from rustos_dbg.devices.pci import PciConfig

from .util import bus_with


def config_read(bus, dev, offset, size=4, fn=0):
    bus.write(0xCF8, 4, 0x8000_0000 | dev << 11 | fn << 8 | (offset & 0xFC))
    return bus.read(0xCFC + (offset & 3), size)


def config_write(bus, dev, offset, value, size=4, fn=0):
    bus.write(0xCF8, 4, 0x8000_0000 | dev << 11 | fn << 8 | (offset & 0xFC))
    bus.write(0xCFC + (offset & 3), size, value)


def test_enumeration_finds_the_host_bridge_and_the_vga_as_qemu_lists_them():
    bus = bus_with(PciConfig())
    found = {dev: config_read(bus, dev, 0) for dev in range(32) if config_read(bus, dev, 0) != 0xFFFF_FFFF}
    assert found == {0: 0x1237_8086, 2: 0x1111_1234}
    assert config_read(bus, 2, 0x08) >> 8 == 0x030000 and config_read(bus, 2, 0x08) & 0xFF == 0x02
    assert config_read(bus, 0, 0x08) >> 8 == 0x060000
    assert config_read(bus, 2, 0x2C) == 0x1100_1AF4
    assert config_read(bus, 2, 0x10) == 0xFD00_0008          # 32-bit prefetchable memory
    assert config_read(bus, 2, 0x18) == 0xFEBF_0000
    assert config_read(bus, 2, 0x04, 2) & 0x3 == 0x3         # I/O and memory decoding on
    assert config_read(bus, 2, 0x02, 2) == 0x1111 and config_read(bus, 2, 0x03, 1) == 0x11


def test_absent_functions_and_disabled_addresses_read_all_ones():
    bus = bus_with(PciConfig())
    assert config_read(bus, 2, 0, fn=1) == 0xFFFF_FFFF
    bus.write(0xCF8, 4, 2 << 11)                             # no enable bit
    assert bus.read(0xCFC, 4) == 0xFFFF_FFFF
    assert bus.read(0xCF8, 4) == 2 << 11


def test_bar_sizing_reads_back_the_size_mask_and_the_address_can_be_put_back():
    bus = bus_with(PciConfig())
    config_write(bus, 2, 0x04, 0x0001, 2)                    # memory decoding off, as a careful guest does
    config_write(bus, 2, 0x10, 0xFFFF_FFFF)
    assert config_read(bus, 2, 0x10) == 0xFF00_0008          # 16 MiB
    config_write(bus, 2, 0x18, 0xFFFF_FFFF)
    assert config_read(bus, 2, 0x18) == 0xFFFF_F000          # 4 KiB
    config_write(bus, 2, 0x30, 0xFFFF_FFFF)
    assert config_read(bus, 2, 0x30) == 0xFFFF_0001          # 64 KiB ROM
    config_write(bus, 2, 0x10, 0xFD00_0000)
    assert config_read(bus, 2, 0x10) == 0xFD00_0008
    config_write(bus, 2, 0x00, 0)                            # IDs are read-only
    assert config_read(bus, 2, 0x00) == 0x1111_1234


def test_bar0_decodes_only_with_memory_decoding_on_and_a_real_address():
    seen = []
    pci = PciConfig(on_config=lambda f: seen.append(f.memory_bar(0)) if f.name == "VGA" else None)
    bus = bus_with(pci)
    config_write(bus, 2, 0x04, 0x0001, 2)
    assert seen[-1] is None
    config_write(bus, 2, 0x04, 0x0003, 2)
    assert seen[-1] == 0xFD00_0000
    config_write(bus, 2, 0x10, 0xFFFF_FFFF)
    assert seen[-1] is None                                  # the sizing pattern maps nothing
    config_write(bus, 2, 0x10, 0xE000_0000)
    assert seen[-1] == 0xE000_0000


def test_snapshot_and_restore_carry_the_configuration_space():
    seen = []
    pci = PciConfig(on_config=lambda f: seen.append((f.name, f.memory_bar(0))))
    bus = bus_with(pci)
    state = freeze(pci.snapshot())
    config_write(bus, 2, 0x10, 0xE000_0000)
    config_write(bus, 2, 0x3C, 0x0B, 1)
    bus.write(0xCF8, 4, 0x8000_0000)
    pci.restore(thaw(state))
    assert config_read(bus, 2, 0x10) == 0xFD00_0008 and config_read(bus, 2, 0x3C, 1) == 0
    assert ("VGA", 0xFD00_0000) in seen[-2:]                 # the mapping follows the restored BAR
    assert freeze(pci.snapshot())["config"] == state["config"]


def test_the_pc_has_pci_and_vbe_on_its_bus():
    pc = build_pc()
    assert pc.bus.owner(0xCFC) is pc.pci and pc.bus.owner(0x1CE) is pc.vbe
