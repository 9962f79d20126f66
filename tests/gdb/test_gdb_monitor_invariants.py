"""gdb's ``monitor check``, ``monitor bisect`` and ``monitor locks`` under the real gdb:
bisect reports the first bad instruction without moving gdb's machine."""

from __future__ import annotations

import re

import pytest

from gdb_mi_driver import REAL_GDB_MARKS, served_machine

pytest.importorskip("pygdbmi.gdbcontroller")

pytestmark = REAL_GDB_MARKS


def test_monitor_check_bisect_and_locks_leave_gdbs_machine_where_it_is(kernel_elf, gdb_factory):
    from rustos_dbg.testing import PROMPT, run_to_serial

    with served_machine(kernel_elf, history=2_000_000) as (machine, target, server):
        machine.send_serial("fault overrun\n")
        run_to_serial(machine, PROMPT)
        gdb = gdb_factory()
        gdb.connect(server.address[1])
        gdb.console("set remotetimeout 120")  # bisect re-executes the history: longer than gdb's 2 s
        now, rip = machine.icount, gdb.reg("rip")
        check = gdb.console("monitor check heap")
        assert check.startswith("heap: FAILED: free block 0x"), check
        report = gdb.console("monitor bisect heap")
        head = re.match(r"bisect heap: first fails at icount (\d+) ", report)
        assert head and int(head.group(1)) < now, report
        assert "trigger_heap_overrun" in report
        assert f"(gdb's machine was not moved: it is still at instruction {now})" in report
        assert machine.icount == now and gdb.reg("rip") == rip == machine.reg("rip")
        locks = gdb.console("monitor locks")
        assert re.search(r"^free   rustos::heap::RUSTOS_HEAP \(IrqMutex, word 0x[0-9a-f]+\)$", locks, re.M), locks
        assert machine.icount == now
