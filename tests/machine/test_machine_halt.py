"""HLT is known exactly (``Machine.halted``), and single steps can hold interrupts off."""

import pytest

from rustos_dbg import StopKind
from rustos_dbg.testing import PROMPT

pytestmark = pytest.mark.emulator

_HLT = b"\xf4"


def _step_until_halted(machine, limit=200_000):
    for _ in range(limit):
        stop = machine.step()
        assert stop.kind is StopKind.STEP, stop.describe()
        if machine.halted:
            return
    raise AssertionError("the idle kernel never halted")


@pytest.mark.parametrize("mode", ["deterministic", "fast"])
def test_a_step_of_the_idle_hlt_leaves_the_cpu_halted(rustos_elf, mode):
    from rustos_dbg import Machine

    machine = Machine.boot(rustos_elf, mode=mode)
    assert machine.run_until_serial(PROMPT, timeout=60) is None
    stop = machine.run(stop_when=lambda: machine.halted, timeout=60)
    assert machine.halted, stop.describe()
    hlt = machine.reg("rip") - 1
    assert machine.read_virtual(hlt, 1) == _HLT
    machine.breakpoints.add(hlt)
    machine.send_serial(b"echo x\n")
    stop = machine.run(timeout=60)
    assert (stop.kind, machine.reg("rip")) == (StopKind.BREAKPOINT, hlt), stop.describe()
    assert not machine.halted
    assert machine.step(interrupts=False).kind is StopKind.STEP
    assert machine.halted and machine.reg("rip") == hlt + 1


def test_halted_is_set_exactly_when_a_hlt_ran(rustos_machine):
    machine = rustos_machine
    machine.send_serial(b"echo x\n")  # some work between two idle HLTs
    seen = {True: 0, False: 0}
    for _ in range(20_000):
        rip, log = machine.reg("rip"), len(machine.exception_log)
        was_halted = machine.halted
        opcode = machine.read_virtual(rip, 1)
        assert machine.step().kind is StopKind.STEP
        if len(machine.exception_log) != log:
            assert not machine.halted  # an interrupt ends the halt
            continue
        assert not was_halted  # a halted CPU only goes on through an interrupt
        expected = opcode == _HLT
        assert machine.halted is expected, (hex(rip), opcode)
        seen[expected] += 1
    assert seen[True] >= 2 and seen[False] > 100, seen


def test_a_step_with_interrupts_held_off_does_not_enter_a_handler(rustos_machine):
    machine = rustos_machine
    _step_until_halted(machine)
    rip, log = machine.reg("rip"), len(machine.exception_log)
    stop = machine.step(interrupts=False)
    assert stop.kind is StopKind.HALTED and "held off" in stop.message, stop.describe()
    assert (machine.reg("rip"), len(machine.exception_log)) == (rip, log)
    # An ordinary step waits for the next interrupt and enters its handler.
    stop = machine.step()
    assert stop.kind is StopKind.STEP, stop.describe()
    assert not machine.halted
    entry = machine.exception_log[-1]
    assert len(machine.exception_log) == log + 1 and entry.vector >= 32
    assert entry.rip == rip  # the frame returns to the instruction after the HLT


def test_held_off_interrupts_stay_latched_for_the_next_run(rustos_machine):
    machine = rustos_machine
    machine.send_serial(b"echo latched\n")
    log = len(machine.exception_log)
    for _ in range(50):
        assert machine.step(interrupts=False).kind in (StopKind.STEP, StopKind.HALTED)
    assert len(machine.exception_log) == log  # nothing delivered while held off
    assert machine.devices.pic.pending()
    start = len(machine.serial_output)
    assert machine.run_until_serial(PROMPT, timeout=30) is None
    assert "latched" in machine.serial_output[start:].splitlines()
