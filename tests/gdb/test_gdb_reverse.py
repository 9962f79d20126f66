"""The real gdb's reverse execution against RustOS: ``reverse-stepi``,
``reverse-continue`` (breakpoints, watchpoints, the beginning of history),
``reverse-next`` and ``reverse-finish``, served with the history recorded."""

from __future__ import annotations

import re

import pytest

from gdb_mi_driver import EXECUTE, HEAP_CMD, REAL_GDB_MARKS, TICKS, TICKS_SYMBOL, served_machine

pytest.importorskip("pygdbmi.gdbcontroller")

pytestmark = REAL_GDB_MARKS

#: A checkpoint every million instructions: each step back re-executes at most that.
INTERVAL = 1_000_000
REGS = ("rip", "rsp", "rbp", "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r12", "eflags")


@pytest.fixture
def recorded(kernel_elf):
    """``(machine, target, server)``: RustOS at its prompt, recording its history, served."""
    with served_machine(kernel_elf, history=INTERVAL) as parts:
        yield parts


def _regs(gdb) -> dict[str, int]:
    return {name: gdb.reg(name) for name in REGS}


def test_qsupported_advertises_reverse_with_a_history(recorded, kernel_elf, gdb_factory):
    machine, target, server = recorded
    gdb = gdb_factory()
    gdb.connect(server.address[1])
    assert "ReverseStep+" in gdb.console("maint packet qSupported")
    with served_machine(kernel_elf, at_prompt=False) as (_, _, plain):
        other = gdb_factory()
        other.connect(plain.address[1])
        assert "Reverse" not in other.console("maint packet qSupported")
        assert other.console("maint packet bs").strip().endswith('received: ""')


def test_reverse_stepi_and_reverse_continue_to_breakpoints_and_the_beginning(recorded, gdb_factory):
    machine, target, server = recorded
    start = machine.history.start
    machine.send_serial(b"heap\nheap\n")
    gdb = gdb_factory()
    gdb.connect(server.address[1])
    gdb.console(f"break {EXECUTE}")
    hits = []
    for _ in range(2):
        stopped = gdb.run_until_stopped("-exec-continue")
        assert stopped["reason"] == "breakpoint-hit", stopped
        hits.append((machine.icount, gdb.reg("rip")))
    execute = machine.symbols.find(EXECUTE)
    assert hits[0][0] < hits[1][0] and hits[0][1] == hits[1][1]
    assert execute.address <= hits[0][1] < execute.address + execute.size

    # reverse-stepi, then stepi forward again: the same place and registers.
    for _ in range(3):
        gdb.run_until_stopped("-exec-step-instruction")
    before, at = _regs(gdb), machine.icount
    gdb.run_until_stopped("-exec-step-instruction")
    after, at_after = _regs(gdb), machine.icount
    assert after["rip"] != before["rip"]
    gdb.run_until_stopped("-exec-step-instruction --reverse")
    assert _regs(gdb) == before and machine.icount == at
    gdb.run_until_stopped("-exec-step-instruction")
    assert _regs(gdb) == after and machine.icount == at_after

    # Two reverse-continues land on the second then the first hit, the third at the beginning.
    for icount, rip in reversed(hits):
        stopped = gdb.run_until_stopped("-exec-continue --reverse")
        assert stopped["reason"] == "breakpoint-hit", stopped
        assert (machine.icount, gdb.reg("rip")) == (icount, rip)
    seen = len(gdb.records)
    stopped = gdb.run_until_stopped("-exec-continue --reverse")
    assert stopped.get("reason", "no-history") == "no-history", stopped
    assert machine.icount == start
    assert "No more reverse-execution history" in "".join(str(r.get("payload")) for r in gdb.records[seen:])

    # Forward again from the beginning: the recorded input replays, the same hits come again.
    stopped = gdb.run_until_stopped("-exec-continue")
    assert stopped["reason"] == "breakpoint-hit" and machine.icount == hits[0][0], stopped


def _number(text: str) -> int:
    """The number in gdb's printing of an ``AtomicU64`` (``... (5)}}``)."""
    return int(re.search(r"\((\d+)\)\W*$", text).group(1))


def _where(stopped) -> tuple[str, int]:
    return stopped["frame"].get("func"), int(stopped["frame"].get("line", 0))


def test_reverse_finish_and_reverse_next_inside_a_function(recorded, gdb_factory):
    machine, target, server = recorded
    machine.send_serial(b"heap\n")
    gdb = gdb_factory()
    gdb.connect(server.address[1])
    gdb.console(f"break {HEAP_CMD}")
    stopped = gdb.run_until_stopped("-exec-continue")
    assert stopped["reason"] == "breakpoint-hit", stopped
    hit, pc = machine.icount, gdb.reg("rip")

    # reverse-finish: back in the caller, at the line of the call.
    stopped = gdb.run_until_stopped("-exec-finish --reverse")
    assert stopped["frame"]["func"] == EXECUTE, stopped
    execute = machine.symbols.find(EXECUTE)
    assert execute.address <= gdb.reg("rip") < execute.address + execute.size
    assert machine.icount < hit
    # `step` from there enters heap_cmd again: the same breakpoint, the same instruction.
    stopped = gdb.run_until_stopped("-exec-step")
    assert (machine.icount, gdb.reg("rip")) == (hit, pc), stopped

    # Two lines on, one back.
    gdb.console("delete")
    places = [_where(stopped)]
    for _ in range(2):
        places.append(_where(gdb.run_until_stopped("-exec-next")))
        counts = machine.icount
    assert places[1] != places[2], places
    stopped = gdb.run_until_stopped("-exec-next --reverse")
    assert _where(stopped) == places[1], (places, stopped)
    assert hit < machine.icount < counts


def test_a_watchpoint_stops_going_backwards_before_the_write(recorded, gdb_factory):
    machine, target, server = recorded
    ticks = machine.symbols.find(TICKS_SYMBOL).address
    gdb = gdb_factory()
    gdb.connect(server.address[1])
    gdb.console(f"watch {TICKS}")
    hits = []
    for _ in range(2):
        stopped = gdb.run_until_stopped("-exec-continue")
        assert stopped["reason"] == "watchpoint-trigger", stopped
        value = int.from_bytes(machine.read_virtual(ticks, 8), "little")
        hits.append((machine.icount, value))
    assert hits[1][1] == hits[0][1] + 1

    for icount, value in reversed(hits):
        stopped = gdb.run_until_stopped("-exec-continue --reverse")
        assert stopped["reason"] == "watchpoint-trigger", stopped
        # Stopped at the writing instruction, before it: the value is the one before the write.
        assert machine.icount == icount - 1
        assert int.from_bytes(machine.read_virtual(ticks, 8), "little") == value - 1
        assert (_number(stopped["value"]["old"]), _number(stopped["value"]["new"])) == (value, value - 1), stopped
    # Forward from there: the write happens again.
    stopped = gdb.run_until_stopped("-exec-continue")
    assert stopped["reason"] == "watchpoint-trigger" and machine.icount == hits[0][0], stopped
