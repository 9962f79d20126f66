"""CMOS RAM and MC146818 real-time clock (ports 0x70 index, 0x71 data).

Port 0x70 selects a register (bits 0-6) and holds the NMI-disable bit (bit
7, kept in ``nmi_disabled``); reading it gives 0xFF as in QEMU.  Port 0x71
reads or writes the selected byte of the 128-byte CMOS RAM.

The clock is deterministic: it shows ``epoch`` (default 2024-01-01 00:00:00,
a Monday) plus the virtual seconds elapsed, in BCD or binary and 24 or
12-hour form as status register B says (default 0x02: BCD, 24-hour).  Writes
to the time registers are ignored.  Status A bit 7 (update in progress) is
set during the last 244 us of every virtual second; the low 4 bits choose the
periodic rate (32768 >> (rate - 1) Hz).  Status C reports PF (periodic) and
UF (update ended) and, when status B enables them (PIE 0x40, UIE 0x10), IRQF
with IRQ8 raised until the guest reads C.  ``next_event`` gives the next
enabled interrupt.  Alarms are not implemented.

Memory size bytes are filled in as QEMU does: 0x15/0x16 base KiB, 0x17/0x18
and 0x30/0x31 KiB above 1 MiB, 0x34/0x35 64 KiB units above 16 MiB.
"""

from __future__ import annotations

import datetime as _dt
from enum import IntEnum

from .base import Device, IrqLine

NS = 1_000_000_000
RTC_HZ = 32768
UIP_NS = 244_000


class CmosReg(IntEnum):
    """CMOS register indices."""

    SECONDS = 0x00
    MINUTES = 0x02
    HOURS = 0x04
    WEEKDAY = 0x06
    DAY = 0x07
    MONTH = 0x08
    YEAR = 0x09
    STATUS_A = 0x0A
    STATUS_B = 0x0B
    STATUS_C = 0x0C
    STATUS_D = 0x0D
    CENTURY = 0x32


class RtcBits(IntEnum):
    """Bits of the status registers."""

    A_UIP = 0x80
    B_PIE = 0x40
    B_UIE = 0x10
    B_BINARY = 0x04
    B_24H = 0x02
    C_IRQF = 0x80
    C_PF = 0x40
    C_UF = 0x10
    D_VRT = 0x80


