"""gdb's ``monitor`` under the real gdb: inspection commands run, commands that move the
machine are refused (gdb's view stays true), and a target without a monitor says so."""

from __future__ import annotations

import socket

import pytest

from gdb_mi_driver import free_port, REAL_GDB_MARKS, served_machine

pytest.importorskip("pygdbmi.gdbcontroller")

pytestmark = REAL_GDB_MARKS


def _gate_14(text: str) -> str:
    lines = [line for line in text.splitlines() if line.split()[:1] == ["14"]]
    assert len(lines) == 1, text
    return lines[0]


def test_monitor_idt_14(served, gdb_factory):
    machine, target, server = served
    gdb = gdb_factory()
    gdb.connect(server.address[1])
    gate = _gate_14(gdb.console("monitor idt 14"))
    handler = machine.symbols.find("trap_stub_14").address
    assert "ist 2" in gate and f"{handler:x}" in gate, gate


def test_without_a_monitor_gdb_is_told_monitor_is_not_supported(kernel_elf, gdb_factory):
    with served_machine(kernel_elf, monitor=False) as (machine, target, server):
        gdb = gdb_factory()
        gdb.connect(server.address[1])
        records = gdb.command('-interpreter-exec console "monitor idt 14"', expect=("error",))
        error = [r for r in records if r["type"] == "result"][0]["payload"]["msg"]
        assert error == "Target does not support this command.", records
        assert gdb.reg("rip") == machine.reg("rip")  # the session goes on


def test_monitor_stepi_is_refused_and_gdb_pc_stays_true(served, gdb_factory):
    machine, target, server = served
    gdb = gdb_factory()
    gdb.connect(server.address[1])
    pc, count = gdb.reg("rip"), machine.icount
    assert pc == machine.reg("rip")
    out = gdb.console("monitor stepi")
    assert out == "error: monitor stepi: the machine is gdb's; use gdb's `stepi`\n", out
    assert (machine.reg("rip"), machine.icount) == (pc, count)  # nothing ran
    assert gdb.reg("rip") == pc
    gdb.run_until_stopped("-exec-step-instruction")  # gdb's own stepi moves it, and gdb sees where
    assert machine.icount > count and gdb.reg("rip") == machine.reg("rip")


def test_monitor_gdbserver_is_refused_and_the_session_still_answers(served, gdb_factory):
    machine, target, server = served
    gdb = gdb_factory()
    gdb.connect(server.address[1])
    port = free_port()
    out = gdb.console(f"monitor gdbserver :{port}")
    assert out.startswith("error: monitor gdbserver: the machine is gdb's; gdb is already connected"), out
    with pytest.raises(OSError):  # nothing listens there
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    assert "ist 2" in _gate_14(gdb.console("monitor idt 14"))
    assert gdb.reg("rip") == machine.reg("rip")
    stopped = gdb.run_until_stopped("-exec-step-instruction")
    assert stopped["reason"] == "end-stepping-range", stopped


def test_the_repl_gdbserver_monitor_refuses_a_second_gdbserver(kernel_elf, gdb_factory):
    import threading

    from rustos_dbg.machine import Machine
    from rustos_dbg.repl import Session

    machine = Machine.boot(kernel_elf)
    session = Session(machine)
    port, results = free_port(), []
    server = threading.Thread(target=lambda: results.append(session.execute(f"gdbserver 127.0.0.1:{port}")),
                              daemon=True)
    server.start()
    gdb = gdb_factory()
    for _ in range(100):  # until the command listens (a retry loop, no timing assertion)
        try:
            gdb.connect(port)
            break
        except BaseException:
            server.join(0.1)
    out = gdb.console("monitor gdbserver :1235")
    assert "the machine is gdb's; gdb is already connected: `detach` it first" in out, out
    assert "rip" in gdb.console("monitor regs")  # the session still answers
    gdb.run_until_stopped("-exec-step-instruction")
    gdb.command("-target-detach")
    server.join(30)
    assert results == ["gdbserver: gdb session ended (detached); back in the REPL"]
    assert session.last_stop is not None and session.last_stop.icount == machine.icount


def test_monitor_fb_and_pci(served, gdb_factory):
    machine, target, server = served
    gdb = gdb_factory()
    gdb.connect(server.address[1])
    assert gdb.console("monitor fb").startswith("mode: text"), "fb"
    out = gdb.console("monitor pci")
    assert "VGA controller: PCI device 1234:1111" in out and "BAR0: 32 bit memory prefetchable at 0xfd000000" in out, out
