"""Reverse execution for GDB (``bs``/``bc``): the backwards half of the target.

Contract: :class:`Reversing` is a mixin of :class:`~.target.MachineTarget`;
its methods are bound as ``reverse_step``/``reverse_continue`` (so gdbstub
advertises ``ReverseStep+``/``ReverseContinue+``) only when the machine
records its history (:mod:`rustos_dbg.machine.history`) as the target is made.

* ``bs`` is :meth:`Machine.reverse_step` (one instruction back), ``bc``
  :meth:`Machine.reverse_continue`: back to the latest earlier hit of the
  machine's breakpoints and watchpoints (GDB's Z0-Z4 among them) or caught
  exceptions. Reaching the beginning of the history is
  :class:`gdbstub.HistoryStart` (``T05replaylog:begin;``: GDB prints "No more
  reverse-execution history.").
* A watchpoint hit going backwards stops *before* the accessing instruction
  (the state one instruction before the forward hit), as GDB expects of a
  reverse watchpoint: its old value is then the one after the write, its new
  value the one before, and a further ``bc`` finds the write before that.
  The instruction executed last is undone first: a ``bc`` right after a
  forward watchpoint hit stops before that very write.
* A reverse continue is not interrupted by Ctrl-C (the history re-executes
  the past in pieces of at most one checkpoint interval).
* A request the history cannot meet is a ``TargetError`` (GDB shows an
  error); the caches are dropped after every move.
"""

from __future__ import annotations

from dataclasses import replace

from gdbstub import Errno, HistoryStart, StopReason, TargetError

from ..machine import Stop, StopKind
from ..machine.history import HistoryError


class Reversing:
    """``reverse_step`` and ``reverse_continue`` of :class:`~.target.MachineTarget`."""

    _reversing = False

    def _reverse_step(self) -> StopReason:
        """One instruction back (bound as ``reverse_step`` when the history is on)."""
        return self._go_back(lambda: self.machine.reverse_step(1), stepping=True)

    def _reverse_continue(self) -> StopReason:
        """Back to the latest earlier stop (bound as ``reverse_continue`` when the history is on)."""
        return self._go_back(self._back_to_stop, stepping=False)

    def _back_to_stop(self) -> Stop:
        """Undoing the instruction just executed comes first: if it hit a watchpoint,
        that is the stop; else the history's latest stop before now."""
        machine = self.machine
        now = machine.icount
        if len(machine.watchpoints) and now > machine.history.start:
            machine.goto(now - 1)
            stop = machine.step()
            if stop.kind is StopKind.WATCHPOINT and stop.icount == now:
                return stop
            if machine.icount != now:
                machine.goto(now)
        return machine.reverse_continue()

    def _go_back(self, move, stepping: bool) -> StopReason:
        self._attach()
        self._reversing = True  # interrupt() must not stop the history's re-execution
        try:
            stop = move()
            if stop.kind is StopKind.WATCHPOINT:
                stop = self._before_access(stop)
        except HistoryError as e:
            raise TargetError(str(e), Errno.EPERM) from None
        finally:
            self._reversing = False
            self._interrupt.clear()
            self._invalidate()
        self.last_stop = stop
        if stop.kind is StopKind.HISTORY_START:
            return HistoryStart()
        return self._reason(stop, stepping)

    def _before_access(self, stop: Stop) -> Stop:
        """The watchpoint ``stop`` moved to just before its accessing instruction."""
        machine = self.machine
        machine.goto(stop.icount - 1)
        return replace(stop, rip=machine.reg("rip"), icount=machine.icount)
