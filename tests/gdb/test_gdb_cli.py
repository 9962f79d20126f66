"""`rustos-dbg run --gdb` as a subprocess, with the real gdb attached."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gdb_mi_driver import GIVE_UP_AFTER, HEAP_CMD, REAL_GDB_MARKS

pytest.importorskip("pygdbmi.gdbcontroller")

pytestmark = REAL_GDB_MARKS

ROOT = Path(__file__).resolve().parents[2]


class Cli:
    """``rustos-dbg run ELF --headless --gdb 127.0.0.1:0 [extra]``, its output collected."""

    def __init__(self, elf, *extra):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rustos_dbg", "run", str(elf), "--headless", "--gdb", "127.0.0.1:0", *extra],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out, self.err = bytearray(), bytearray()
        for stream, sink in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._collect, args=(stream, sink), daemon=True).start()
        self.port = int(self.wait_for(rb"gdb server on 127\.0\.0\.1:(\d+)\n", self.err).group(1))

    @staticmethod
    def _collect(stream, sink):
        for chunk in iter(lambda: stream.read1(4096), b""):
            sink += chunk

    def wait_for(self, pattern, where=None, start=0):
        where = self.out if where is None else where
        give_up = time.monotonic() + GIVE_UP_AFTER
        while time.monotonic() < give_up:
            found = re.compile(pattern).search(bytes(where), start)
            if found:
                return found
            if self.proc.poll() is not None:
                time.sleep(0.1)
                found = re.compile(pattern).search(bytes(where), start)
                if found:
                    return found
                pytest.fail(f"rustos-dbg exited ({self.proc.returncode}): {bytes(self.err)!r}")
            time.sleep(0.02)
        pytest.fail(f"{pattern!r} not seen; stdout {bytes(self.out)[-500:]!r} stderr {bytes(self.err)!r}")

    def type(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def cli_factory(kernel_elf):
    started = []

    def start(*extra):
        cli = Cli(kernel_elf, *extra)
        started.append(cli)
        return cli

    yield start
    for cli in started:
        cli.close()


def test_frozen_at_the_entry_until_gdb_continues_then_kill_ends_it(cli_factory, gdb_factory):
    cli = cli_factory("-S")
    time.sleep(0.3)
    assert cli.out == b""  # -S: nothing ran
    gdb = gdb_factory()
    gdb.connect(cli.port)
    assert "pvh_start32" in gdb.console("info symbol $pc")  # the ELF entry
    assert gdb.frames()[0]["func"] == "pvh_start32"

    cli.type("heap\n")  # stdin goes to COM1, read once the shell runs
    gdb.console(f"break {HEAP_CMD}")
    stopped = gdb.run_until_stopped("-exec-continue")
    assert stopped["reason"] == "breakpoint-hit", stopped
    assert any(f.get("func") == HEAP_CMD for f in gdb.frames())
    assert b"rustos> heap" in cli.out

    gdb.console("kill")
    assert cli.proc.wait(timeout=GIVE_UP_AFTER) == 0


def test_attaching_stops_a_running_machine_and_detaching_resumes_it(cli_factory, gdb_factory):
    cli = cli_factory()
    cli.wait_for(rb"rustos> ")  # runs without gdb
    gdb = gdb_factory()
    gdb.connect(cli.port)
    rip = gdb.reg("rip")
    time.sleep(0.3)
    gdb.console("maint flush register-cache")
    assert gdb.reg("rip") == rip  # stopped while gdb is attached
    cli.type("echo typed-while-stopped\n")
    time.sleep(0.3)
    assert b"typed-while-stopped\r\n" not in cli.out and b"typed-while-stopped\n" not in cli.out

    seen = len(cli.out)
    gdb.command("-target-detach")
    cli.wait_for(rb"typed-while-stopped\r?\n", start=seen)  # the shell ran the line after detaching
    cli.proc.send_signal(signal.SIGINT)  # Ctrl-C ends it
    assert cli.proc.wait(timeout=GIVE_UP_AFTER) == 130
    assert b"interrupted" in cli.err


def test_kernel_exit_under_gdb_is_reported_and_ends_the_cli(cli_factory, gdb_factory):
    cli = cli_factory("-S", "--append", "test")
    gdb = gdb_factory()
    gdb.connect(cli.port)
    stopped = gdb.run_until_stopped("-exec-continue")
    assert stopped["reason"] == "exited" and stopped["exit-code"] == "041", stopped  # QEMU status 33
    assert cli.proc.wait(timeout=GIVE_UP_AFTER) == 0
    assert b"passed, 0 failed" in cli.out


def test_bad_gdb_address_is_a_one_line_error(kernel_elf):
    done = subprocess.run([sys.executable, "-m", "rustos_dbg", "run", str(kernel_elf), "--gdb", "host:port"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--gdb" in done.stderr
    done = subprocess.run([sys.executable, "-m", "rustos_dbg", "run", str(kernel_elf), "-S"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and "-S needs --gdb" in done.stderr


def test_a_triple_fault_without_gdb_parks_the_machine_for_gdb(cli_factory, gdb_factory):
    cli = cli_factory()
    cli.wait_for(rb"rustos> ")
    cli.type("fault triple\n")
    cli.wait_for(rb"triple fault .*the machine waits for gdb", where=cli.err)
    assert cli.proc.poll() is None
    gdb = gdb_factory()
    gdb.connect(cli.port)
    assert "trigger_triple_fault" in gdb.console("info symbol $pc")
    stopped = gdb.run_until_stopped("-exec-continue")
    assert stopped["signal-name"] == "SIGSEGV"  # the CPU stays shut down
    assert "trigger_triple_fault" in gdb.console("info symbol $pc")
    gdb.console("kill")
    assert cli.proc.wait(timeout=GIVE_UP_AFTER) == 0


def test_monitor_under_the_cli_inspects_and_refuses_to_move(cli_factory, gdb_factory):
    cli = cli_factory("-S")
    gdb = gdb_factory()
    gdb.connect(cli.port)
    pc = gdb.reg("rip")
    assert f"{pc:#x}" in gdb.console("monitor where")
    assert gdb.console("monitor c") == "error: monitor c: the machine is gdb's; use gdb's `continue`\n"
    gdb.console("maint flush register-cache")
    assert gdb.reg("rip") == pc
    assert cli.out == b""  # nothing ran
    gdb.console("kill")
    assert cli.proc.wait(timeout=GIVE_UP_AFTER) == 0


def test_gdb_goes_back_under_the_cli_and_input_typed_in_the_past_waits(cli_factory, gdb_factory):
    cli = cli_factory()
    cli.wait_for(rb"rustos> ")
    gdb = gdb_factory()
    gdb.connect(cli.port)
    assert "ReverseContinue+" in gdb.console("maint packet qSupported")
    gdb.console("break rustos::shell::commands::execute")
    cli.type("echo one\n")
    stopped = gdb.run_until_stopped("-exec-continue")
    assert stopped["reason"] == "breakpoint-hit", stopped
    at = gdb.reg("rip")
    stopped = gdb.run_until_stopped("-exec-step-instruction --reverse")
    assert stopped["reason"] == "end-stepping-range" and gdb.reg("rip") != at, stopped

    cli.type("echo two\n")  # in the past: it waits for the present, never an error
    stopped = gdb.run_until_stopped("-exec-continue")
    assert stopped["reason"] == "breakpoint-hit" and gdb.reg("rip") == at, stopped  # the same hit again
    gdb.console("delete")
    seen = len(cli.out)
    gdb.start("-exec-continue")
    cli.wait_for(rb"\ntwo\r?\n", start=seen)
    assert bytes(cli.out).count(b"\none") == 1
    stopped = gdb.run_until_stopped("-exec-interrupt")
    assert stopped["reason"] == "signal-received", stopped
    gdb.console("kill")
    assert cli.proc.wait(timeout=GIVE_UP_AFTER) == 0
