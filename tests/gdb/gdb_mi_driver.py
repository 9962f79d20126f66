"""Test helpers: the real gdb driven over MI (pygdbmi), and a machine served to it.

``Gdb`` waits for the record each command should produce (a result, or the
``*stopped`` notification of an execution command); ``served_machine``
boots RustOS to its shell prompt and serves it with a :class:`MachineServer`
on an ephemeral port of 127.0.0.1.
"""

from __future__ import annotations

import os
import select
import socket
import time
from contextlib import contextmanager

import pytest

GDB = "/usr/bin/gdb"
#: Safety net against a hung gdb; never a timing assertion.
GIVE_UP_AFTER = 30.0
HEAP_CMD = "rustos::shell::commands::heap_cmd"
EXECUTE = "rustos::shell::commands::execute"
TICKS = "rustos::time::RUSTOS_TICKS"
#: Its ELF symbol (#[no_mangle]).
TICKS_SYMBOL = "RUSTOS_TICKS"

have_gdb = os.access(GDB, os.X_OK)

#: The marks of a test that drives the real gdb against a served kernel.
REAL_GDB_MARKS = [
    pytest.mark.gdb,
    pytest.mark.emulator,
    pytest.mark.timeout(120),
    pytest.mark.skipif(not have_gdb, reason="gdb is not installed"),
]


class Gdb:
    """A thin MI driver around one gdb process."""

    def __init__(self, elf, options=()):
        """gdb on ``elf``; ``options`` go before the file (e.g. ``("-iex", CMD)``)."""
        from pygdbmi.gdbcontroller import GdbController

        self.mi = GdbController(command=[GDB, "-nx", "-q", *options, "--interpreter=mi3", str(elf)])
        self.records: list = []
        # Accept commands (e.g. -exec-interrupt) while the target runs.
        self.command("-gdb-set mi-async on")
        self.command("-gdb-set confirm off")

    def _wait_for(self, done, what):
        # select() on gdb's output, then read without pygdbmi's extra wait for more output.
        collected: list = []
        give_up = time.monotonic() + GIVE_UP_AFTER
        fd = self.mi.io_manager.stdout_fileno
        while time.monotonic() < give_up:
            select.select([fd], [], [], 0.2)
            batch = self.mi.get_gdb_response(timeout_sec=0, raise_error_on_timeout=False)
            collected += batch
            self.records += batch
            if done(collected):
                return collected
        pytest.fail(f"gdb did not answer {what!r} in time; got {collected!r}")

    def command(self, cmd, expect=("done",)):
        """Runs an MI command, waits for its result record; returns all records."""
        self.mi.write(cmd, read_response=False)
        records = self._wait_for(lambda rs: any(r["type"] == "result" for r in rs), cmd)
        result = [r for r in records if r["type"] == "result"][0]
        assert result["message"] in expect, (cmd, records)
        return records

    def console(self, cmd, expect=("done",)):
        """Runs a CLI command; returns its console output as one string."""
        quoted = cmd.replace("\\", "\\\\").replace('"', '\\"')
        records = self.command(f'-interpreter-exec console "{quoted}"', expect=expect)
        return "".join(r["payload"] for r in records if r["type"] in ("console", "target") and r["payload"])

    def start(self, cmd):
        """Sends an execution command without waiting for the stop."""
        self.mi.write(cmd, read_response=False)

    def wait_stopped(self):
        """Waits for ``*stopped``; returns its payload."""
        records = self._wait_for(
            lambda rs: any(r["type"] == "notify" and r["message"] == "stopped" for r in rs), "*stopped")
        return [r for r in records if r["type"] == "notify" and r["message"] == "stopped"][-1]["payload"]

    def run_until_stopped(self, cmd):
        """Runs an execution command; returns the payload of ``*stopped``."""
        self.start(cmd)
        return self.wait_stopped()

    def connect(self, port, host="127.0.0.1"):
        """``target remote HOST:PORT``."""
        self.command(f"-target-select remote {host}:{port}", expect=("connected",))

    def _result(self, cmd):
        return [r for r in self.command(cmd) if r["type"] == "result"][0]["payload"]

    def reg(self, name) -> int:
        """A register's raw value as gdb sees it (flag types included)."""
        names = self._result("-data-list-register-names")["register-names"]
        values = self._result(f"-data-list-register-values x {names.index(name)}")["register-values"]
        return int(values[0]["value"], 16)

    def frames(self) -> list[dict]:
        """The backtrace, innermost first."""
        return self._result("-stack-list-frames")["stack"]

    def exit(self):
        try:
            self.mi.exit()
        except Exception:
            pass


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served_machine(elf, at_prompt=True, monitor=True, history=None, monitor_json=False, initrd=None, **target_kwargs):
    """Yields ``(machine, target, server)``: RustOS served on an ephemeral port;
    gdb's ``monitor`` runs the REPL's commands (as JSON with ``monitor_json``) unless ``monitor`` is False;
    ``history`` (a checkpoint interval) records the run from the prompt on; ``initrd`` is the ramdisk."""
    from rustos_dbg.gdb import MachineServer, MachineTarget
    from rustos_dbg.machine import Machine
    from rustos_dbg.repl import Session
    from rustos_dbg.repl.monitor import GdbMonitor
    from rustos_dbg.testing import PROMPT, run_to_serial

    machine = Machine.boot(elf, initrd=initrd)
    if at_prompt:
        run_to_serial(machine, PROMPT)
    if history is not None:
        machine.history.enable(interval=history)
    if monitor:
        target_kwargs["monitor"] = GdbMonitor(Session(machine, json=monitor_json))
    target = MachineTarget(machine, **target_kwargs)
    target.dwarf_ready.wait(300)  # the thread list is complete from gdb's first query on
    server = MachineServer(target, port=0)
    server.start()
    try:
        yield machine, target, server
    finally:
        server.close()
