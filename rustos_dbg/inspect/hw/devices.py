"""Device inspector (``devices``): PIC, PIT, UART and 8042 state, decoded.

Contract: ``decode_devices(snapshots)`` takes the devices' ``snapshot()``
dicts (keys ``pic``, ``pit``, ``uart``, ``i8042``; ``snapshot_devices(pc)``
collects them from a ``PcDevices``) and returns a :class:`DeviceReport`:
PIC IRR/ISR/IMR (both chips and as 16 IRQ lines) with the vector bases;
each PIT channel's mode, divisor and frequency; the UART's divisor and baud,
IER/LCR/MCR/LSR/IIR decoded and the input bytes not yet read; the 8042's
status and configuration bytes decoded and the bytes queued for the guest.
A missing device gives ``None``.  Bit names follow the 8259A, 8254, 16550A
and 8042 data sheets as used by ``rustos_dbg.devices``.  Views:
``format_devices``, ``to_json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

from .common import IRQ_NAMES, to_json

__all__ = ["PicChip", "PicState", "PitChannel", "PitState", "UartState", "I8042State",
           "DeviceReport", "snapshot_devices", "decode_devices", "format_devices", "to_json",
           "PIT_HZ", "UART_CLOCK_BAUD"]

PIT_HZ = 1_193_182          #: 8254 input clock
UART_CLOCK_BAUD = 115_200   #: 16550 baud at divisor 1

_PIT_MODES = {0: "interrupt on terminal count", 1: "hardware one-shot", 2: "rate generator",
              3: "square wave", 4: "software strobe", 5: "hardware strobe"}
_PIT_ACCESS = {0: "latch", 1: "lobyte", 2: "hibyte", 3: "lobyte/hibyte"}
_IER = {0: "RX data", 1: "THR empty", 2: "line status", 3: "modem status"}
_MCR = {0: "DTR", 1: "RTS", 2: "OUT1", 3: "OUT2", 4: "LOOP"}
_LSR = {0: "DR", 1: "OE", 2: "PE", 3: "FE", 4: "BI", 5: "THRE", 6: "TEMT", 7: "FIFO error"}
_IIR = {0x0: "modem status", 0x1: "none pending", 0x2: "THR empty", 0x4: "RX data",
        0x6: "line status", 0xC: "RX timeout"}
_STATUS = {0: "OBF", 1: "IBF", 2: "SYS", 3: "CMD", 4: "UNLOCKED", 5: "AUX_OBF", 6: "TIMEOUT",
           7: "PARITY"}
_CONFIG = {0: "KBD_INT", 1: "AUX_INT", 2: "SYS", 4: "KBD_DISABLE", 5: "AUX_DISABLE",
           6: "TRANSLATE"}


def _bits(value: int, names: Mapping[int, str]) -> tuple[str, ...]:
    return tuple(name for bit, name in sorted(names.items()) if value >> bit & 1)


def _lines(mask: int) -> tuple[int, ...]:
    return tuple(i for i in range(16) if mask >> i & 1)


@dataclass(frozen=True)
class PicChip:
    """One 8259A."""

    irr: int
    isr: int
    imr: int
    base: int          #: vector of its line 0 (ICW2)
    auto_eoi: bool


@dataclass(frozen=True)
class PicState:
    """The master/slave pair as 16 IRQ lines."""

    master: PicChip
    slave: PicChip
    irr: int
    isr: int
    imr: int
    requested: tuple[int, ...]
    in_service: tuple[int, ...]
    unmasked: tuple[int, ...]
    pending: bool
    spurious: int


@dataclass(frozen=True)
class PitChannel:
    """One 8254 counter."""

    index: int
    mode: int
    mode_name: str
    access: str
    bcd: bool
    divisor: int          #: reload value (0 means 65536)
    frequency_hz: Optional[float]
    loaded: bool
    gate: bool


@dataclass(frozen=True)
class PitState:
    """All counters and channel 0's IRQ count."""

    channels: tuple[PitChannel, ...]
    irq_count: Optional[int]


@dataclass(frozen=True)
class UartState:
    """The 16550 registers."""

    divisor: int
    baud: int
    ier: int
    ier_flags: tuple[str, ...]
    lcr: int
    line: str             #: ``8N1`` style
    dlab: bool
    mcr: int
    mcr_flags: tuple[str, ...]
    lsr: Optional[int]
    lsr_flags: tuple[str, ...]
    iir: Optional[int]
    iir_name: Optional[str]
    pending_input: bytes  #: received bytes the guest has not read
    tx_count: Optional[int]


@dataclass(frozen=True)
class I8042State:
    """The PS/2 controller and the bytes waiting for the guest."""

    status: int
    status_flags: tuple[str, ...]
    config: int
    config_flags: tuple[str, ...]
    output_buffer: Optional[int]      #: byte in the output buffer (when OBF)
    queued: tuple[int, ...]           #: keyboard bytes behind it (raw, before translation)
    translate: bool                   #: controller translates set 2 to set 1
    scancode_set: Optional[int]


@dataclass(frozen=True)
class DeviceReport:
    """All decoded devices (None where a snapshot was missing)."""

    pic: Optional[PicState]
    pit: Optional[PitState]
    uart: Optional[UartState]
    i8042: Optional[I8042State]


def snapshot_devices(devices) -> dict[str, dict]:
    """``snapshot()`` of the pic, pit, uart and i8042 attributes of ``devices``."""
    return {n: getattr(devices, n).snapshot() for n in ("pic", "pit", "uart", "i8042")
            if getattr(devices, n, None) is not None}


