"""PCI configuration space, mechanism #1 (ports 0xCF8/0xCFC), with the functions of QEMU's PC.

Contract: :class:`PciConfig` is the device on ports 0xCF8-0xCFF. A 32-bit
write to 0xCF8 sets CONFIG_ADDRESS (bit 31 enable, bus 23:16, device 15:11,
function 10:8, register 7:2); 0xCFC-0xCFF read and write that register of
the addressed function, 1, 2 or 4 bytes at ``0xCFC + (offset & 3)`` (PCI
Local Bus Specification 3.0, §3.2.2.3.2). A function that does not exist,
or an address without the enable bit, reads all-ones and ignores writes.
0xCF8 reads back CONFIG_ADDRESS with a 32-bit access only.

Each :class:`PciFunction` keeps its 256-byte configuration space and a
mask of writable bits, as QEMU does: the type-0 header (spec §6.1, laid out
in :mod:`rustos_dbg.structs.pci`) with the command register, cache line
size, latency timer, interrupt line, and BARs whose low bits are their
size: writing 0xFFFFFFFF and reading back gives ``~(size - 1) | flags``
(spec §6.2.5.1). ``on_config(function)`` is called after every write to a
function (the machine maps the VGA's BAR0 from it) and after a restore.

:func:`qemu_pc_functions` are the two functions of QEMU's ``pc`` machine
that the emulator has, as QEMU's firmware leaves them (``info pci``): the
i440FX host bridge (8086:1237) at 00:00.0 and the standard VGA (1234:1111,
class 0x030000) at 00:02.0 with BAR0 the 16 MiB linear framebuffer at
0xFD000000 (32-bit prefetchable memory), BAR2 its 4 KiB register block at
0xFEBF0000 (listed, not emulated) and a disabled 64 KiB expansion ROM BAR.
QEMU's PIIX3 functions (ISA bridge, IDE, ACPI) and its network card are not
listed.

State: CONFIG_ADDRESS and every function's configuration space.
"""

from __future__ import annotations

from typing import Callable

from .base import ALL_ONES, Device

CONFIG_ADDRESS, CONFIG_DATA = 0xCF8, 0xCFC
ENABLE = 1 << 31

#: Header offsets used here (PCI Local Bus Specification 3.0, §6.1, Figure 6-1).
VENDOR, DEVICE, COMMAND, STATUS, REVISION, PROG_IF, CLASS = 0x00, 0x02, 0x04, 0x06, 0x08, 0x09, 0x0A
CACHE_LINE, LATENCY, HEADER_TYPE, BAR0, SUBSYS_VENDOR, SUBSYS_ID = 0x0C, 0x0D, 0x0E, 0x10, 0x2C, 0x2E
ROM_BAR, INTERRUPT_LINE, INTERRUPT_PIN = 0x30, 0x3C, 0x3D
#: Command register bits (§6.2.2).
CMD_IO, CMD_MEMORY = 0x1, 0x2
#: BAR type bits (§6.2.5.1): memory BARs, 32-bit, prefetchable.
BAR_PREFETCHABLE = 0x8
#: QEMU's subsystem IDs on its PC machine (Red Hat, QEMU).
QEMU_SUBSYSTEM = (0x1AF4, 0x1100)


class PciFunction:
    """One PCI function: its configuration space, writable bits and BAR sizes."""

    def __init__(self, name: str, slot: tuple[int, int, int], vendor: int, device: int, class_code: int,
                 revision: int = 0, subsystem: tuple[int, int] = QEMU_SUBSYSTEM, command: int = 0) -> None:
        """A type-0 header at ``slot`` = (bus, device, function); ``class_code`` is
        the 24-bit class, subclass and programming interface."""
        self.name, self.slot = name, slot
        self.config = bytearray(256)
        self.wmask = bytearray(256)
        #: Sizes of the BARs by index (0-5, 6 = the expansion ROM).
        self.bar_sizes: dict[int, int] = {}
        self._put(VENDOR, 2, vendor)
        self._put(DEVICE, 2, device)
        self._put(COMMAND, 2, command)
        self._put(REVISION, 1, revision)
        self._put(PROG_IF, 3, class_code)
        self._put(SUBSYS_VENDOR, 2, subsystem[0])
        self._put(SUBSYS_ID, 2, subsystem[1])
        for offset, size, mask in ((COMMAND, 2, 0x0547), (CACHE_LINE, 1, 0xFF), (LATENCY, 1, 0xFF),
                                   (INTERRUPT_LINE, 1, 0xFF)):
            self._put(offset, size, mask, self.wmask)

    def _put(self, offset: int, size: int, value: int, into: bytearray | None = None) -> None:
        (self.config if into is None else into)[offset:offset + size] = value.to_bytes(size, "little")

    def get(self, offset: int, size: int) -> int:
        """The ``size``-byte little-endian register at ``offset``."""
        return int.from_bytes(self.config[offset:offset + size], "little")

    def add_bar(self, index: int, size: int, address: int, flags: int = 0) -> None:
        """A 32-bit memory BAR ``index`` (0-5) of ``size`` bytes (a power of two) at ``address``."""
        offset = BAR0 + 4 * index
        self.bar_sizes[index] = size
        self._put(offset, 4, (address & ~(size - 1)) | flags)
        self._put(offset, 4, ~(size - 1) & 0xFFFF_FFF0, self.wmask)

    def add_rom(self, size: int) -> None:
        """An expansion ROM BAR of ``size`` bytes, unassigned and disabled."""
        self.bar_sizes[6] = size
        self._put(ROM_BAR, 4, (~(size - 1) & 0xFFFF_F800) | 1, self.wmask)

    def bar(self, index: int) -> int:
        """The address BAR ``index`` holds (type bits cleared)."""
        return self.get(BAR0 + 4 * index, 4) & ~0xF

    def read(self, offset: int, size: int) -> int:
        """A configuration read (within one dword)."""
        return self.get(offset, size)

    def write(self, offset: int, size: int, value: int) -> None:
        """A configuration write: only the writable bits change."""
        for i in range(size):
            mask = self.wmask[offset + i]
            byte = (value >> (8 * i)) & 0xFF
            self.config[offset + i] = (self.config[offset + i] & ~mask) | (byte & mask)

    def memory_bar(self, index: int) -> int | None:
        """Where memory BAR ``index`` decodes now: None while memory decoding is off
        or the BAR holds no usable address (0, or its sizing pattern), as QEMU decides."""
        size = self.bar_sizes.get(index)
        address = self.bar(index)
        if size is None or not self.get(COMMAND, 2) & CMD_MEMORY:
            return None
        if address == 0 or address + size - 1 >= 0xFFFF_FFFF:
            return None
        return address


