"""PCI inspector (``pci``): the functions on the bus and their BARs, decoded from configuration space.

Contract: :func:`decode_pci` takes the functions as (slot, configuration
space bytes, BAR sizes by index) — ``PciConfig.listing()`` of the machine's
PCI device, read without touching CONFIG_ADDRESS — and returns a
:class:`PciReport`: per function the IDs, class, revision, command bits,
interrupt line/pin and each implemented BAR (kind, address, size,
prefetchable, enabled for the ROM), parsed with
:data:`rustos_dbg.structs.pci.PciHeader`. A header shorter than 64 bytes is
a :class:`ValueError`. Views: :func:`format_pci` (QEMU's ``info pci`` style),
``to_json``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...structs.pci import CLASS_NAMES, PCI_HEADER_SIZE, BarKind, PciHeader, decode_bar
from ..jsonview import to_json

__all__ = ["PciBarInfo", "PciFunctionInfo", "PciReport", "decode_pci", "format_pci", "to_json"]


@dataclass(frozen=True)
class PciBarInfo:
    """One implemented BAR (index 6: the expansion ROM)."""

    index: int
    kind: str
    address: int
    size: int
    prefetchable: bool
    enabled: bool   #: decoded: memory/I/O space on in the command register (the ROM: its enable bit too)

    JSON_EXTRA = ("end",)

    @property
    def end(self) -> int:
        return self.address + self.size - 1


@dataclass(frozen=True)
class PciFunctionInfo:
    """One function's header."""

    bus: int
    device: int
    function: int
    vendor_id: int
    device_id: int
    class_code: int     #: base class, sub-class, programming interface (24 bits)
    class_name: str
    revision: int
    subsystem: tuple[int, int]
    command: tuple[str, ...]   #: the command bits that are set
    interrupt_line: int
    interrupt_pin: int
    bars: tuple[PciBarInfo, ...]


@dataclass(frozen=True)
class PciReport:
    """Every function on the bus."""

    functions: tuple[PciFunctionInfo, ...]


def _function(slot, config: bytes, sizes: dict[int, int]) -> PciFunctionInfo:
    if len(config) < PCI_HEADER_SIZE:
        raise ValueError(f"PCI {slot}: {len(config)} bytes of configuration space, a header is {PCI_HEADER_SIZE}")
    h = PciHeader.parse(config[:PCI_HEADER_SIZE])
    command = tuple(name for name, value in h.command.items() if not name.startswith("_") and value is True)
    bars = []
    for index, size in sorted(sizes.items()):
        if index == 6:
            raw = h.expansion_rom
            bars.append(PciBarInfo(6, "ROM", raw & ~0x7FF, size, False, bool(raw & 1) and h.command.memory_space))
            continue
        kind, address, prefetchable = decode_bar(h.bars[index])
        space = h.command.io_space if kind is BarKind.IO else h.command.memory_space
        bars.append(PciBarInfo(index, kind.value, address, size, prefetchable, space))
    class_code = h.class_code << 16 | h.subclass << 8 | h.prog_if
    return PciFunctionInfo(slot[0], slot[1], slot[2], h.vendor_id, h.device_id, class_code,
                           CLASS_NAMES.get((h.class_code, h.subclass), f"class {class_code:06x}"), h.revision_id,
                           (h.subsystem_vendor_id, h.subsystem_id), command, h.interrupt_line, h.interrupt_pin,
                           tuple(bars))


def decode_pci(functions) -> PciReport:
    """The report of ``functions`` (see the module)."""
    return PciReport(tuple(_function(slot, config, sizes) for slot, config, sizes in functions))


def format_pci(report: PciReport) -> str:
    """Text in the manner of QEMU's ``info pci``."""
    lines = []
    for f in report.functions:
        lines.append(f"  Bus {f.bus:2d}, device {f.device:3d}, function {f.function}:")
        lines.append(f"    {f.class_name}: PCI device {f.vendor_id:04x}:{f.device_id:04x} "
                     f"(class {f.class_code:06x}, rev {f.revision:02x})")
        lines.append(f"      PCI subsystem {f.subsystem[0]:04x}:{f.subsystem[1]:04x}")
        lines.append(f"      command: {', '.join(f.command) or 'none'}")
        if f.interrupt_pin:
            lines.append(f"      IRQ {f.interrupt_line}, pin {chr(ord('A') + f.interrupt_pin - 1)}")
        for b in f.bars:
            name = "ROM" if b.index == 6 else f"BAR{b.index}"
            kind = "expansion ROM" if b.index == 6 else b.kind + (" prefetchable" if b.prefetchable else "")
            where = f"at {b.address:#x} [{b.end:#x}]" if b.address else "unassigned"
            state = "" if b.enabled else " (not decoded)"
            lines.append(f"      {name}: {kind} {where}, {_size(b.size)}{state}")
    return "\n".join(lines) if lines else "no PCI functions"


def _size(n: int) -> str:
    for unit, shift in (("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} bytes"
