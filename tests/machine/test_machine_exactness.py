"""Exact instruction counts: the kernel suite is the same run, instruction for
instruction, whatever the debugger does (breakpoints, watchpoints, single
steps); tests/gdb/test_gdb_exactness.py adds the real gdb attached.

The count is compared where every serial line ends (the count when its
newline was written) and at the suite's end (isa-debug-exit).
"""

import pytest

from rustos_dbg import Machine, StopKind
from rustos_dbg.machine.watchpoints import WatchKind
from rustos_dbg.testing import MAX_INSTRUCTIONS, LineEnds
from rustos_dbg.x86.lengths import block_layout

pytestmark = pytest.mark.emulator

IRQ_HANDLE = "rustos::interrupts::irq::handle"
WRITE_CHAR = "<uart_16550::port::SerialPort as core::fmt::Write>::write_char"
CHECKED_LINE = "test general_protection ... ok"


def boot_suite(elf) -> tuple[Machine, LineEnds]:
    return LineEnds.boot(elf, cmdline="test")


def finish(machine: Machine, lines: LineEnds) -> tuple[int, list[tuple[str, int]]]:
    """Runs to the suite's end; (the count at the exit, the counts at line ends)."""
    stop = machine.run(max_instructions=MAX_INSTRUCTIONS, timeout=120)
    assert (stop.kind, stop.exit_code) == (StopKind.KERNEL_EXIT, 33), stop.describe()
    return stop.icount, lines.ends


@pytest.fixture(scope="module")
def plain(rustos_elf):
    """The suite run with no debugger settings."""
    end, ends = finish(*boot_suite(rustos_elf))
    assert "passed, 0 failed" in ends[-1][0]
    assert any(line == CHECKED_LINE for line, _ in ends)
    return end, ends


def second_instruction(machine: Machine, name: str) -> int:
    """The address of the second instruction of function ``name`` (inside its first block)."""
    entry = machine.resolve(name)
    seg = next(s for s in machine.image.segments if s.vaddr <= entry < s.vaddr + len(s.data))
    offsets = block_layout(seg.data[entry - seg.vaddr:entry - seg.vaddr + 32])[0]
    return entry + offsets[1]


def test_breakpoints_leave_the_run_unchanged(rustos_elf, plain):
    machine, lines = boot_suite(rustos_elf)
    inside = second_instruction(machine, WRITE_CHAR)  # a stop inside a translated block
    machine.breakpoints.add(machine.resolve(IRQ_HANDLE))
    machine.breakpoints.add(inside)
    # A condition that never holds: the hook runs, nothing stops.
    machine.breakpoints.add(machine.resolve("rustos::serial::write_fmt"), condition=lambda: False)
    hits: dict[int, int] = {}
    while (stop := machine.run(timeout=120)).kind is StopKind.BREAKPOINT:
        hits[stop.rip] = hits.get(stop.rip, 0) + 1
    assert (stop.kind, stop.exit_code) == (StopKind.KERNEL_EXIT, 33), stop.describe()
    assert set(hits) == {machine.resolve(IRQ_HANDLE), inside} and hits[inside] > 10, hits
    assert (stop.icount, lines.ends) == plain


def test_a_watchpoint_leaves_the_run_unchanged(rustos_elf, plain):
    machine, lines = boot_suite(rustos_elf)
    machine.add_watchpoint(machine.resolve("RUSTOS_TICKS"), 8, WatchKind.WRITE)
    hits = 0
    while (stop := machine.run(timeout=120)).kind is StopKind.WATCHPOINT:
        hits += 1
    assert hits > 3
    assert (stop.kind, stop.exit_code) == (StopKind.KERNEL_EXIT, 33), stop.describe()
    assert (stop.icount, lines.ends) == plain


def test_single_steps_leave_the_run_unchanged(rustos_elf, plain):
    machine, lines = boot_suite(rustos_elf)
    _, ends = plain
    # Step through a stretch that holds a serial line's end and the timer interrupts around it.
    at = dict((line, count) for line, count in ends)[CHECKED_LINE]
    assert machine.run(max_instructions=at - 3_000, timeout=120).kind is StopKind.INSTRUCTION_LIMIT
    for _ in range(6_000):
        stop = machine.step()
        assert stop.kind is StopKind.STEP, stop.describe()
    assert machine.icount == at + 3_000
    assert finish(machine, lines) == plain


def test_odd_slices_and_a_watchpoint_added_midway(rustos_elf, plain):
    machine, lines = boot_suite(rustos_elf)
    end, _ = plain
    while machine.icount < end // 2:
        machine.run(max_instructions=77_777, timeout=120)
    machine.add_watchpoint(machine.resolve("RUSTOS_TICKS"), 8, WatchKind.WRITE)
    stop = machine.run(timeout=120)
    assert stop.kind is StopKind.WATCHPOINT, stop.describe()
    machine.remove_watchpoint(machine.resolve("RUSTOS_TICKS"), 8, WatchKind.WRITE)
    assert finish(machine, lines) == plain
