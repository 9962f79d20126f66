"""A long ``monitor`` command never wedges the stub: gdb's hang-up or a Ctrl-C byte
abandons it, and the next request (or the next gdb) is served."""

from __future__ import annotations

import time

import pytest

from gdb_mi_driver import REAL_GDB_MARKS, served_machine

pytest.importorskip("pygdbmi.gdbcontroller")

pytestmark = REAL_GDB_MARKS

#: Long enough (tens of seconds) that it is still running when it is abandoned: as JSON
#: (one document, never cut at the output cap the way a text listing is).
LONG = "dis kernel_main 400000"


def _until(predicate, what):
    deadline = time.monotonic() + 60
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _console(client) -> bytes:
    """The console output of one ``qRcmd`` answer: its ``O`` packets up to ``OK``."""
    text = b""
    while (packet := client.next_packet()) != b"OK":
        text += bytes.fromhex(packet[1:].decode())
    return text


def _monitor_running(target) -> bool:
    return target._monitor._thread is not None


def test_gdb_killed_during_a_long_monitor_command_the_next_gdb_is_served(kernel_elf, gdb_factory):
    from gdbstub import SessionEnd

    with served_machine(kernel_elf, monitor_json=True) as (machine, target, server):
        first = gdb_factory()
        first.connect(server.address[1])
        first.mi.write(f'-interpreter-exec console "monitor {LONG}"', read_response=False)
        _until(lambda: _monitor_running(target), "the monitor command never started")
        first.mi.gdb_process.kill()
        _until(lambda: server.session_ends, "the session never ended")
        assert server.session_ends == [SessionEnd.DISCONNECTED]
        second = gdb_factory()
        second.connect(server.address[1])
        assert "rip" in second.console("monitor regs")
        assert second.reg("rip") == machine.reg("rip")


def test_ctrl_c_byte_aborts_a_long_monitor_command(kernel_elf):
    from gdbstub_fakes import RawClient  # the protocol's bytes, as a client that sends \x03 would

    with served_machine(kernel_elf, monitor_json=True) as (machine, target, server):
        client = RawClient.connect(server.address)
        try:
            assert client.request(b"QStartNoAckMode") == b"OK"
            client.send_packet(b"qRcmd," + LONG.encode().hex().encode())
            _until(lambda: _monitor_running(target), "the monitor command never started")
            client.send_raw(b"\x03")
            assert _console(client) == b"monitor command aborted\n"
            client.send_packet(b"qRcmd," + b"regs".hex().encode())
            assert b"rip" in _console(client)
        finally:
            client.close()


def test_ctrl_c_in_gdb_during_a_long_monitor_command_and_gdb_goes_on(kernel_elf):
    """The user's case: gdb in a terminal, Ctrl-C while ``monitor`` runs. gdb ends its
    wait ("Quit") without telling the stub; its next packet abandons the command, and
    the answers that follow are the right ones (no late monitor output taken for them)."""
    import shutil

    pexpect = pytest.importorskip("pexpect")
    with served_machine(kernel_elf, monitor_json=True) as (machine, target, server):
        gdb = pexpect.spawn(shutil.which("gdb"), ["-nx", "-q", str(kernel_elf)], encoding="utf-8", timeout=60)
        try:
            gdb.expect(r"\(gdb\) ")
            gdb.sendline(f"target remote 127.0.0.1:{server.address[1]}")
            gdb.expect(r"\(gdb\) ")
            gdb.sendline(f"monitor {LONG}")
            _until(lambda: _monitor_running(target), "the monitor command never started")
            gdb.sendintr()
            gdb.expect("Quit")
            gdb.expect(r"\(gdb\) ")
            assert _monitor_running(target)  # gdb said nothing to the stub
            gdb.sendline("monitor regs")  # its next packet: the old command is abandoned
            gdb.expect(r"\(gdb\) ")
            assert "rip" in gdb.before and "aborted" not in gdb.before and "kernel_main" not in gdb.before
            assert not _monitor_running(target)
            gdb.sendline("p/x $pc")
            gdb.expect(r"\(gdb\) ")
            assert f"{machine.reg('rip'):#x}" in gdb.before
        finally:
            gdb.terminate(force=True)


def test_a_huge_listing_stops_at_the_cap_and_the_stub_goes_on(kernel_elf):
    """``monitor dis`` of 400,000 instructions: the text is cut at 1 MiB and the command
    stops there (it does not decode the rest), then the next command is served."""
    from gdbstub_fakes import RawClient

    with served_machine(kernel_elf) as (machine, target, server):
        client = RawClient.connect(server.address)
        try:
            assert client.request(b"QStartNoAckMode") == b"OK"
            client.send_packet(b"qRcmd," + LONG.encode().hex().encode())
            body, note = _console(client).decode()[:-1].rsplit("\n", 1)
            assert note == "output truncated at 1 MiB: use the REPL or --json"
            assert len(body) <= 1 << 20 and body.startswith("<kernel_main>:")
            assert len(body.splitlines()) < 400000 // 10   # far from the whole listing
            assert not _monitor_running(target)
            client.send_packet(b"qRcmd," + b"regs".hex().encode())
            assert b"rip" in _console(client)
        finally:
            client.close()
