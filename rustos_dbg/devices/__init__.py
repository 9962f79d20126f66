"""Devices of the emulated PC, as small pure-Python classes behind one port bus.

No module in this package imports Unicorn: the machine feeds guest IN/OUT to
``PortBus.read``/``write``, ticks the bus with the virtual time, and asks the
``Pic`` for vectors.  See ``base`` for the device contract and ``pc`` for the
standard wiring.
"""

from .base import Device, IrqLine
from .bus import PortBus, UnknownAccess
from .cmos import Cmos
from .debug_exit import DebugExit
from .i8042 import I8042
from .keyboard import Keyboard, scancodes_for_press, scancodes_for_text
from .misc import FastA20, PostPort, SystemControlB
from .pc import PcDevices, build_pc
from .pci import PciConfig, PciFunction
from .pic import Pic
from .pit import Pit
from .uart import Uart16550
from .vbe import BochsVbe
from .vga import VgaText

__all__ = [
    "BochsVbe", "Cmos", "DebugExit", "Device", "FastA20", "I8042", "IrqLine", "Keyboard",
    "PcDevices", "PciConfig", "PciFunction", "Pic", "Pit", "PortBus", "PostPort", "SystemControlB",
    "Uart16550", "UnknownAccess", "VgaText", "build_pc", "scancodes_for_press",
    "scancodes_for_text",
]
