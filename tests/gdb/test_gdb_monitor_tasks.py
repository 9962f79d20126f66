"""gdb's ``monitor tasks`` and ``monitor task N`` under the real gdb: the await points and
wakers of every task, one task's async backtrace, and a one-line error for an unknown id."""

from __future__ import annotations

import pytest

from gdb_mi_driver import REAL_GDB_MARKS, served_machine

pytest.importorskip("pygdbmi.gdbcontroller")

pytestmark = REAL_GDB_MARKS


def test_monitor_tasks_and_task_n(kernel_elf, gdb_factory):
    with served_machine(kernel_elf) as (machine, target, server):
        gdb = gdb_factory()
        gdb.connect(server.address[1])
        now, rip = machine.icount, gdb.reg("rip")
        tasks = gdb.console("monitor tasks")
        assert tasks.startswith("executor: 3 live of 32 slots"), tasks
        assert "  its waker is held by rustos::keyboard::KEY_WAKER\n" in tasks
        shell = gdb.console("monitor task 3")
        assert shell.startswith("task 3 (shell): waiting"), shell
        assert "  #0  rustos::shell::shell_task (Suspend0) at shell/mod.rs:" in shell
        assert "  #1  rustos::keyboard::next_key (Suspend0) at src/keyboard.rs:" in shell
        assert "waker held by rustos::keyboard::KEY_WAKER" in shell
        assert gdb.console("monitor task 42") == "error: no task 42 (live task ids: 1, 2, 3)\n"
        assert machine.icount == now and gdb.reg("rip") == rip  # inspecting moved nothing