def _pic(s: dict) -> PicState:
    chips = [PicChip(c["irr"], c["isr"], c["imr"], c["base"], bool(c.get("auto_eoi")))
             for c in (s["master"], s["slave"])]
    irr = s.get("irr", chips[0].irr | chips[1].irr << 8)
    isr = s.get("isr", chips[0].isr | chips[1].isr << 8)
    imr = s.get("imr", chips[0].imr | chips[1].imr << 8)
    return PicState(chips[0], chips[1], irr, isr, imr, _lines(irr), _lines(isr),
                    _lines(~imr & 0xFFFF), bool(s.get("pending")), s.get("spurious", 0))


def _pit(s: dict) -> PitState:
    out = []
    for i, c in enumerate(s["channels"]):
        divisor = c["count"] or 0x10000
        out.append(PitChannel(i, c["mode"], _PIT_MODES.get(c["mode"], f"mode {c['mode']}"),
                              _PIT_ACCESS.get(c["access"], str(c["access"])), bool(c["bcd"]),
                              divisor & 0xFFFF, PIT_HZ / divisor if c["loaded"] else None,
                              bool(c["loaded"]), bool(c["gate"])))
    return PitState(tuple(out), s.get("irq_count"))


def _uart(s: dict) -> UartState:
    divisor = s["dll"] | s["dlm"] << 8
    lcr = s["lcr"]
    parity = "N" if not lcr & 0x08 else {0: "O", 1: "E", 2: "M", 3: "S"}[(lcr >> 4) & 3]
    stop = "1" if not lcr & 0x04 else ("1.5" if lcr & 3 == 0 else "2")
    lsr, iir = s.get("lsr"), s.get("iir")
    return UartState(divisor, s.get("baud", UART_CLOCK_BAUD // divisor if divisor else 0),
                     s["ier"], _bits(s["ier"], _IER), lcr, f"{(lcr & 3) + 5}{parity}{stop}",
                     bool(lcr & 0x80), s["mcr"], _bits(s["mcr"], _MCR), lsr,
                     _bits(lsr, _LSR) if lsr is not None else (), iir,
                     _IIR.get(iir & 0x0F) if iir is not None else None,
                     bytes(s.get("rx", ())), s.get("tx_count"))


def _i8042(s: dict) -> I8042State:
    kbd = s.get("keyboard", {})
    status = s.get("status", 0)
    queued = tuple(kbd.get("responses", ())) + tuple(kbd.get("scancodes", ()))
    return I8042State(status, _bits(status, _STATUS), s["config"], _bits(s["config"], _CONFIG),
                      s["obdata"] if s.get("obf") else None, queued,
                      bool(s["config"] & 0x40), kbd.get("scancode_set"))


def decode_devices(snapshots: Mapping[str, dict]) -> DeviceReport:
    """Decode the snapshot dicts (see the module contract)."""
    def get(name, fn):
        return fn(snapshots[name]) if snapshots.get(name) is not None else None

    return DeviceReport(get("pic", _pic), get("pit", _pit), get("uart", _uart),
                        get("i8042", _i8042))


def _irqs(lines: tuple[int, ...]) -> str:
    return ", ".join(f"{i} ({IRQ_NAMES[i]})" for i in lines) or "none"


def format_devices(r: DeviceReport) -> str:
    """A short block per device."""
    out = []
    if r.pic:
        p = r.pic
        out += [f"PIC: master base {p.master.base} slave base {p.slave.base}"
                f"{' pending' if p.pending else ''}",
                f"  IRR {p.irr:#06x}  ISR {p.isr:#06x}  IMR {p.imr:#06x}",
                f"  unmasked IRQs: {_irqs(p.unmasked)}",
                f"  requested: {_irqs(p.requested)}; in service: {_irqs(p.in_service)}"]
    if r.pit:
        out.append("PIT:" + (f" {r.pit.irq_count} IRQ0s" if r.pit.irq_count is not None else ""))
        for c in r.pit.channels:
            if not c.loaded:
                out.append(f"  channel {c.index}: not programmed")
                continue
            out.append(f"  channel {c.index}: mode {c.mode} ({c.mode_name}), {c.access}, "
                       f"divisor {c.divisor or 65536} -> {c.frequency_hz:.2f} Hz")
    if r.uart:
        u = r.uart
        out += [f"UART: divisor {u.divisor} = {u.baud} baud, {u.line}{' DLAB' if u.dlab else ''}",
                f"  IER {u.ier:#04x} [{' '.join(u.ier_flags)}]  MCR {u.mcr:#04x} [{' '.join(u.mcr_flags)}]",
                f"  LSR {u.lsr:#04x} [{' '.join(u.lsr_flags)}]  IIR {u.iir:#04x} ({u.iir_name})"
                if u.lsr is not None and u.iir is not None else "  LSR/IIR unknown",
                f"  pending input: {len(u.pending_input)} bytes {u.pending_input!r}"]
    if r.i8042:
        k = r.i8042
        ob = f"{k.output_buffer:#04x}" if k.output_buffer is not None else "empty"
        out += [f"8042: status {k.status:#04x} [{' '.join(k.status_flags)}]  config {k.config:#04x} "
                f"[{' '.join(k.config_flags)}]",
                f"  output buffer {ob}; queued {' '.join(f'{b:02x}' for b in k.queued) or 'none'}"
                f" (set {k.scancode_set}{', translated to set 1' if k.translate else ''})"]
    return "\n".join(out)
