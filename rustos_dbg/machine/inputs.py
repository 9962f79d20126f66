"""Input from the host: what was delivered to the guest, and what waits for its time.

Contract: :class:`Inputs` delivers keyboard text, key chords and serial bytes
to the devices and logs each with the instruction count and virtual time at
which it arrived (:attr:`Inputs.log`); inputs scheduled for a virtual time
(a replayed recording) wait in :attr:`Inputs.scheduled` until
:meth:`Inputs.deliver_due` hands them over. :meth:`Inputs.snapshot` returns
a frozen :class:`InputState`; :meth:`Inputs.restore` puts back the schedule
and the log as they were (later entries are forgotten: they have not
happened yet).
"""

from __future__ import annotations

from dataclasses import dataclass

#: The kinds of input, as the log and recordings name them.
KINDS = ("keyboard", "key", "serial")


@dataclass(frozen=True)
class InputState:
    """Pending and delivered input at one moment."""

    scheduled: tuple[tuple[int, str, bytes], ...]   #: (at_ns, kind, data), earliest first
    log: tuple[tuple[int, str, bytes, int], ...]   #: (icount, kind, data, at_ns) delivered so far


class Inputs:
    """The host's input to one machine."""

    def __init__(self, devices, clock) -> None:
        """Delivers to ``devices`` (its i8042 and uart), stamped by ``clock``."""
        self._devices = devices
        self._clock = clock
        #: Every input as (icount, kind, data, virtual time in ns) when it was delivered.
        self.log: list[tuple[int, str, bytes, int]] = []
        #: Inputs waiting for their virtual time, as (at_ns, kind, data), earliest first.
        self.scheduled: list[tuple[int, str, bytes]] = []

    def deliver(self, kind: str, data: bytes) -> None:
        """Hands one input to its device now."""
        if kind not in KINDS:
            raise ValueError(f"unknown input kind '{kind}' ({', '.join(KINDS)})")
        self.log.append((self._clock.icount, kind, bytes(data), self._clock.now_ns()))
        if kind == "keyboard":
            self._devices.i8042.type_text(data.decode())
        elif kind == "key":
            self._devices.i8042.press(data.decode())
        else:
            self._devices.uart.inject(bytes(data))

    def schedule(self, at_ns: int, kind: str, data: bytes) -> None:
        """Delivers an input when the virtual time reaches ``at_ns``."""
        if kind not in KINDS:
            raise ValueError(f"unknown input kind '{kind}' ({', '.join(KINDS)})")
        self.scheduled.append((at_ns, kind, bytes(data)))
        self.scheduled.sort(key=lambda entry: entry[0])

    def deliver_due(self) -> int | None:
        """Delivers the scheduled inputs that are due; returns the time of the next one."""
        while self.scheduled and self.scheduled[0][0] <= self._clock.now_ns():
            _, kind, data = self.scheduled.pop(0)
            self.deliver(kind, data)
        return self.scheduled[0][0] if self.scheduled else None

    def snapshot(self) -> InputState:
        """The inputs now."""
        return InputState(tuple(self.scheduled), tuple(self.log))

    def restore(self, state: InputState) -> None:
        """Puts back the schedule and the log of ``state``."""
        self.scheduled = list(state.scheduled)
        self.log = list(state.log)
