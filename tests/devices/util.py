"""Helpers shared by the device tests: program devices as the kernel does."""

from rustos_dbg.devices import Pic, PortBus


def init_pic(pic: Pic, master_mask: int = 0x00, slave_mask: int = 0x00) -> None:
    """The kernel's 8259 remap: vectors 0x20/0x28, cascade on IRQ2, 8086 mode."""
    for port, value in ((0x20, 0x11), (0xA0, 0x11), (0x21, 0x20), (0xA1, 0x28),
                        (0x21, 0x04), (0xA1, 0x02), (0x21, 0x01), (0xA1, 0x01),
                        (0x21, master_mask), (0xA1, slave_mask)):
        pic.write(port, 1, value)


def eoi(pic: Pic, vector: int) -> None:
    """End of interrupt as the kernel sends it (slave first for 0x28-0x2F)."""
    if vector >= 0x28:
        pic.write(0xA0, 1, 0x20)
    pic.write(0x20, 1, 0x20)


def bus_with(*devices) -> PortBus:
    """A strict bus holding ``devices``."""
    return PortBus(devices, strict=True)
