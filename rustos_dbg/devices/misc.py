"""Small motherboard ports: POST/delay port 0x80, system control port B
(0x61) and the fast A20 gate (0x92).

* ``PostPort`` (0x80): writes are kept in ``last`` (the POST code) and
  otherwise ignored, so ``out 0x80, al`` works as an I/O delay; reads give
  0xFF as in QEMU.
* ``SystemControlB`` (0x61): bit 0 drives the gate of PIT channel 2, bit 1
  enables the speaker data (kept only), bit 4 is the DRAM refresh toggle,
  flipping on every read (deterministic, so delay loops that wait for it to
  change end), bit 5 is PIT channel 2's output.  Without a PIT the gate is
  only remembered and bit 5 reads 0.
* ``FastA20`` (0x92): bit 1 is the A20 gate (``a20``), writing bit 0 = 1
  requests a system reset (counted in ``reset_requests``, ``on_reset``
  called).

State: each device lists its fields in ``state_fields`` (the POST code and
write count; port B's gate, speaker and refresh bits; the A20 gate and reset
count), captured by the inherited ``snapshot()`` and put back by
``restore()``.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Callable

from .base import Device


class PortBBits(IntEnum):
    """Bits of system control port B (0x61)."""

    TIMER2_GATE = 0x01
    SPEAKER_DATA = 0x02
    REFRESH = 0x10
    TIMER2_OUT = 0x20


class PostPort(Device):
    """Port 0x80: POST codes and I/O delays."""

    name = "post"
    ports = (0x80,)
    state_fields = ("last", "writes")

    def __init__(self) -> None:
        """No POST code yet."""
        super().__init__()
        self.last = 0
        self.writes = 0

    def read(self, port: int, size: int) -> int:
        """0xFF, as in QEMU."""
        return 0xFF

    def write(self, port: int, size: int, value: int) -> None:
        """Remember the POST code."""
        self.last = value
        self.writes += 1


class SystemControlB(Device):
    """Port 0x61: PIT channel 2 gate/output, speaker, refresh toggle."""

    name = "port61"
    ports = (0x61,)
    state_fields = ("gate", "speaker", "refresh")

    def __init__(self, pit=None) -> None:
        """Wire bit 0 / bit 5 to channel 2 of ``pit`` (or to nothing)."""
        super().__init__()
        self.pit = pit
        self.gate = False
        self.speaker = False
        self.refresh = False

    def read(self, port: int, size: int) -> int:
        """Gate, speaker, toggled refresh bit and channel 2 output."""
        self.refresh = not self.refresh
        value = int(self.gate) | int(self.speaker) << 1
        if self.refresh:
            value |= PortBBits.REFRESH
        if self.pit is not None and self.pit.output(2):
            value |= PortBBits.TIMER2_OUT
        return int(value)

    def write(self, port: int, size: int, value: int) -> None:
        """Set channel 2's gate and the speaker enable."""
        self.gate = bool(value & PortBBits.TIMER2_GATE)
        self.speaker = bool(value & PortBBits.SPEAKER_DATA)
        if self.pit is not None:
            self.pit.set_gate(2, self.gate)


class FastA20(Device):
    """Port 0x92: fast A20 gate and fast reset."""

    name = "port92"
    ports = (0x92,)
    state_fields = ("value", "reset_requests")

    def __init__(self, on_reset: Callable[[], None] | None = None) -> None:
        """A20 enabled; ``on_reset`` is called on a reset request."""
        super().__init__()
        self.value = 0x02
        self.reset_requests = 0
        self.on_reset = on_reset

    @property
    def a20(self) -> bool:
        """True while the A20 gate is open."""
        return bool(self.value & 0x02)

    def read(self, port: int, size: int) -> int:
        """The A20 bit (bit 1); bit 0 reads 0."""
        return self.value

    def write(self, port: int, size: int, value: int) -> None:
        """Set A20; bit 0 requests a reset."""
        self.value = value & 0x02
        if value & 0x01:
            self.reset_requests += 1
            if self.on_reset is not None:
                self.on_reset()
