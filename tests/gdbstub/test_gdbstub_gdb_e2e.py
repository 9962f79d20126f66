"""End to end: the real gdb (driven over MI by pygdbmi) against GdbServer.

The target is the in-memory FakeX86Target (a unit test of the protocol layer
with a fake target); the kernel-in-emulator acceptance lives elsewhere.
"""

import os
import time

import pytest

from gdbstub import SIGBUS, GdbServer, SignalStop

from gdbstub_fakes import FakeX86Target

GDB = "/usr/bin/gdb"
pygdbmi = pytest.importorskip("pygdbmi.gdbcontroller")

pytestmark = [
    pytest.mark.gdb,
    pytest.mark.timeout(120),
    pytest.mark.skipif(not os.access(GDB, os.X_OK), reason="gdb is not installed"),
]

# Safety net against a hung gdb; not a timing assertion.
_GIVE_UP_AFTER = 30.0


class Gdb:
    """A thin MI driver that waits for the record a command should produce."""

    def __init__(self):
        self.mi = pygdbmi.GdbController(command=[GDB, "-nx", "-q", "--interpreter=mi3"])
        self.records = []
        # Keep accepting commands (e.g. -exec-interrupt) while the target runs.
        self.command("-gdb-set mi-async on")

    def _wait_for(self, done):
        collected = []
        give_up = time.monotonic() + _GIVE_UP_AFTER
        while time.monotonic() < give_up:
            batch = self.mi.get_gdb_response(timeout_sec=0.2, raise_error_on_timeout=False)
            collected += batch
            self.records += batch
            if done(collected):
                return collected
        pytest.fail(f"gdb did not answer in time; got {collected!r}")

    def command(self, cmd, expect=("done",)):
        """Run ``cmd`` and wait for its result record; return all records."""
        self.mi.write(cmd, read_response=False)
        records = self._wait_for(lambda rs: any(r["type"] == "result" for r in rs))
        result = [r for r in records if r["type"] == "result"][0]
        assert result["message"] in expect, (cmd, records)
        return records

    def console(self, cmd):
        """Run a CLI command and return its console output as one string."""
        records = self.command(f'-interpreter-exec console "{cmd}"')
        return "".join(r["payload"] for r in records if r["type"] in ("console", "target"))

    def run_until_stopped(self, cmd):
        """Run an execution command; return the payload of ``*stopped``."""
        self.mi.write(cmd, read_response=False)
        records = self._wait_for(
            lambda rs: any(r["type"] == "notify" and r["message"] == "stopped" for r in rs)
        )
        assert any(r["type"] == "result" and r["message"] in ("running", "done") for r in records)
        return [r for r in records if r["message"] == "stopped"][-1]["payload"]

    def exit(self):
        self.mi.exit()


@pytest.fixture
def setup():
    target = FakeX86Target(mem_base=0x1000, mem_size=0x1000)
    target.memory[:16] = bytes(range(1, 17))
    server = GdbServer(target, port=0)
    server.start()
    gdb = Gdb()
    yield gdb, target, server
    gdb.exit()
    server.close()


def test_real_gdb_registers_memory_breakpoint_detach(setup):
    gdb, target, server = setup
    host, port = server.address
    gdb.command(f"-target-select remote {host}:{port}", expect=("connected",))

    assert "0x1000" in gdb.console("info registers rip")
    memory = gdb.console("x/2gx 0x1000")
    assert "0x0807060504030201" in memory and "0x100f0e0d0c0b0a09" in memory

    gdb.console("set $rax = 0x4242")
    assert target.values["rax"] == 0x4242
    gdb.console("set {long}0x1010 = 0x1122334455667788")
    assert target.memory[0x10:0x18] == (0x1122334455667788).to_bytes(8, "little")

    assert "Breakpoint 1 at 0x1040" in gdb.console("break *0x1040")
    stopped = gdb.run_until_stopped("-exec-continue")
    assert stopped["reason"] == "breakpoint-hit"
    assert int(stopped["frame"]["addr"], 16) == 0x1040
    assert target.values["rip"] == 0x1040
    assert "0x1040" in gdb.console("info registers rip")
    assert target.sw_breakpoints == set()  # GDB removes breakpoints while stopped

    stopped = gdb.run_until_stopped("-exec-step-instruction")
    assert int(stopped["frame"]["addr"], 16) == 0x1041

    assert "echo: hello" in gdb.console("monitor hello")
    assert target.monitor_log == ["hello"]

    gdb.command("-target-detach")
    assert target.detached == 1


def test_real_gdb_interrupt_signals_and_reconnect(setup):
    gdb, target, server = setup
    host, port = server.address
    gdb.command(f"-target-select remote {host}:{port}", expect=("connected",))

    # No breakpoint ahead: the target runs until GDB interrupts it (Ctrl-C).
    gdb.mi.write("-exec-continue", read_response=False)
    assert target.running.wait(timeout=_GIVE_UP_AFTER)
    stopped = gdb.run_until_stopped("-exec-interrupt")
    assert stopped["reason"] == "signal-received"
    assert stopped["signal-name"] == "SIGINT"
    assert target.interrupts >= 1

    # GDB's signal numbering: 10 on the wire is SIGBUS (not Linux's 7).
    target.scripted_stops.append(SignalStop(SIGBUS))
    stopped = gdb.run_until_stopped("-exec-continue")
    assert stopped["signal-name"] == "SIGBUS"
    gdb.console("break *0x1080")
    stopped = gdb.run_until_stopped("-exec-continue")
    assert stopped["reason"] == "breakpoint-hit"
    assert target.resumes[-1].signal == SIGBUS  # GDB passes SIGBUS on

    gdb.command("-target-detach")
    assert target.detached == 1

    # The server keeps serving: connect again and find the target as left.
    gdb.command(f"-target-select remote {host}:{port}", expect=("connected",))
    assert "0x1080" in gdb.console("info registers rip")
    gdb.command("-target-detach")
    assert target.detached == 2
