"""A kernel panic under the real gdb: ``monitor catch panic``, gdb sees SIGABRT at the panic
handler, ``monitor why`` gives the panic's location, message and backtrace."""

from __future__ import annotations

import pytest

from gdb_mi_driver import REAL_GDB_MARKS

pytest.importorskip("pygdbmi.gdbcontroller")

pytestmark = REAL_GDB_MARKS


def test_a_caught_panic_is_sigabrt_with_the_message_in_monitor_why(served, gdb_factory, kernel_elf):
    machine, target, server = served
    gdb = gdb_factory()
    gdb.connect(server.address[1])
    assert "catching panics" in gdb.console("monitor catch panic")
    machine.send_serial(b"panic\r")
    stopped = gdb.run_until_stopped("-exec-continue")
    assert (stopped["reason"], stopped["signal-name"]) == ("signal-received", "SIGABRT"), stopped
    handler = machine.symbols.find("rust_begin_unwind").address
    assert int(stopped["frame"]["addr"], 16) == handler == gdb.reg("rip")
    source = kernel_elf.parent.parent / "kernel" / "src" / "shell" / "commands.rs"
    line = next(i for i, text in enumerate(source.read_text().splitlines(), 1)
                if 'panic!("panic requested from the shell")' in text)
    why = gdb.console("monitor why")
    assert why.startswith(f"panic at kernel/src/shell/commands.rs:{line}: panic requested from the shell"), why
    assert "rustos::shell::commands::panic_cmd" in why
    assert any("panic_cmd" in f.get("func", "") for f in gdb.frames())  # gdb's own backtrace agrees
