"""A gdb that vanishes while the machine is stopped leaves it stopped for the next gdb (QEMU's
behaviour); a gdb that detaches hands it back to the free-running loop."""

from __future__ import annotations

import time

import pytest

from gdb_mi_driver import REAL_GDB_MARKS, served_machine

pytest.importorskip("pygdbmi.gdbcontroller")

pytestmark = REAL_GDB_MARKS


def _wait_sessions(server, n):
    deadline = time.monotonic() + 60
    while len(server.session_ends) < n:
        assert time.monotonic() < deadline, "the session never ended"
        time.sleep(0.05)


def test_hang_up_keeps_the_machine_stopped_and_the_next_gdb_is_served(kernel_elf, gdb_factory):
    from gdbstub import SessionEnd
    from rustos_dbg.gdb import Handoff

    with served_machine(kernel_elf) as (machine, target, server):
        gate = target.gate = Handoff(machine, frozen=True)  # owned from the start: no loop needed
        first = gdb_factory()
        first.connect(server.address[1])
        rip, count = first.reg("rip"), machine.icount
        first.mi.gdb_process.kill()  # gdb vanishes without a detach
        _wait_sessions(server, 1)
        assert server.session_ends == [SessionEnd.DISCONNECTED]
        assert gate.owned  # still stopped: the free-running loop does not get it back
        second = gdb_factory()
        second.connect(server.address[1])
        assert second.reg("rip") == rip and machine.icount == count
        second.console("detach")
        _wait_sessions(server, 2)
        assert server.session_ends[-1] == SessionEnd.DETACHED
        assert not gate.owned  # after a detach it runs on
