"""``rustos-dbg run --gdb``: serve the machine to GDB while it runs.

Contract:

* :func:`parse_address` reads ``[HOST:]PORT`` (also ``:PORT``, ``tcp:``
  prefixed as QEMU writes it, and ``[v6]:PORT``); the host defaults to
  127.0.0.1, the only address bound unless one is named. Port 0 picks a
  free port (the printed line tells which).
* :class:`MachineServer` is a :class:`gdbstub.GdbServer` that tells its
  target when each GDB connection ends (:meth:`MachineTarget.session_ended`).
* :class:`Handoff` passes the machine between the free-running loop (the
  CLI's main thread) and GDB: GDB's first packet stops the machine and
  owns it until GDB detaches, after which it runs on; a GDB that hangs up
  (connection lost, gdb killed) leaves it stopped until the next GDB takes
  it, as with QEMU's gdbstub. ``frozen`` starts with GDB owning it (``-S``): the CPU
  waits at the kernel entry until GDB resumes it or detaches.
* :func:`serve_gdb` prints ``rustos-dbg: gdb server on HOST:PORT`` on
  stderr, runs until the kernel exits (returning that stop), ``timeout``
  host seconds pass (a TIME_LIMIT stop), or GDB kills the program
  (``None``). Other final stops (triple fault, HLT for good, reset) are
  reported on stderr and leave the machine parked for GDB to inspect (a
  triple-faulted CPU stays shut down for GDB too, see :mod:`.running`).
  Standard input goes to COM1, fed by whichever thread runs the machine;
  while the machine is in its recorded past (gdb went back), typed input
  waits until the run reaches the end of its history again (going forward
  replays the input recorded then), so the same run comes again.
  The machine records its history (time travel: gdb's reverse commands)
  unless it runs in the fast mode.
  ``monitor`` (optional) answers gdb's ``monitor`` (see :mod:`.target`).
  Ctrl-C (SIGINT) raises ``KeyboardInterrupt`` from the loop (the CLI ends).
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from typing import Callable

from gdbstub import GdbServer, SessionEnd

from ..inputpump import InputPump
from ..inspect.hw.faults import format_deliveries
from ..machine import Stop, StopKind
from ..machine.errors import RustosDbgError
from .stops import CONTINUE_KINDS
from .target import MachineTarget

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 1234


def parse_address(text: str | None) -> tuple[str, int]:
    """``(host, port)`` from ``[HOST:]PORT``; a :class:`RustosDbgError` if malformed."""
    text = (text or "").strip()
    if text.startswith("tcp:"):
        text = text[4:]
    host, port = DEFAULT_HOST, text
    if text.startswith("["):
        inner, _, rest = text[1:].partition("]")
        host, port = inner, rest.lstrip(":")
    elif ":" in text:
        host, _, port = text.rpartition(":")
        host = host or DEFAULT_HOST
    if not port:
        port = str(DEFAULT_PORT)
    if not port.isdigit() or int(port) > 65535 or not host:
        raise RustosDbgError(f"bad --gdb address '{text}' (expected [HOST:]PORT, e.g. 127.0.0.1:1234)")
    return host, int(port)


class MachineServer(GdbServer):
    """A GDB server that calls ``target.session_ended()`` after each connection
    (``hung_up`` when it ended without a detach or kill)."""

    def serve_one(self):
        end = super().serve_one()
        if end is not None:
            self.target.session_ended(hung_up=end is SessionEnd.DISCONNECTED)
        return end


class Handoff:
    """Who runs the machine: the free-running loop, or GDB (thread-safe)."""

    def __init__(self, machine, frozen: bool = False) -> None:
        """``frozen``: GDB owns the machine from the start (``-S``)."""
        self.machine = machine
        self._cond = threading.Condition()
        self._wanted = False
        self.owned = frozen
        self.killed = False

    def acquire(self) -> None:
        """(GDB) Stops the free-running machine and takes it; blocks until then."""
        with self._cond:
            self._wanted = True
            while not self.owned and not self.killed:
                self.machine.interrupt()
                self._cond.wait(0.1)

    def release(self) -> None:
        """(GDB) Hands the machine back to the free-running loop."""
        with self._cond:
            self._wanted = self.owned = False
            self._cond.notify_all()

    def kill(self) -> None:
        """(GDB) The program was killed: the loop ends."""
        with self._cond:
            self.killed = True
            self._cond.notify_all()

    def wait_while_owned(self) -> bool:
        """(Loop) Grants a pending request; True if GDB owns the machine (after a short wait)."""
        with self._cond:
            if self._wanted and not self.owned:
                self.owned = True
                self._cond.notify_all()
            if self.owned and not self.killed:
                self._cond.wait(0.1)
                return True
            return False


def _say(text: str) -> None:
    print(f"rustos-dbg: {text}", file=sys.stderr, flush=True)


def _feed(pump: InputPump, machine) -> None:
    """Sends typed input to COM1, unless the machine is in its recorded past (it waits)."""
    history = machine.history
    if not (history.enabled and machine.icount < history.end):
        pump.drain(machine)


def serve_gdb(machine, address: str | None, freeze: bool = False, timeout: float | None = None,
              stdin=None, monitor: Callable[[str], str] | None = None) -> Stop | None:
    """Serves ``machine`` to GDB on ``address`` while it runs; see the module for the contract.

    ``stdin``: a stream for COM1 (default ``sys.stdin`` when it exists).
    ``monitor``: runs gdb's ``monitor`` commands (none: gdb is told they are not supported).
    """
    host, port = parse_address(address)
    if stdin is None and sys.stdin is not None:
        stdin = sys.stdin
    pump = InputPump(stdin) if stdin is not None else None
    if machine.counter is not None and not machine.history.enabled:
        machine.history.enable()
    gate = Handoff(machine, frozen=freeze)
    target = MachineTarget(machine, monitor=monitor, gate=gate, notify=_say,
                           on_slice=(lambda: _feed(pump, machine)) if pump is not None else None)
    server = MachineServer(target, host=host, port=port)
    try:
        bound = server.listen()
    except OSError as e:
        raise RustosDbgError(f"cannot listen on {host}:{port} for gdb: {e.strerror or e}") from None
    _say(f"gdb server on {bound[0]}:{bound[1]}")
    server.start()
    ctrl_c = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        # A KeyboardInterrupt raised inside a Unicorn hook would be swallowed by
        # ctypes: take Ctrl-C as a flag, and raise it from the loop instead.
        previous = signal.signal(signal.SIGINT, lambda *_: (ctrl_c.set(), machine.interrupt()))
    try:
        return _loop(machine, gate, target, pump, timeout, ctrl_c)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        server.close()


def _loop(machine, gate: Handoff, target: MachineTarget, pump: InputPump | None, timeout: float | None,
          ctrl_c: threading.Event) -> Stop | None:
    deadline = None if timeout is None else time.monotonic() + timeout
    parked: Stop | None = None
    while True:
        if ctrl_c.is_set():
            raise KeyboardInterrupt
        if gate.killed:
            return None
        if deadline is not None and time.monotonic() >= deadline:
            _say(f"timeout after {timeout} s at {machine.symbolize(machine.reg('rip'))}")
            return Stop(StopKind.TIME_LIMIT, machine.reg("rip"), machine.icount)
        if gate.wait_while_owned():
            parked = machine.shutdown  # GDB may have moved the machine on
            continue
        if target.exited is not None:
            return target.exited
        if pump is not None:
            _feed(pump, machine)
        if parked is not None:
            time.sleep(0.05)
            continue
        stop = machine.run(timeout=0.05)
        if stop.kind in CONTINUE_KINDS or stop.kind is StopKind.INTERRUPTED:
            continue
        if stop.kind is StopKind.KERNEL_EXIT:
            return stop
        _say(f"{stop.describe()} ({machine.symbolize(stop.rip)}); the machine waits for gdb")
        if stop.chain:
            print(format_deliveries(stop.chain, machine.exception_log, machine.symbolize), file=sys.stderr)
        parked = stop
