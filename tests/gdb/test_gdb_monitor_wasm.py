"""gdb's ``monitor wasm`` under the real gdb: a trapped WASM instance's call stack,
named from the module's name section, without moving gdb's machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from gdb_mi_driver import REAL_GDB_MARKS, served_machine

pytest.importorskip("pygdbmi.gdbcontroller")

pytestmark = REAL_GDB_MARKS


def test_monitor_wasm_shows_the_trapped_stack(kernel_elf, gdb_factory):
    from rustos_dbg.testing import PROMPT, run_to_serial

    with served_machine(kernel_elf, initrd=Path(kernel_elf).with_name("initrd.tar")) as (machine, target, server):
        machine.send_serial("wasm /ram/trap.wasm deep\n")
        run_to_serial(machine, PROMPT)
        gdb = gdb_factory()
        gdb.connect(server.address[1])
        now = machine.icount
        text = gdb.console("monitor wasm")
        assert text.startswith("wasm: 1 run(s) since boot, 0 running\ninstance 0: /ram/trap.wasm trapped\n"), text
        assert "  call stack (64 frame(s), innermost first):\n    #0  func 4 recurse\n" in text
        assert text.endswith("    #63 func 5 main\n"), text
        assert machine.icount == now
