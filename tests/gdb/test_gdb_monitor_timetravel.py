"""gdb's ``monitor when`` and ``monitor last`` under the real gdb, on a machine recording
its history: they follow gdb's reverse steps; the REPL's own reverse commands are refused."""

from __future__ import annotations

import pytest

from gdb_mi_driver import REAL_GDB_MARKS, TICKS_SYMBOL, served_machine

pytest.importorskip("pygdbmi.gdbcontroller")

pytestmark = REAL_GDB_MARKS


def test_monitor_when_and_last_follow_gdb_going_back(kernel_elf, gdb_factory):
    with served_machine(kernel_elf, history=1_000_000) as (machine, target, server):
        machine.run(max_instructions=2_000_000, timeout=60)  # a few timer ticks
        gdb = gdb_factory()
        gdb.console("set remotetimeout 60")  # `last` re-executes the past (and may build the line table first)
        gdb.connect(server.address[1])
        now = machine.icount
        assert gdb.console("monitor when").startswith(f"instruction {now} of ")
        ticks = machine.resolve(TICKS_SYMBOL)
        last = gdb.console(f"monitor last {TICKS_SYMBOL} 8")
        assert last.startswith(f"{ticks:#x} <{TICKS_SYMBOL}> (8 bytes), before instruction {now}:"), last
        assert "<rustos::interrupts::irq::" in last, last
        gdb.run_until_stopped("-exec-step-instruction --reverse")
        assert machine.icount == now - 1
        assert gdb.console("monitor when").startswith(f"instruction {now - 1} of ")
        out = gdb.console("monitor rsi")
        assert out == "error: monitor rsi: the machine is gdb's; use gdb's `reverse-stepi`\n", out
        assert machine.icount == now - 1 and gdb.reg("rip") == machine.reg("rip")
