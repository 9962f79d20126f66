"""8254 programmable interval timer (ports 0x40-0x43).

Three channels clocked at 1.193182 MHz.  Channel 0 drives IRQ0: one rising
edge of its output per period in modes 2 (rate generator) and 3 (square
wave), one edge at terminal count in modes 0/1 and 4/5.  Channel 2's gate and
output are reached through port 0x61 (``misc.SystemControlB``); channel 1 is
programmable but drives nothing.

Guest interface: port 0x43 takes the mode/command byte (channel, access mode
lobyte / hibyte / lobyte-then-hibyte, operating mode, BCD), the counter-latch
command (access 0) and the read-back command (0xC0 | ...).  Ports 0x40-0x42
take and give the counts.  BCD counting is recorded but counts stay binary.

Time is exact: a counter loaded at virtual time ``t0`` counts
``floor(now * 1193182 / 1e9) - floor(t0 * 1193182 / 1e9)`` input clocks, so
many short ticks give the same result as one long one.  A tick that spans
several periods gives one IRQ0 edge (the PIC would merge them anyway) and
adds them all to ``irq_count``.  ``next_event`` is the virtual time of the
next IRQ0 edge.  With ``bios_defaults`` channel 0 runs in mode 3 with count
65536 (18.2 Hz) from time 0, as a BIOS leaves it.
"""

from __future__ import annotations

from enum import IntEnum

from .base import Device, IrqLine

PIT_HZ = 1_193_182
NS_PER_S = 1_000_000_000
COMMAND_PORT = 0x43


def _plain(value):
    """Enums to ints and lists copied, for snapshots."""
    if isinstance(value, list):
        return list(value)
    return int(value) if isinstance(value, IntEnum) else value


def pit_clocks(now: int) -> int:
    """PIT input clocks elapsed from virtual time 0 to ``now`` (ns)."""
    return now * PIT_HZ // NS_PER_S


