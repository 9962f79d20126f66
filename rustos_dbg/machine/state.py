"""The whole machine at one moment: :class:`MachineState`.

Contract: ``Machine.snapshot()`` returns a frozen :class:`MachineState`
composed of each part's own state (CPU, RAM, devices, clock, input) and the
machine's history at that moment (the exception log and COM1's output, as
far as they had come); ``Machine.restore(state)`` puts every part back, in
any order and any number of times. Debugger settings (breakpoints,
watchpoints, caught vectors) are not machine state: a restore keeps them.
:meth:`MachineState.digests` gives a hash per part, for comparing machines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..devices.base import digest
from .clock import ClockState
from .cpu import CpuState
from .exlog import ExceptionLogState
from .inputs import InputState
from .memory import RamState


def _paged(devices) -> dict:
    """The page-by-page memories inside the devices' state ((device, field) -> RamState):
    the video memory."""
    found = {}
    for name, state in (devices or {}).get("devices", {}).items():
        for field, value in state.items():
            if isinstance(value, RamState):
                found[name, field] = value
    return found


@dataclass(frozen=True)
class MachineState:
    """Every part of a machine, captured together."""

    cpu: CpuState
    ram: RamState
    devices: Any              #: the devices' frozen state (``PcDevices.snapshot()``)
    clock: ClockState
    inputs: InputState
    exception_log: ExceptionLogState  #: the deliveries logged so far (recent in full)
    serial: bytes             #: everything the guest had written to COM1
    syscalls: Any = None      #: the system-call log (``SyscallTraceState``), as far as it had come

    @property
    def icount(self) -> int:
        """Instructions executed when the state was captured."""
        return self.clock.icount

    def new_bytes(self, before: "MachineState | None") -> int:
        """Bytes of the non-zero pages (RAM and the devices' memories) that this state does
        not share with ``before`` (all of them when None): what keeping it costs."""
        total = self.ram.new_bytes(before.ram if before is not None else None)
        theirs = _paged(before.devices) if before is not None else {}
        for key, pages in _paged(self.devices).items():
            total += pages.new_bytes(theirs.get(key))
        return total

    def digests(self) -> dict[str, str]:
        """A hash of each part: ``cpu`` (its named registers and halt state),
        ``ram``, ``devices``, ``clock``, ``inputs``, ``history``."""
        cpu = (self.cpu.registers, self.cpu.halted, self.cpu.shutdown is not None)
        return {
            "cpu": digest(repr(cpu)),
            "ram": self.ram.digest(),
            "devices": digest(self.devices),
            "clock": digest(repr(self.clock)),
            "inputs": digest(repr(self.inputs)),
            "history": digest(repr((self.exception_log, self.serial))),
        }
