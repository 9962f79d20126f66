"""Time travel over a recorded history: goto, reverse steps, reverse continue, last write."""

import pytest

from rustos_dbg import GuestMemoryError, Machine, RustosDbgError, StopKind
from rustos_dbg.testing import PROMPT

pytestmark = pytest.mark.emulator

EXECUTE = "rustos::shell::commands::execute"


@pytest.fixture
def machine(history_machine):
    return history_machine


def shell(m, line: bytes):
    m.send_serial(line)
    assert m.run_until_serial(PROMPT, timeout=60) is None


def test_goto_back_and_forward_gives_the_same_machine(machine):
    shell(machine, b"echo hello\n")
    end, state, out = machine.icount, machine.snapshot().digests(), machine.serial_output
    assert len(machine.history.checkpoints) >= 3
    for target in (end // 3, 123_457, end - 1, end // 2):
        machine.goto(target)
        assert machine.icount == target
        assert out.startswith(machine.serial_output)
        if target == end // 3:
            assert "hello" not in machine.serial_output.splitlines()
    machine.goto(end)
    assert machine.icount == end and machine.serial_output == out
    assert machine.snapshot().digests() == state          # every register, RAM, device, clock, input


def test_reverse_step_and_step_round_trip(machine):
    shell(machine, b"echo x\n")
    for back in (1, 7, 1000):
        machine.run(max_instructions=5_000, timeout=60)
        here, state = machine.icount, machine.snapshot().digests()
        stop = machine.reverse_step(back)
        assert (stop.kind, machine.icount) == (StopKind.STEP, here - back)
        for _ in range(back):
            assert machine.step().kind is StopKind.STEP
        assert machine.icount == here and machine.snapshot().digests() == state


def test_reverse_continue_to_breakpoints_then_the_beginning(machine):
    machine.breakpoints.add(machine.resolve(EXECUTE))
    hits = []
    for line in (b"echo a\n", b"echo b\n"):
        machine.send_serial(line)
        stop = machine.run(timeout=60)
        assert stop.kind is StopKind.BREAKPOINT, stop.describe()
        hits.append(stop.icount)
        assert machine.run_until_serial(PROMPT, timeout=60) is None
    for expected in reversed(hits):
        stop = machine.reverse_continue()
        assert (stop.kind, stop.icount, machine.icount) == (StopKind.BREAKPOINT, expected, expected), stop.describe()
        assert machine.reg("rip") == machine.resolve(EXECUTE)
    stop = machine.reverse_continue()
    assert stop.kind is StopKind.HISTORY_START and machine.icount == machine.history.start == 0


def test_reverse_continue_to_a_caught_exception_and_a_watchpoint(machine):
    from rustos_dbg.machine.watchpoints import WatchKind

    machine.catch = {14}
    machine.send_serial(b"fault pf 0xdeadbeef000\n")
    caught = machine.run(timeout=60)
    assert caught.kind is StopKind.EXCEPTION and caught.vector == 14, caught.describe()
    assert machine.run_until_serial(PROMPT, timeout=60) is None
    stop = machine.reverse_continue()
    assert (stop.kind, stop.vector, stop.icount) == (StopKind.EXCEPTION, 14, caught.icount)
    assert machine.reg("cr2") == 0xDEADBEEF000
    machine.catch = set()
    ticks = machine.resolve("RUSTOS_TICKS")
    written = machine.last_write(ticks, 8)
    machine.add_watchpoint(ticks, 8, WatchKind.WRITE)
    stop = machine.reverse_continue()
    assert (stop.kind, stop.address, stop.icount) == (StopKind.WATCHPOINT, ticks, written.icount), stop.describe()


def test_last_write_of_the_tick_counter_names_the_timer_path(machine):
    ticks = machine.resolve("RUSTOS_TICKS")
    assert machine.last_write(ticks, 8) is None or machine.read_virtual(ticks, 8) != bytes(8)
    machine.run(max_instructions=3_500_000, timeout=60)      # a few timer ticks
    now = machine.icount
    write = machine.last_write(ticks, 8)
    assert machine.icount == now                            # back in the present
    assert write is not None and write.icount <= now and write.address == ticks
    assert write.symbol.startswith("rustos::interrupts::irq::"), write.symbol
    assert write.context.trap == 32 and "IRQ0 handler" in write.context.describe()   # the timer's vector
    old, new = int.from_bytes(write.old, "little"), int.from_bytes(write.new, "little")
    assert new == old + 1 == int.from_bytes(machine.read_virtual(ticks, 8), "little")
    machine.goto(write.icount - 1)
    assert machine.read_virtual(ticks, 8) == write.old
    machine.goto(write.icount)
    assert machine.read_virtual(ticks, 8) == write.new and machine.reg("rip") != write.rip


def test_input_in_the_past_is_refused_and_the_future_replays(machine):
    shell(machine, b"echo one\n")
    end, out = machine.icount, machine.serial_output
    machine.goto(end - 50_000)
    with pytest.raises(RustosDbgError, match="in the past"):
        machine.send_serial(b"echo two\n")
    stop = machine.run(max_instructions=50_000, timeout=60)  # forward: the recorded input comes again
    assert stop.kind is StopKind.INSTRUCTION_LIMIT and machine.icount == end
    assert machine.serial_output == out
    shell(machine, b"echo two\n")                            # at the end: new input is history
    assert "two" in machine.serial_output.splitlines()


def test_bad_requests_are_one_line_errors_and_leave_the_machine(machine, rustos_elf):
    here, state = machine.icount, machine.snapshot().digests()
    for bad in (lambda: machine.goto(machine.history.end + 1), lambda: machine.goto(-1),
                lambda: machine.reverse_step(0), lambda: machine.last_write(0xFFFF_9000_0000_0000, 8)):
        with pytest.raises((RustosDbgError, GuestMemoryError)) as error:
            bad()
        assert "\n" not in str(error.value)
    assert machine.icount == here and machine.snapshot().digests() == state
    plain = Machine.boot(rustos_elf)
    with pytest.raises(RustosDbgError, match="no history"):
        plain.reverse_step()
    with pytest.raises(RustosDbgError, match="deterministic"):
        Machine.boot(rustos_elf, mode="fast", history=True)


def test_checkpoints_stay_within_the_budget(machine):
    history = machine.history
    history.budget = history.memory() + (64 << 10)
    shell(machine, b"heap\n")
    machine.run(max_instructions=6_000_000, timeout=60)
    assert history.checkpoints[0].icount == 0 and history.memory() <= history.budget
    points = history.checkpoints
    assert len(points) < history.end // history.interval                    # some were thinned out
    assert history.memory() == sum(s.ram.new_bytes(p.ram if p else None)   # the running count is exact
                                   for p, s in zip([None] + points[:-1], points))
    machine.goto(history.end // 2)
    assert machine.icount == history.end // 2
