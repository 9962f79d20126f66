"""Exact instruction counts with the real gdb attached: breakpoints, stepi,
a watchpoint and continue from gdb leave the kernel suite's run unchanged
(the count at every serial line's end and at the suite's end)."""

from gdb_mi_driver import REAL_GDB_MARKS, TICKS

from rustos_dbg import StopKind
from rustos_dbg.gdb import MachineServer, MachineTarget
from rustos_dbg.testing import LineEnds

pytestmark = REAL_GDB_MARKS


def test_the_kernel_suite_runs_the_same_with_gdb_attached(kernel_elf, gdb_factory):
    plain, plain_lines = LineEnds.boot(kernel_elf, cmdline="test")
    end = plain.run(timeout=120)
    assert (end.kind, end.exit_code) == (StopKind.KERNEL_EXIT, 33), end.describe()

    machine, lines = LineEnds.boot(kernel_elf, cmdline="test")
    target = MachineTarget(machine)
    server = MachineServer(target, port=0)
    server.start()
    try:
        gdb = gdb_factory()
        gdb.connect(server.address[1])
        gdb.console("break rustos::interrupts::irq::handle")
        for _ in range(3):
            assert gdb.run_until_stopped("-exec-continue")["reason"] == "breakpoint-hit"
        for _ in range(50):
            gdb.run_until_stopped("-exec-step-instruction")
        gdb.console("delete")
        gdb.console(f"watch {TICKS}")
        for _ in range(2):
            assert gdb.run_until_stopped("-exec-continue")["reason"] == "watchpoint-trigger"
        gdb.console("delete")
        assert gdb.run_until_stopped("-exec-continue")["reason"].startswith("exited")
    finally:
        server.close()
    assert target.exited is not None and target.exited.exit_code == 33
    assert (target.exited.icount, lines.ends) == (end.icount, plain_lines.ends)
