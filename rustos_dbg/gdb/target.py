"""``MachineTarget``: gdbstub's target protocol over a :class:`~rustos_dbg.machine.Machine`.

Contract (see :mod:`gdbstub.target` for the protocol itself):

* Registers are :mod:`.regfile`'s, in :mod:`.xml`'s order.
* Memory is *virtual*, through the guest's current page tables; writes go
  to read-only pages too (as a debugger's may) and drop the engine's
  translated code there. A read returns the bytes up to the first unmapped
  page; nothing readable, or a write touching an unmapped page (nothing is
  then written), is a ``TargetError`` (``E0e``).
* Z0/Z1 breakpoints are the machine's hook breakpoints (guest memory is
  never patched); Z2/Z3/Z4 are the machine's watchpoints. Inserting twice
  and removing what is not there both succeed. :meth:`detach` and
  :meth:`session_ended` remove everything GDB set and leave the machine as
  it is.
* :meth:`run` steps with :meth:`Machine.step` or continues with
  :meth:`Machine.run` in slices of ``slice_seconds``, calling ``on_slice()``
  between slices (the CLI feeds stdin to COM1 there) until a stop that
  :func:`.stops.stop_reason` reports; :meth:`interrupt` (thread-safe) ends
  it with SIGINT. Single steps keep the PIC quiet, as QEMU's gdbstub steps
  with interrupts masked, so ``stepi``/``next`` stay in the code being
  stepped; a step of a CPU halted in HLT still waits for the next interrupt
  and enters its handler.
* ``monitor CMD`` is the REPL's ``Session.execute(CMD)``; errors come back
  as ``error: ...`` text, never as exceptions.
* ``gate`` (optional) shares the machine with another thread (the CLI's
  free-running loop): the first call of a GDB session ``gate.acquire()``s
  the machine (stopping it), the session's end ``gate.release()``s it, and
  :meth:`kill` calls ``gate.kill()``.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Callable, Optional

from gdbstub import (Errno, Exited, Resume, ResumeAction, Signal, SignalStop, StopReason, TargetError,
                     WatchKind)

from ..machine import GuestMemoryError, Stop, StopKind
from ..machine.watchpoints import WatchKind as MachineWatchKind
from .regfile import RegisterFile
from .stops import note, stop_reason
from .xml import TARGET_XML

_MASK = (1 << 64) - 1
_PAGE = 4096


@contextlib.contextmanager
def quiet_pic(machine):
    """While inside, the PIC reports no pending interrupt (requests stay latched)."""
    pic = machine.devices.pic
    pic.pending = lambda: False
    try:
        yield
    finally:
        del pic.pending


class MachineTarget:
    """A gdbstub target serving ``machine``.

    :param machine: the machine to debug.
    :param session: the REPL session for ``monitor`` (created on first use).
    :param gate: shares the machine with a free-running loop (see the module).
    :param on_slice: called between slices of a continue, by the running thread.
    :param notify: receives one-line notes about stops GDB shows as a bare signal.
    :param slice_seconds: host seconds per slice of a continue.
    """

    def __init__(self, machine, session=None, *, gate=None, on_slice: Optional[Callable[[], None]] = None,
                 notify: Optional[Callable[[str], None]] = None, slice_seconds: float = 0.05) -> None:
        self.machine = machine
        self.registers = RegisterFile(machine)
        self.gate = gate
        self.on_slice = on_slice
        self.notify = notify
        self.slice_seconds = slice_seconds
        self._session = session
        self._sw: set[int] = set()
        self._hw: set[int] = set()
        self._watch: set[tuple[int, int, MachineWatchKind]] = set()
        self._interrupt = threading.Event()
        self._attached = False
        #: The machine's last stop under GDB.
        self.last_stop: Stop | None = None
        #: The KERNEL_EXIT stop, once the kernel exited under GDB.
        self.exited: Stop | None = None
        #: GDB killed the program.
        self.killed = False

    # --- sessions --------------------------------------------------------------------

    def _attach(self) -> None:
        if not self._attached:
            if self.gate is not None:
                self.gate.acquire()
            self._attached = True

    def _forget(self) -> None:
        """Removes every breakpoint and watchpoint GDB set."""
        for mine in (self._sw, self._hw):
            for address in mine:
                self.machine.breakpoints.remove(address)
        self._sw.clear()
        self._hw.clear()
        for key in sorted(self._watch):
            self.machine.remove_watchpoint(*key)
        self._watch.clear()

    def session_ended(self) -> None:
        """The GDB connection ended (any way): clean up and hand the machine back."""
        self._forget()
        if self._attached:
            self._attached = False
            if self.gate is not None:
                self.gate.release()

    def detach(self) -> None:
        """GDB detached: remove its breakpoints and watchpoints; the machine stays as it is."""
        self.session_ended()

    def kill(self) -> None:
        """GDB killed the program: stop serving (the CLI exits)."""
        self.killed = True
        self.session_ended()
        if self.gate is not None:
            self.gate.kill()

    # --- registers and memory ------------------------------------------------------------

    def target_xml(self, annex: str) -> Optional[str]:
        """The description (:mod:`.xml`) for ``target.xml``; no other annex."""
        self._attach()
        return TARGET_XML if annex == "target.xml" else None

    def read_registers(self) -> bytes:
        self._attach()
        return self.registers.read_all()

    def write_registers(self, data: bytes) -> None:
        self._attach()
        self.registers.write_all(data)

    def read_register(self, regno: int) -> bytes:
        self._attach()
        return self.registers.read(regno)

    def write_register(self, regno: int, value: bytes) -> None:
        self._attach()
        self.registers.write(regno, value)

    def read_memory(self, address: int, length: int) -> bytes:
        self._attach()
        out = bytearray()
        addr = address & _MASK
        while len(out) < length:
            chunk = min(length - len(out), _PAGE - (addr & (_PAGE - 1)))
            try:
                out += self.machine.read_virtual(addr, chunk)
            except GuestMemoryError:
                break
            addr = (addr + chunk) & _MASK
        if not out:
            raise TargetError(f"cannot read memory at {address:#x}", Errno.EFAULT)
        return bytes(out)

    def write_memory(self, address: int, data: bytes) -> None:
        self._attach()
        memory = self.machine.memory
        page = address & ~(_PAGE - 1)
        try:
            while page < address + len(data):
                memory.translate(page)
                page += _PAGE
            self.machine.write_virtual(address, bytes(data), force=True)
        except GuestMemoryError as e:
            raise TargetError(str(e), Errno.EFAULT) from None
        self.machine.uc.ctl_remove_cache(address, address + len(data))

    # --- breakpoints and watchpoints -----------------------------------------------------

    def _add_break(self, mine: set[int], address: int) -> bool:
        self._attach()
        if address not in mine:
            self.machine.breakpoints.add(address)
            mine.add(address)
        return True

    def _remove_break(self, mine: set[int], address: int) -> bool:
        if address in mine:
            mine.discard(address)
            self.machine.breakpoints.remove(address)
        return True

    def add_sw_breakpoint(self, address: int, kind: int) -> bool:
        return self._add_break(self._sw, address)

    def remove_sw_breakpoint(self, address: int, kind: int) -> bool:
        return self._remove_break(self._sw, address)

    def add_hw_breakpoint(self, address: int, kind: int) -> bool:
        return self._add_break(self._hw, address)

    def remove_hw_breakpoint(self, address: int, kind: int) -> bool:
        return self._remove_break(self._hw, address)

    def add_watchpoint(self, address: int, length: int, kind: WatchKind) -> bool:
        self._attach()
        key = (address, length, MachineWatchKind(int(kind)))
        if key not in self._watch:
            try:
                self.machine.add_watchpoint(*key)
            except GuestMemoryError as e:
                raise TargetError(str(e), Errno.EFAULT) from None
            self._watch.add(key)
        return True

    def remove_watchpoint(self, address: int, length: int, kind: WatchKind) -> bool:
        key = (address, length, MachineWatchKind(int(kind)))
        if key in self._watch:
            self._watch.discard(key)
            self.machine.remove_watchpoint(*key)
        return True

    # --- execution ---------------------------------------------------------------------------

    def interrupt(self) -> None:
        """Stops a running :meth:`run` soon (thread-safe)."""
        self._interrupt.set()
        self.machine.interrupt()

    def run(self, resume: Resume) -> StopReason:
        """Steps or continues until a stop GDB is told about."""
        self._attach()
        self._interrupt.clear()
        if resume.address is not None:
            self.machine.set_reg("rip", resume.address & _MASK)
        stepping = resume.action == ResumeAction.STEP
        if stepping:
            stop = self._step()
            reason = self._reason(stop, True)
        else:
            while True:
                if self.on_slice is not None:
                    self.on_slice()
                stop = self.machine.run(timeout=self.slice_seconds)
                reason = self._reason(stop, False)
                if reason is not None:
                    break
                if self._interrupt.is_set():
                    reason = SignalStop(Signal.SIGINT)
                    stop = Stop(StopKind.INTERRUPTED, stop.rip, stop.icount)
                    break
        self._interrupt.clear()
        self.last_stop = stop
        if self._session is not None and hasattr(self._session, "last_stop"):
            self._session.last_stop = stop
        if isinstance(reason, Exited):
            self.exited = stop
        text = note(stop)
        if text is not None and self.notify is not None:
            self.notify(f"{text} ({self.machine.symbolize(stop.rip)})")
        return reason

    def _reason(self, stop: Stop, stepping: bool) -> StopReason | None:
        return stop_reason(stop, stepping=stepping, sw=self._sw, hw=self._hw)

    def _step(self) -> Stop:
        machine = self.machine
        if self._halted_maybe():
            return machine.step()
        with quiet_pic(machine):
            return machine.step()

    def _halted_maybe(self) -> bool:
        """True when the last instruction may have been HLT (1 byte, F4, just before rip)."""
        try:
            return self.machine.read_virtual((self.machine.reg("rip") - 1) & _MASK, 1) == b"\xf4"
        except GuestMemoryError:
            return False

    # --- monitor -----------------------------------------------------------------------------

    def monitor_command(self, command: str) -> str:
        """Runs a REPL command; its output, or ``error: ...``."""
        self._attach()
        try:
            from ..repl import CommandError, Session
        except ImportError as e:
            return f"error: the REPL is not available ({e})\n"
        if self._session is None:
            self._session = Session(self.machine)
        try:
            out = self._session.execute(command)
        except CommandError as e:
            out = f"error: {e}"
        except Exception as e:  # a REPL bug must not end the GDB session
            out = f"error: {type(e).__name__}: {e}"
        return out if not out or out.endswith("\n") else out + "\n"