def qemu_pc_functions() -> list[PciFunction]:
    """The i440FX host bridge and the standard VGA, as QEMU's firmware leaves them."""
    bridge = PciFunction("host bridge", (0, 0, 0), 0x8086, 0x1237, 0x060000, revision=0x02)
    vga = PciFunction("VGA", (0, 2, 0), 0x1234, 0x1111, 0x030000, revision=0x02, command=CMD_IO | CMD_MEMORY)
    vga.add_bar(0, 16 << 20, 0xFD00_0000, BAR_PREFETCHABLE)
    vga.add_bar(2, 4096, 0xFEBF_0000)
    vga.add_rom(64 << 10)
    return [bridge, vga]


class PciConfig(Device):
    """Configuration mechanism #1 over a set of :class:`PciFunction`."""

    name = "pci"
    ports = tuple(range(CONFIG_ADDRESS, CONFIG_DATA + 4))
    access_sizes = (1, 2, 4)

    def __init__(self, functions: list[PciFunction] | None = None,
                 on_config: Callable[[PciFunction], None] | None = None) -> None:
        """The functions on bus 0 (default: :func:`qemu_pc_functions`)."""
        super().__init__()
        self.functions = {f.slot: f for f in (qemu_pc_functions() if functions is None else functions)}
        self.address = 0
        self.on_config = on_config

    def function(self, name: str) -> PciFunction:
        """The function called ``name`` (KeyError if none)."""
        for function in self.functions.values():
            if function.name == name:
                return function
        raise KeyError(name)

    def listing(self) -> list[tuple[tuple[int, int, int], bytes, dict[int, int]]]:
        """Every function as (slot, its 256-byte configuration space, its BAR sizes by
        index), read without a guest access (CONFIG_ADDRESS stays as it is)."""
        return [(slot, bytes(f.config), dict(f.bar_sizes)) for slot, f in sorted(self.functions.items())]

    def _selected(self) -> tuple[PciFunction | None, int]:
        """The addressed function (None if absent or disabled) and the register offset."""
        if not self.address & ENABLE:
            return None, 0
        slot = ((self.address >> 16) & 0xFF, (self.address >> 11) & 0x1F, (self.address >> 8) & 0x7)
        return self.functions.get(slot), self.address & 0xFC

    def read(self, port: int, size: int) -> int:
        """CONFIG_ADDRESS (32-bit at 0xCF8) or the addressed register."""
        if port == CONFIG_ADDRESS and size == 4:
            return self.address
        function, offset = self._selected()
        if port < CONFIG_DATA or function is None:
            return ALL_ONES[size]
        at = offset + (port - CONFIG_DATA)
        return function.read(at, min(size, 256 - at))

    def write(self, port: int, size: int, value: int) -> None:
        """Sets CONFIG_ADDRESS (32-bit at 0xCF8) or writes the addressed register."""
        if port == CONFIG_ADDRESS and size == 4:
            self.address = value & 0x80FF_FFFC
            return
        function, offset = self._selected()
        if port < CONFIG_DATA or function is None:
            return
        at = offset + (port - CONFIG_DATA)
        function.write(at, min(size, 256 - at), value)
        if self.on_config is not None:
            self.on_config(function)

    def snapshot(self) -> dict:
        """CONFIG_ADDRESS and every function's configuration space."""
        state = super().snapshot()
        state["address"] = self.address
        state["config"] = {f"{b:02x}:{d:02x}.{fn}": bytes(f.config) for (b, d, fn), f in self.functions.items()}
        return state

    def restore(self, state: dict) -> None:
        """Puts back a :meth:`snapshot` (and tells ``on_config`` of every function)."""
        super().restore(state)
        self.address = state.get("address", self.address)
        for (b, d, fn), function in self.functions.items():
            saved = state.get("config", {}).get(f"{b:02x}:{d:02x}.{fn}")
            if saved is not None:
                function.config[:] = bytes(saved)
            if self.on_config is not None:
                self.on_config(function)
