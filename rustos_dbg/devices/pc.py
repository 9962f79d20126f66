"""The standard set of PC devices on one ``PortBus``.

``build_pc(read_phys=None, clock=None, ...)`` returns a ``PcDevices`` with
each device as an attribute and ``bus`` holding them all; its ``snapshot()``
is the state of every device as one immutable value, ``restore()`` puts it
back.  Interrupt wiring:
the PIT (IRQ0), the 8042 (IRQ1 keyboard, IRQ12 mouse), the UART (IRQ4) and
the RTC (IRQ8) and the ATA channel (IRQ14, its master the ``disk`` image
when one is given) drive lines of ``pic``. PCI configuration space (``pci``)
lists the host bridge and the standard VGA, whose Bochs VBE registers
(``vbe``) display the video memory ``vram`` (the machine's, mapped at the
VGA's BAR0; a :class:`~.vbe.BufferVram` when none is given); the machine asks ``pic.pending()``
between emulation slices and, when the guest accepts interrupts, takes the
vector from ``pic.acknowledge()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .ata import AtaChannel
from .bus import PortBus
from .base import freeze, thaw
from .cmos import Cmos
from .debug_exit import DebugExit
from .i8042 import I8042
from .misc import FastA20, PostPort, SystemControlB
from .pci import PciConfig
from .pic import Pic
from .pit import Pit
from .uart import Uart16550
from .vbe import BochsVbe, BufferVram
from .vga import VgaText


@dataclass
class PcDevices:
    """The devices of the emulated PC and the bus they sit on."""

    bus: PortBus
    pic: Pic
    pit: Pit
    i8042: I8042
    uart: Uart16550
    vga: VgaText
    cmos: Cmos
    debug_exit: DebugExit
    post: PostPort
    port61: SystemControlB
    port92: FastA20
    ata: AtaChannel
    pci: PciConfig
    vbe: BochsVbe

    def snapshot(self):
        """Every device's state (and its interrupt lines'), as one immutable value."""
        return freeze(self.bus.snapshot())

    def restore(self, state) -> None:
        """Puts back a :meth:`snapshot`."""
        self.bus.restore(thaw(state))


def build_pc(
    read_phys: Callable[[int, int], bytes] | None = None,
    clock: Callable[[], int] | None = None,
    on_tx: Callable[[int], None] | None = None,
    memory_bytes: int = 128 << 20,
    strict: bool = False,
    disk=None,
    vram=None,
) -> PcDevices:
    """Create and wire all devices on a new bus."""
    pic = Pic()
    pit = Pit(pic)
    vga = VgaText(read_phys)
    devices = PcDevices(
        bus=PortBus(clock=clock, strict=strict),
        pic=pic,
        pit=pit,
        i8042=I8042(pic),
        uart=Uart16550(pic, on_tx=on_tx),
        vga=vga,
        cmos=Cmos(pic, memory_bytes=memory_bytes),
        debug_exit=DebugExit(),
        post=PostPort(),
        port61=SystemControlB(pit),
        port92=FastA20(),
        ata=AtaChannel(pic, disk),
        pci=PciConfig(),
        vbe=BochsVbe(BufferVram() if vram is None else vram, vga),
    )
    for name in ("pic", "pit", "i8042", "uart", "vga", "cmos", "debug_exit",
                 "post", "port61", "port92", "ata", "pci", "vbe"):
        devices.bus.register(getattr(devices, name))
    return devices
