"""Conditional breakpoints and watchpoints (`break LOC if EXPR`, `watch ADDR if EXPR`)
on the real kernel: a true condition stops, a false one goes on silently and
leaves the run exactly as it was; watch stops show the old and new values."""

import re
import struct

import pytest

from rustos_dbg.repl import Session
from rustos_dbg.testing import PROMPT, run_to_serial

from .repl_helpers import elf_function, elf_symbol, run, stop_icount

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(240)]

EXECUTE = "rustos::shell::commands::execute"
HEAP_CMD = "rustos::shell::commands::heap_cmd"


def test_breakpoint_stops_only_where_its_condition_holds(session, rustos_elf):
    machine = session.machine
    execute, _ = elf_function(rustos_elf, EXECUTE)
    assert run(session, f"break {EXECUTE} if $rsi == 4") == f"breakpoint at {execute:#x} <{EXECUTE}> if $rsi == 4"
    run(session, 'serial "echo hi\\n"')       # execute(line) with len 7: no stop
    run(session, 'serial "heap\\n"')          # len 4: the stop
    report = run(session, "continue")
    assert report.startswith(f"breakpoint at {execute:#x} after"), report
    assert machine.reg("rip") == execute and machine.reg("rsi") == 4
    assert machine.read_virtual(machine.reg("rdi"), 4) == b"heap"           # &str (ptr, len) in rdi, rsi
    assert "\nhi\n" in machine.serial_output.split("echo hi")[-1]           # the first line ran through


def test_a_condition_that_never_holds_leaves_the_run_unchanged(session, boot_machine, rustos_elf):
    """The same later stop, instruction for instruction, with or without a conditional
    breakpoint and a conditional watchpoint that are hit but never fire."""
    heap_cmd, _ = elf_function(rustos_elf, HEAP_CMD)
    heap, _ = elf_symbol(rustos_elf, "RUSTOS_HEAP")
    allocs = heap + 8 + 32   # IrqMutex data, KernelHeap.stats.allocs (docs/kernel-structures.md section 9)

    def to_heap_cmd(s):
        run(s, f"break {HEAP_CMD}")
        run(s, 'serial "echo one two\\n"')
        run(s, 'serial "heap\\n"')
        report = run(s, "continue")
        assert report.startswith(f"breakpoint at {heap_cmd:#x}"), report
        return stop_icount(report), s.machine.regs(), s.machine.serial_output

    plain = Session(boot_machine())
    run_to_serial(plain.machine, PROMPT)
    expected = to_heap_cmd(plain)

    run(session, f"break {EXECUTE} if $rsi == 12345")                # reached twice, never true
    run(session, f"watch {allocs:#x} if *{allocs:#x} == 0")            # every allocation, never true
    before = struct.unpack("<Q", session.machine.read_virtual(allocs, 8))[0]
    got = to_heap_cmd(session)
    assert struct.unpack("<Q", session.machine.read_virtual(allocs, 8))[0] > before   # the watch was hit
    assert got[0] == expected[0]
    assert got == expected


def test_watch_condition_and_old_new_values(session, rustos_elf):
    machine = session.machine
    ticks, _ = elf_symbol(rustos_elf, "RUSTOS_TICKS")
    now = struct.unpack("<Q", machine.read_virtual(ticks, 8))[0]
    target = now + 3
    assert run(session, f"watch RUSTOS_TICKS if *RUSTOS_TICKS == {target}").endswith(f"if *RUSTOS_TICKS == {target}")
    report = run(session, "continue")
    lines = report.splitlines()
    assert lines[0].startswith(f"watchpoint (write) on {ticks:#x} at"), report
    assert lines[2] == f"  old {target - 1:#x} -> new {target:#x}", report
    assert struct.unpack("<Q", machine.read_virtual(ticks, 8))[0] == target
    stop = session.last_stop
    assert (stop.old_value, stop.new_value) == (target - 1, target)          # for Python users too
    # a read watchpoint reports the value read
    run(session, "unwatch RUSTOS_TICKS")
    run(session, "rwatch RUSTOS_TICKS")
    report = run(session, "continue")
    now = struct.unpack("<Q", machine.read_virtual(ticks, 8))[0]
    stop = session.last_stop
    assert stop.new_value == now and stop.old_value in (now, now - 1)   # a read, maybe of `inc [RUSTOS_TICKS]`
    assert report.splitlines()[2].startswith(f"  value {stop.old_value:#x}"), report


def test_condition_errors_and_syntax(session):
    with pytest.raises(Exception) as info:
        session.execute("break kernel_main if $nosuch == 1")
    assert "unknown register '$nosuch'" in str(info.value)
    with pytest.raises(Exception) as info:
        session.execute("break kernel_main if")
    assert "needs a condition" in str(info.value)
    with pytest.raises(Exception) as info:
        session.execute("watch RUSTOS_TICKS if (1")
    assert "expected ')'" in str(info.value)
    assert run(session, "info breakpoints") == "no breakpoints"
    assert run(session, "info watchpoints") == "no watchpoints"


def test_a_condition_that_cannot_be_evaluated_stops_and_says_why(session, rustos_elf):
    execute, _ = elf_function(rustos_elf, EXECUTE)
    run(session, f"break {EXECUTE} if *0xdeadbeef000 == 1")
    run(session, 'serial "heap\\n"')
    report = run(session, "continue")
    assert report.startswith(f"breakpoint at {execute:#x}"), report
    assert "the condition '*0xdeadbeef000 == 1' could not be evaluated" in report
    assert "0xdeadbeef000" in report.splitlines()[-1]
