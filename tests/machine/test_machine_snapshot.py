"""Whole-machine snapshots: every part captured and put back, in any order."""

import dataclasses

import pytest

from rustos_dbg import StopKind
from rustos_dbg.testing import PROMPT

pytestmark = pytest.mark.emulator

SLICE = 400_000


def _run(machine, n=SLICE):
    stop = machine.run(max_instructions=n, timeout=60)
    assert stop.kind is StopKind.INSTRUCTION_LIMIT, stop.describe()


def test_restore_then_run_again_gives_the_same_machine(rustos_machine):
    machine = rustos_machine
    machine.send_serial(b"echo one\nheap\n")
    a = machine.snapshot()
    _run(machine)
    b = machine.snapshot()
    assert b.icount == a.icount + SLICE
    assert b.digests()["ram"] != a.digests()["ram"] and b.serial != a.serial
    machine.restore(a)
    assert machine.snapshot().digests() == a.digests()
    assert machine.icount == a.icount and machine.serial_output == a.serial.decode()
    _run(machine)
    assert machine.snapshot().digests() == b.digests()   # every register, RAM, device, the clock, input, history
    assert "one" in machine.serial_output.splitlines()


def test_restores_in_any_order(rustos_machine):
    machine = rustos_machine
    machine.send_serial(b"echo two\n")
    a = machine.snapshot()
    _run(machine)
    b = machine.snapshot()
    _run(machine)
    c = machine.snapshot()
    for state in (a, b, a, c, b, a, b, c, c, a):
        machine.restore(state)
        assert machine.snapshot().digests() == state.digests()
    machine.restore(a)
    _run(machine, 2 * SLICE)
    assert machine.snapshot().digests() == c.digests()


def test_every_register_comes_back(rustos_machine):
    machine = rustos_machine
    a = machine.snapshot()
    _run(machine, 1000)
    for name in ("rax", "rbx", "rcx", "rsp", "r15", "cr2", "fs_base", "k_gs_base"):
        machine.set_reg(name, 0x1234_5678)
    machine.restore(a)
    assert machine.snapshot().cpu.registers == a.cpu.registers
    assert machine.reg("rip") == a.cpu.register("rip") and machine.reg("cr3") == a.cpu.register("cr3")


def test_debugger_settings_survive_a_restore_and_inputs_come_back(rustos_machine):
    machine = rustos_machine
    a = machine.snapshot()
    execute = machine.resolve("rustos::shell::commands::execute")
    machine.breakpoints.add(execute)
    machine.catch = {14}
    machine.send_serial(b"echo three\n")
    assert len(machine.input_log) == len(a.inputs.log) + 1
    stop = machine.run(timeout=60)
    assert stop.kind is StopKind.BREAKPOINT, stop.describe()
    machine.restore(a)
    assert execute in machine.breakpoints and machine.catch == {14}
    assert machine.input_log == list(a.inputs.log)           # the input had not come yet
    assert machine.run(max_instructions=2_000_000, timeout=60).kind is StopKind.INSTRUCTION_LIMIT
    machine.send_serial(b"echo three\n")
    assert machine.run(timeout=60).kind is StopKind.BREAKPOINT


def test_a_state_is_immutable(rustos_machine):
    state = rustos_machine.snapshot()
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.cpu = None
    with pytest.raises(TypeError):
        state.devices["devices"]["pit"]["now"] = 0
    assert isinstance(state.ram.pages, tuple) and isinstance(state.ram.data, bytes) and isinstance(state.serial, bytes)


def test_a_halted_cpu_and_a_triple_fault_are_state(rustos_machine):
    machine = rustos_machine
    machine.run(stop_when=lambda: machine.halted, timeout=60)
    assert machine.halted
    halted = machine.snapshot()
    machine.send_serial(b"fault triple\n")
    stop = machine.run(timeout=60)
    assert stop.kind is StopKind.TRIPLE_FAULT, stop.describe()
    shut = machine.snapshot()
    machine.restore(halted)
    assert machine.halted and machine.run(max_instructions=10_000, timeout=60).kind is not StopKind.TRIPLE_FAULT
    machine.restore(shut)
    assert machine.run(timeout=5).kind is StopKind.TRIPLE_FAULT and machine.icount == shut.icount
    machine.restore(halted)
    assert PROMPT not in machine.serial_output[len(halted.serial):]


def test_watchpoints_fire_alike_after_a_restore(rustos_machine):
    from rustos_dbg.machine.watchpoints import WatchKind

    machine = rustos_machine
    ticks = machine.resolve("RUSTOS_TICKS")
    assert machine.add_watchpoint(ticks, 8, WatchKind.WRITE)
    a = machine.snapshot()
    first = machine.run(timeout=60)
    assert first.kind is StopKind.WATCHPOINT and first.address == ticks, first.describe()
    machine.run(max_instructions=SLICE, timeout=60)
    machine.restore(a)
    again = machine.run(timeout=60)
    assert (again.kind, again.icount, again.rip, again.new_value) == (first.kind, first.icount, first.rip,
                                                                       first.new_value)


def test_snapshots_share_unchanged_pages(rustos_machine):
    machine = rustos_machine
    a = machine.snapshot()
    _run(machine)
    b = machine.snapshot()
    changed = [i for i, (p, q) in enumerate(zip(a.ram.pages, b.ram.pages)) if p != q]
    assert changed                                                   # the kernel ran: some pages changed
    assert all(a.ram.pages[i] is b.ram.pages[i] for i in range(len(a.ram.pages)) if i not in set(changed))
    assert 0 < a.ram.new_bytes(None) < machine.ram_bytes // 16      # zero pages cost nothing
    assert b.ram.new_bytes(a.ram) == 4096 * sum(b.ram.pages[i] != bytes(4096) for i in changed)  # only its changes
    assert a.ram.new_bytes(a.ram) == 0
