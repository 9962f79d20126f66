"""Real gdb on a kernel that is not RustOS: the Limine test kernel, served from its entry."""

from __future__ import annotations

from gdb_mi_driver import REAL_GDB_MARKS, Gdb, served_machine

pytestmark = REAL_GDB_MARKS


def test_gdb_debugs_the_limine_kernel(limine_elf):
    with served_machine(limine_elf, at_prompt=False) as (machine, _, server):
        gdb = Gdb(limine_elf)
        try:
            gdb.connect(server.address[1])
            threads = gdb.console("info threads")
            assert "Thread 1 (cpu, running, ring 0)" in threads        # no RustOS thread table: the CPU
            assert gdb.reg("rip") == machine.image.entry
            gdb.console("break limine_test_deepest")
            gdb.run_until_stopped("-exec-continue")
            names = [f.get("func", "") for f in gdb.frames()]
            assert names[-1].endswith("_start")
            assert sum(n.endswith("limine_test_chain") for n in names) == 4, names
            assert "64-bit TSS (busy)" in gdb.console("monitor gdt")
            heap = gdb.console("monitor heap", expect=("done", "error"))
            assert "this kernel has no RustOS heap (symbol RUSTOS_HEAP not found)" in heap
        finally:
            gdb.exit()
