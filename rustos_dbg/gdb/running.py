"""Running the machine for GDB: steps, continues, Ctrl-C (the ``run``/``interrupt`` half of the target).

Contract: :class:`Execution` is a mixin of :class:`~.target.MachineTarget`
(it uses its ``machine``, breakpoint sets, caches and callbacks).

* :meth:`Execution.run` steps with :meth:`Machine.step` or continues with
  :meth:`Machine.run` in slices of ``slice_seconds``, calling ``on_slice()``
  before each slice (the CLI feeds stdin to COM1 there), until a stop that
  :func:`.stops.stop_reason` reports; :meth:`Execution.interrupt`
  (thread-safe) ends a continue with SIGINT within a slice. A stale
  interrupt request is dropped when a run starts.
* Single steps hold hardware interrupts off (``Machine.step(interrupts=False)``),
  as QEMU's gdbstub steps with interrupts masked, so ``stepi``/``next`` stay
  in the code being stepped; the requests stay latched in the PIC and are
  delivered by the next continue. A step of a CPU waiting in HLT
  (``Machine.halted``) is not held off: it waits for the next interrupt and
  enters its handler. Neither is a step of a machine recording its history:
  the history re-executes the past as a free run, so every step must be one
  (a step may then enter an interrupt handler).
* A triple fault shuts the CPU down for good (``Machine.shutdown``), as on
  hardware until a reset: later resumes report SIGSEGV again without
  running (with a note); registers and memory stay readable and writable.
* Every stop is kept in ``last_stop``, a kernel exit in ``exited``; stops
  GDB shows as a bare signal get a ``notify`` note.
"""

from __future__ import annotations

from gdbstub import Exited, Resume, ResumeAction, Signal, SignalStop, StopReason

from ..machine import Stop, StopKind
from ..inspect.hw.faults import format_deliveries
from .stops import note, stop_reason

_MASK = (1 << 64) - 1


class Execution:
    """``run`` and ``interrupt`` of :class:`~.target.MachineTarget`."""

    def interrupt(self) -> None:
        """Stops a running :meth:`run` soon (thread-safe); ignored by a reverse
        continue (see :mod:`.reverse`)."""
        self._interrupt.set()
        if not self._reversing:
            self.machine.interrupt()

    def run(self, resume: Resume) -> StopReason:
        """Steps or continues until a stop GDB is told about."""
        self._attach()
        self._interrupt.clear()
        if self.machine.shutdown is not None:
            if self.notify is not None:
                self.notify("the CPU is shut down (triple fault): nothing runs any more")
            return SignalStop(Signal.SIGSEGV)
        try:
            if resume.address is not None:
                self._invalidate()
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
        finally:
            self._invalidate()
        self._interrupt.clear()
        self.last_stop = stop
        if isinstance(reason, Exited):
            self.exited = stop
        text = note(stop)
        if text is not None and self.notify is not None:
            text = f"{text} ({self.machine.symbolize(stop.rip)})"
            if stop.chain:  # the deliveries, as the REPL's stop report and `faults` show them
                text += "\n" + format_deliveries(stop.chain, self.machine.exception_log, self.machine.symbolize)
            self.notify(text)
        return reason

    def _reason(self, stop: Stop, stepping: bool) -> StopReason | None:
        return stop_reason(stop, stepping=stepping, sw=self._sw, hw=self._hw, syscalls=self._gdb_syscalls)

    def _step(self) -> Stop:
        """One instruction with interrupts held off, unless the CPU waits in HLT
        or the history is recorded."""
        machine = self.machine
        return machine.step(interrupts=machine.halted or machine.history.enabled)
