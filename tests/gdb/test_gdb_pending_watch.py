"""Under the real gdb, a watchpoint on an address not mapped yet is accepted (as QEMU accepts it):
the machine keeps it pending and arms it when the page appears."""

from __future__ import annotations

import pytest

from gdb_mi_driver import REAL_GDB_MARKS

pytest.importorskip("pygdbmi.gdbcontroller")

pytestmark = REAL_GDB_MARKS

UNMAPPED = 0x5000_0000_0000


def test_watch_on_an_unmapped_address_is_inserted_and_pending(served, gdb_factory):
    machine, target, server = served
    gdb = gdb_factory()
    gdb.connect(server.address[1])
    gdb.console("set language c")
    gdb.console("set breakpoint always-inserted on")  # inserted now and kept while stopped
    out = gdb.console(f"watch *(unsigned long *){UNMAPPED:#x}")
    assert "Hardware watchpoint" in out, out
    watches = machine.watchpoints.watches()
    assert [(w.address, w.length, w.pending) for w in watches] == [(UNMAPPED, 8, True)], watches
    gdb.run_until_stopped("-exec-step-instruction")  # and the session goes on
    assert gdb.reg("rip") == machine.reg("rip")
    assert "hw watchpoint" in gdb.console("info watchpoints")