def pit_time(clocks: int) -> int:
    """Earliest virtual time (ns) at which ``clocks`` input clocks have elapsed."""
    return -((-clocks * NS_PER_S) // PIT_HZ)


class PitMode(IntEnum):
    """Operating modes of a counter."""

    INTERRUPT_ON_TERMINAL_COUNT = 0
    ONE_SHOT = 1
    RATE_GENERATOR = 2
    SQUARE_WAVE = 3
    SOFTWARE_STROBE = 4
    HARDWARE_STROBE = 5


class PitAccess(IntEnum):
    """Access modes of the mode/command byte (bits 5-4)."""

    LATCH = 0
    LOBYTE = 1
    HIBYTE = 2
    LOHI = 3


class Channel:
    """One counter; times are in PIT input clocks."""

    FIELDS = (
        "count", "mode", "access", "bcd", "loaded", "start", "gate", "frozen",
        "done", "write_hi", "write_lo", "read_hi", "latch", "status_latch",
        "null_count", "edges",
    )

    def __init__(self, index: int, gate: bool = True) -> None:
        """An unprogrammed counter."""
        self.index = index
        self.count, self.mode, self.access, self.bcd = 0x10000, 0, PitAccess.LOHI, 0
        self.loaded, self.start, self.gate, self.frozen = False, 0, gate, 0
        self.done, self.edges = 0, 0
        self.write_hi, self.write_lo, self.read_hi = False, 0, False
        self.latch: list[int] = []
        self.status_latch: int | None = None
        self.null_count = True

    def elapsed(self, c: int) -> int | None:
        """Clocks counted at PIT time ``c``; None when not counting."""
        if not self.loaded:
            return None
        return max(0, c - self.start) if self.gate else self.frozen

    def periodic(self) -> bool:
        """True in modes 2 and 3."""
        return self.mode in (PitMode.RATE_GENERATOR, PitMode.SQUARE_WAVE)

    def value(self, c: int) -> int:
        """The counter's current 16-bit value."""
        d, n = self.elapsed(c), self.count
        if d is None:
            return n & 0xFFFF
        if self.mode == PitMode.RATE_GENERATOR:
            return (n - d % n) & 0xFFFF
        if self.mode == PitMode.SQUARE_WAVE:
            return (n - (2 * d) % n) & 0xFFFF
        return (n - d) & 0xFFFF

    def out(self, c: int) -> int:
        """Level (0/1) of the counter's output."""
        d, n = self.elapsed(c), self.count
        if d is None:
            return 0 if self.mode == PitMode.INTERRUPT_ON_TERMINAL_COUNT else 1
        if self.periodic() and not self.gate:
            return 1
        if self.mode == PitMode.RATE_GENERATOR:
            return int(d % n != n - 1)
        if self.mode == PitMode.SQUARE_WAVE:
            return int(d % n < (n + 1) // 2)
        if self.mode in (PitMode.SOFTWARE_STROBE, PitMode.HARDWARE_STROBE):
            return int(d != n)
        return int(d >= n)

    def edges_between(self, a: int, b: int) -> int:
        """Rising output edges at elapsed clocks e with a < e <= b."""
        if b <= a:
            return 0
        if self.periodic():
            return b // self.count - a // self.count
        edge = self.next_edge(a)
        return int(edge is not None and edge <= b)

    def next_edge(self, a: int) -> int | None:
        """Elapsed clocks of the first rising edge after ``a``, or None."""
        if self.periodic():
            return (a // self.count + 1) * self.count if self.gate else None
        edge = self.count + (self.mode >= PitMode.SOFTWARE_STROBE)
        return edge if edge > a else None

    def status(self, c: int) -> int:
        """The read-back status byte."""
        return (self.out(c) << 7 | int(self.null_count) << 6 | self.access << 4
                | self.mode << 1 | self.bcd)

    def load(self, value: int, c: int) -> None:
        """A complete count was written: start counting from ``c``."""
        self.count = value or 0x10000
        self.loaded, self.start, self.done, self.frozen = True, c, 0, 0
        self.null_count = False


class Pit(Device):
    """The 8254 PIT; channel 0 raises IRQ0 on the PIC."""

    name = "pit"
    ports = (0x40, 0x41, 0x42, COMMAND_PORT)

    def __init__(self, pic=None, irq: int = 0, bios_defaults: bool = True) -> None:
        """Create the timer wired to line ``irq`` of ``pic`` (or nothing)."""
        super().__init__()
        self.irq = IrqLine(pic, irq)
        self.channels = [Channel(0), Channel(1), Channel(2, gate=False)]
        if bios_defaults:
            ch0 = self.channels[0]
            ch0.mode, ch0.access = PitMode.SQUARE_WAVE, PitAccess.LOHI
            ch0.load(0, 0)

    @property
    def clocks(self) -> int:
        """PIT input clocks at the device's current virtual time."""
        return pit_clocks(self.now)

    # -- guest accesses -----------------------------------------------------

    def read(self, port: int, size: int) -> int:
        """Guest IN: a counter's latched or live value, or its status."""
        if port == COMMAND_PORT:
            return 0
        ch = self.channels[port - 0x40]
        if ch.status_latch is not None:
            value, ch.status_latch = ch.status_latch, None
            return value
        if ch.latch:
            return ch.latch.pop(0)
        value = ch.value(self.clocks)
        if ch.access == PitAccess.LOBYTE:
            return value & 0xFF
        if ch.access == PitAccess.HIBYTE:
            return value >> 8
        high, ch.read_hi = ch.read_hi, not ch.read_hi
        return value >> 8 if high else value & 0xFF

    def write(self, port: int, size: int, value: int) -> None:
        """Guest OUT: a mode/command byte or a count byte."""
        if port == COMMAND_PORT:
            self._command(value)
            return
        ch = self.channels[port - 0x40]
        if ch.access == PitAccess.LOBYTE:
            ch.load(value, self.clocks)
        elif ch.access == PitAccess.HIBYTE:
            ch.load(value << 8, self.clocks)
        elif not ch.write_hi:
            ch.write_lo, ch.write_hi = value, True
        else:
            ch.write_hi = False
            ch.load(ch.write_lo | value << 8, self.clocks)

    def _command(self, value: int) -> None:
        """Handle a byte written to port 0x43."""
        select = value >> 6
        if select == 3:
            for ch in self.channels:
                if value & (2 << ch.index):
                    if not value & 0x20:
                        self._latch_count(ch)
                    if not value & 0x10 and ch.status_latch is None:
                        ch.status_latch = ch.status(self.clocks)
            return
        ch = self.channels[select]
        access = (value >> 4) & 3
        if access == PitAccess.LATCH:
            self._latch_count(ch)
            return
        mode = (value >> 1) & 7
        ch.mode = PitMode(mode - 4 if mode > 5 else mode)
        ch.access, ch.bcd = PitAccess(access), value & 1
        ch.loaded, ch.write_hi, ch.read_hi, ch.null_count = False, False, False, True
        ch.latch, ch.status_latch = [], None

    def _latch_count(self, ch: Channel) -> None:
        """Counter-latch command: freeze the value until it is read."""
        if ch.latch:
            return
        value = ch.value(self.clocks)
        lo, hi = value & 0xFF, value >> 8
        ch.latch = {PitAccess.LOBYTE: [lo], PitAccess.HIBYTE: [hi]}.get(ch.access, [lo, hi])

    # -- channel 2 through port 0x61 ------------------------------------------

    def set_gate(self, index: int, level: bool) -> None:
        """Drive the gate input of channel ``index``."""
        ch, c = self.channels[index], self.clocks
        level = bool(level)
        if level == ch.gate:
            return
        if not level:
            ch.frozen = ch.elapsed(c) or 0
        elif ch.loaded:
            if ch.mode in (PitMode.INTERRUPT_ON_TERMINAL_COUNT, PitMode.SOFTWARE_STROBE):
                ch.start = c - ch.frozen
            else:
                ch.start, ch.done = c, 0
        ch.gate = level

    def output(self, index: int) -> int:
        """Output level (0/1) of channel ``index`` now."""
        return self.channels[index].out(self.clocks)

    # -- time ---------------------------------------------------------------

    @property
    def irq_count(self) -> int:
        """Channel 0 periods (IRQ0 edges) counted so far."""
        return self.channels[0].edges

    def tick(self, now: int) -> None:
        """Advance to ``now``; pulse IRQ0 if channel 0 had an edge."""
        super().tick(now)
        ch = self.channels[0]
        d = ch.elapsed(self.clocks)
        if d is None or d <= ch.done:
            return
        edges = ch.edges_between(ch.done, d)
        ch.done = d
        if edges:
            ch.edges += edges
            self.irq.pulse()

    def next_event(self, now: int) -> int | None:
        """Virtual time of channel 0's next IRQ0 edge, or None."""
        ch = self.channels[0]
        if not ch.loaded or not ch.gate:
            return None
        edge = ch.next_edge(ch.done)
        return None if edge is None else pit_time(ch.start + edge)

    # -- state --------------------------------------------------------------

    def snapshot(self) -> dict:
        """Channel registers plus channel 0's frequency and IRQ count."""
        ch0 = self.channels[0]
        return {
            "now": self.now,
            "channels": [{f: _plain(getattr(ch, f)) for f in Channel.FIELDS}
                         for ch in self.channels],
            "irq0_hz": PIT_HZ / ch0.count if ch0.loaded else None,
            "irq_count": self.irq_count,
        }

    def restore(self, state: dict) -> None:
        """Put back a ``snapshot``."""
        self.now = state.get("now", self.now)
        for ch, saved in zip(self.channels, state["channels"]):
            for field in Channel.FIELDS:
                value = saved[field]
                setattr(ch, field, list(value) if field == "latch" else value)
            ch.mode, ch.access = PitMode(ch.mode), PitAccess(ch.access)
