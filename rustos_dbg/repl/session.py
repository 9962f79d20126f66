"""A debugging session: one machine, the command registry, and stop reports.

Contract: ``Session(machine).execute(line)`` runs one command line and returns
its text; errors (the user's or the guest's) raise ``CommandError`` with one
line, and the session stays usable. ``json=True`` makes inspectors return
JSON. The REPL, batch mode (``-ex``/``-x``), tests and the GDB stub's
``monitor`` all go through :meth:`execute` (or :meth:`execute_pieces`, which
yields a long listing's output as it is produced). Each command that runs the guest
stays within :attr:`Session.limits` (:mod:`.runcontrol`; none unless set,
batch mode sets its defaults). :meth:`restart` reboots the same kernel and
keeps the debugger's settings (the hang timeout too); a recorded history starts again at the boot.
"""

from __future__ import annotations

import shlex
import signal
import threading
from typing import Iterator

from ..inspect.kernel.syscalls import install as install_syscall_describer
from ..machine.errors import RustosDbgError
from .registry import REGISTRY, CommandError, split_command
from .runcontrol import Budget, Limits


class Session:
    """Commands over one machine."""

    def __init__(self, machine, json: bool = False) -> None:
        """A session on ``machine``; ``json`` selects JSON output for inspectors."""
        from . import commands  # noqa: F401  (registers the commands)

        self.machine = machine
        install_syscall_describer(machine)   # calls from ring 3 are logged with their process and arguments
        self.json = json
        self.registry = REGISTRY
        self.last_stop = None
        #: Set by Ctrl-C while a command runs; stepping loops stop on it.
        self.interrupted = threading.Event()
        #: How far one command may run the guest (``set limit``).
        self.limits = Limits()
        #: The current command's share of :attr:`limits`.
        self.budget = Budget(self.limits, machine)
        #: Explicit checkpoints (``checkpoint``) by number.
        self.checkpoints: dict = {}
        #: ``check on``: the invariants run at every stop; ``check every N``: every N instructions.
        self.check_at_stops = False
        self.check_every: int | None = None
        #: True while gdb's ``monitor`` runs a command (the machine is gdb's).
        self.under_gdb = False
        #: ``thread N`` / ``task N`` / ``frame N``: what regs, bt, x, dis and walk look at (:mod:`.selection`).
        self.selection = None

    def execute(self, line: str) -> str:
        """Runs one command line; returns its output text."""
        return "".join(self.execute_pieces(line))

    def execute_pieces(self, line: str) -> Iterator[str]:
        """Runs one command line, yielding its output as the command produces it
        (a command may return its text whole or an iterator of pieces: a long
        listing); the pieces joined are :meth:`execute`'s text. Closing the
        iterator early stops the command where it is."""
        line = line.strip()
        if not line or line.startswith("#"):
            return
        word, args = split_command(line)
        cmd = self.registry.find(word)
        if cmd is None:
            raise CommandError(f"unknown command '{word}' (try 'help')")
        self.interrupted.clear()
        if cmd.moves:
            self.selection = None
        self.budget = Budget(self.limits, self.machine)
        previous = None
        if threading.current_thread() is threading.main_thread():
            # Ctrl-C stops the guest (between slices or steps), not the debugger.
            previous = signal.signal(signal.SIGINT, self._on_sigint)
        try:
            out = cmd.func(self, args.strip()) or ""
            if isinstance(out, str):
                yield out
            else:
                yield from out
        except CommandError:
            raise
        except RustosDbgError as e:
            raise CommandError(str(e)) from None
        except (ValueError, KeyError) as e:
            raise CommandError(f"{word}: {e}") from None
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    def restart(self) -> None:
        """Reboots the same kernel (the image already parsed), command line, RAM size
        and mode on a fresh machine, keeping breakpoints (with their conditions),
        watchpoints (pending again until their pages are mapped), caught vectors and system calls.
        Inputs, output, the exception log and explicit checkpoints start anew; a
        recorded history is recorded again from the boot (same interval and budget)."""
        from ..machine import Machine

        old = self.machine
        new = Machine(image=old.image, cmdline=old.cmdline, ram_mb=old.ram_bytes >> 20, mode=old.mode, disk=old.disk,
                      modules=old.modules, initrd=old.initrd)
        for address in old.breakpoints.addresses():
            new.breakpoints.add(address, condition=old.breakpoints.condition(address))
        for watch in old.watchpoints.watches():
            new.add_watchpoint(watch.address, watch.length, watch.kind, condition=watch.condition)
        new.catch |= old.catch
        new.catch_panic = old.catch_panic
        new.syscalls.catch |= old.syscalls.catch
        new.syscalls.catch_all = old.syscalls.catch_all
        install_syscall_describer(new)
        new.hang.timeout_ns = old.hang.timeout_ns
        if old.history.enabled:
            new.history.enable(old.history.interval, old.history.budget)
        self.machine = new
        self.last_stop = None
        self.checkpoints = {}
        self.selection = None

    def _on_sigint(self, *_) -> None:
        self.interrupted.set()
        self.machine.interrupt()

    def reader(self):
        """What inspectors read: the machine through :attr:`selection` (none: the CPU's state),
        with the symbols of the address space in use."""
        from .selection import reader_for

        return reader_for(self)

    def split(self, args: str) -> list[str]:
        """Splits arguments like a shell (quotes allowed)."""
        try:
            return shlex.split(args)
        except ValueError as e:
            raise CommandError(f"bad quoting: {e}") from None