def _bcd(value: int) -> int:
    """Binary to packed BCD."""
    return (value // 10) << 4 | value % 10


class Cmos(Device):
    """CMOS RAM with a virtual-time real-time clock on IRQ8."""

    name = "cmos"
    ports = (0x70, 0x71)
    state_fields = ("ram", "index", "nmi_disabled", "pf_done", "uf_done")

    def __init__(self, pic=None, irq: int = 8,
                 epoch: _dt.datetime = _dt.datetime(2024, 1, 1),
                 memory_bytes: int = 128 << 20) -> None:
        """Create the CMOS wired to line ``irq`` of ``pic`` (or nothing)."""
        super().__init__()
        self.irq = IrqLine(pic, irq)
        self.epoch = epoch
        self.ram = [0] * 128
        self.ram[CmosReg.STATUS_A] = 0x26
        self.ram[CmosReg.STATUS_B] = int(RtcBits.B_24H)
        self.ram[CmosReg.STATUS_D] = int(RtcBits.D_VRT)
        self._memory(memory_bytes)
        self.index = 0
        self.nmi_disabled = False
        self.pf_done = self.uf_done = 0

    def _memory(self, size: int) -> None:
        """Fill in the memory size bytes."""
        ext_kib = min(max(size - (1 << 20), 0) >> 10, 0xFFFF)
        above_16m = min(max(size - (16 << 20), 0) >> 16, 0xFFFF)
        for reg, value in ((0x15, 640), (0x17, ext_kib), (0x30, ext_kib), (0x34, above_16m)):
            self.ram[reg], self.ram[reg + 1] = value & 0xFF, value >> 8

    # -- clock -----------------------------------------------------------------

    def datetime(self) -> _dt.datetime:
        """The wall-clock time the RTC shows now."""
        return self.epoch + _dt.timedelta(seconds=self.now // NS)

    def _time_reg(self, reg: int) -> int:
        """Value of a time/date register in the format status B asks for."""
        t, b = self.datetime(), self.ram[CmosReg.STATUS_B]
        fmt = (lambda v: v) if b & RtcBits.B_BINARY else _bcd
        if reg == CmosReg.HOURS:
            if b & RtcBits.B_24H:
                return fmt(t.hour)
            return fmt(t.hour % 12 or 12) | (0x80 if t.hour >= 12 else 0)
        value = {
            CmosReg.SECONDS: t.second, CmosReg.MINUTES: t.minute,
            CmosReg.WEEKDAY: (t.isoweekday() % 7) + 1, CmosReg.DAY: t.day,
            CmosReg.MONTH: t.month, CmosReg.YEAR: t.year % 100,
            CmosReg.CENTURY: t.year // 100,
        }[reg]
        return fmt(value)

    def _rate_div(self) -> int | None:
        """Periodic interrupt period in 32768 Hz ticks, or None if off."""
        rate = self.ram[CmosReg.STATUS_A] & 0x0F
        if rate == 0:
            return None
        return 1 << ((rate if rate > 2 else rate + 7) - 1)

    def _periods(self, now: int) -> int:
        """Periodic-interrupt periods elapsed at ``now`` (0 when off)."""
        div = self._rate_div()
        return now * RTC_HZ // NS // div if div else 0

    # -- guest accesses -------------------------------------------------------

    def read(self, port: int, size: int) -> int:
        """Guest IN: 0xFF from 0x70, the selected register from 0x71."""
        if port == 0x70:
            return 0xFF
        reg = self.index
        if reg in (0, 2, 4, 6, 7, 8, 9, CmosReg.CENTURY):
            return self._time_reg(reg)
        if reg == CmosReg.STATUS_A:
            uip = RtcBits.A_UIP if self.now % NS >= NS - UIP_NS else 0
            return self.ram[reg] | uip
        if reg == CmosReg.STATUS_C:
            value, self.ram[reg] = self.ram[reg], 0
            self.irq.set(False)
            return value
        return self.ram[reg]

    def write(self, port: int, size: int, value: int) -> None:
        """Guest OUT: select a register (0x70) or write it (0x71)."""
        if port == 0x70:
            self.index, self.nmi_disabled = value & 0x7F, bool(value & 0x80)
            return
        reg = self.index
        if reg in (0, 2, 4, 6, 7, 8, 9, CmosReg.STATUS_C, CmosReg.STATUS_D):
            return
        if reg == CmosReg.STATUS_A:
            value &= 0x7F
        self.ram[reg] = value
        if reg in (CmosReg.STATUS_A, CmosReg.STATUS_B):
            self.pf_done = self._periods(self.now)
            self._update_irq()

    def _update_irq(self) -> None:
        """Set IRQF and raise IRQ8 if an enabled flag is up."""
        b, c = self.ram[CmosReg.STATUS_B], self.ram[CmosReg.STATUS_C]
        if (b & RtcBits.B_PIE and c & RtcBits.C_PF) or (b & RtcBits.B_UIE and c & RtcBits.C_UF):
            self.ram[CmosReg.STATUS_C] = c | RtcBits.C_IRQF
            self.irq.set(True)

    # -- time ------------------------------------------------------------------

    def tick(self, now: int) -> None:
        """Advance to ``now``: set PF/UF for elapsed periods and seconds."""
        super().tick(now)
        periods, seconds = self._periods(self.now), self.now // NS
        flags = 0
        if periods > self.pf_done:
            flags |= RtcBits.C_PF
        if seconds > self.uf_done:
            flags |= RtcBits.C_UF
        self.pf_done, self.uf_done = max(periods, self.pf_done), seconds
        if flags:
            self.ram[CmosReg.STATUS_C] |= flags
            self._update_irq()

    def next_event(self, now: int) -> int | None:
        """Virtual time of the next enabled RTC interrupt, or None."""
        b, times = self.ram[CmosReg.STATUS_B], []
        div = self._rate_div()
        if b & RtcBits.B_PIE and div:
            ticks = (self.pf_done + 1) * div
            times.append(-((-ticks * NS) // RTC_HZ))
        if b & RtcBits.B_UIE:
            times.append((self.uf_done + 1) * NS)
        return min(times) if times else None

    def snapshot(self) -> dict:
        """RAM, index, NMI mask and the time shown."""
        state = super().snapshot()
        state["datetime"] = self.datetime().isoformat()
        return state

    def restore(self, state: dict) -> None:
        """Put back a ``snapshot``."""
        super().restore(state)
        self.irq.level = bool(self.ram[CmosReg.STATUS_C] & RtcBits.C_IRQF)
