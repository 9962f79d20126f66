"""A device event that a port access brings closer than the slice's end is handled
at its exact virtual time, not at whatever slice boundary comes next."""

import pytest

from rustos_dbg import StopKind
from rustos_dbg.devices.base import Device

pytestmark = pytest.mark.emulator

PORT, DELAY = 0xE0, 50


class OneShot(Device):
    """A test device: a write to its port schedules an event DELAY ns later."""

    name = "oneshot"
    ports = (PORT,)

    def __init__(self) -> None:
        super().__init__()
        self.event = self.fired_at = None

    def write(self, port: int, size: int, value: int) -> None:
        self.event = self.now + DELAY

    def next_event(self, now: int):
        return self.event if self.fired_at is None else None

    def tick(self, now: int) -> None:
        super().tick(now)
        if self.event is not None and self.fired_at is None and now >= self.event:
            self.fired_at = now


@pytest.mark.parametrize("nops", [200, 5000])
def test_event_scheduled_mid_slice_is_handled_on_time(rustos_machine, nops):
    machine = rustos_machine
    device = machine.devices.bus.register(OneShot())
    code = bytes.fromhex("b001e6e0") + b"\x90" * nops + b"\xf4"   # mov al,1; out 0xe0,al; nops; hlt
    where = machine.resolve("rustos::shell::commands::execute")
    machine.write_physical(machine.memory.translate(where), code)
    machine.set_reg("rip", where)
    machine.cpu.halted = False   # it waited in the idle HLT: it runs the planted code now
    machine.set_reg("rflags", machine.reg("rflags") & ~(1 << 9))   # no interrupts: one straight run
    start = machine.icount
    stop = machine.run(timeout=60)
    assert stop.kind is StopKind.HANG, stop.describe()
    assert machine.icount == start + 2 + nops + 1
    assert device.event == machine.clock.snapshot().idle_ns + start + 2 + DELAY
    assert device.fired_at == device.event
