"""The machine's clock: virtual time from executed instructions, or the host's.

Contract: in the *deterministic* mode the time is the executed instruction
count (``NS_PER_INSTRUCTION`` ns each, counted natively by an
:class:`~.counter.InstructionCounter`) plus the time skipped while the CPU
was halted, so it depends on nothing but the guest's run. In the *fast* mode
nothing is counted (:attr:`Clock.icount` is 0) and running time comes from
the host clock, measured only while the engine runs. :meth:`Clock.snapshot`
returns a frozen :class:`ClockState`; :meth:`Clock.restore` puts it back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .blocks import BlockCounter

NS_PER_INSTRUCTION = 1


@dataclass(frozen=True)
class ClockState:
    """The clock at one moment."""

    icount: int        #: instructions executed (0 in the fast mode)
    idle_ns: int       #: virtual time skipped while halted
    fast_ns: int       #: host time spent running (fast mode)


class Clock:
    """Virtual time of one engine."""

    def __init__(self, uc, deterministic: bool, read_code=None) -> None:
        """Counts ``uc``'s instructions when ``deterministic`` (``read_code(address,
        size)`` reads code at a virtual address, see :class:`~.blocks.BlockCounter`)."""
        #: The native instruction counter (None in the fast mode).
        self.counter = BlockCounter(uc, read_code) if deterministic else None
        self._idle_ns = 0
        self._fast_ns = 0
        self._fast_started: int | None = None

    @property
    def deterministic(self) -> bool:
        """True when time is the instruction count."""
        return self.counter is not None

    @property
    def icount(self) -> int:
        """Instructions executed (0 in the fast mode, which does not count)."""
        return self.counter.count if self.counter is not None else 0

    def now_ns(self) -> int:
        """The guest's time in nanoseconds."""
        if self.counter is not None:
            return self.counter.count * NS_PER_INSTRUCTION + self._idle_ns
        running = time.monotonic_ns() - self._fast_started if self._fast_started is not None else 0
        return self._fast_ns + running + self._idle_ns

    def skip_to(self, event_ns: int) -> None:
        """The CPU idles until ``event_ns``: skipped at once (deterministic), or
        waited for on the host for up to 1 ms and the rest skipped (fast)."""
        now = self.now_ns()
        if event_ns <= now:
            return
        if self.counter is None:
            time.sleep(min(event_ns - now, 1_000_000) / 1e9)
            now = self.now_ns()
        if event_ns > now:
            self._idle_ns += event_ns - now

    def running(self):
        """Context manager around one engine run (the fast mode's host time)."""
        return _Running(self)

    def snapshot(self) -> ClockState:
        """The clock now."""
        return ClockState(self.icount, self._idle_ns, self._fast_ns)

    def restore(self, state: ClockState) -> None:
        """Puts the clock back to ``state``."""
        if self.counter is not None:
            self.counter.count = state.icount
        self._idle_ns, self._fast_ns = state.idle_ns, state.fast_ns


class _Running:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __enter__(self) -> None:
        if self._clock.counter is None:
            self._clock._fast_started = time.monotonic_ns()

    def __exit__(self, *exc) -> None:
        clock = self._clock
        if clock._fast_started is not None:
            clock._fast_ns += time.monotonic_ns() - clock._fast_started
            clock._fast_started = None
