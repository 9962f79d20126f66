"""Thread packets of the dispatcher: the target's threads as GDB threads (internal).

Contract: :class:`ThreadHandlers` is a mixin of :class:`~gdbstub.dispatch.Dispatcher`
(it uses its ``target``, ``caps``, ``packet_size``, ``general_thread`` and
``_pending_ids``); the rules are in the dispatcher's contract. Without
:class:`~gdbstub.target.SupportsThreads` there is one thread, :data:`THREAD_ID`.
"""

from __future__ import annotations

from typing import Optional

from . import execution as ex
from . import queries as qu
from . import packets as pk
from .errors import Errno
from .response import Response, error_reply, reply
from .target import Resume

__all__ = ["THREAD_ID", "ThreadHandlers"]

#: The id of the only thread of a target without threads.
THREAD_ID = 1
_OK = b"OK"
_EMPTY = b""
_reply, _error = reply, error_reply


class ThreadHandlers:
    """``H``, ``T``, ``qC``, ``qfThreadInfo``/``qsThreadInfo``, ``qThreadExtraInfo``,
    ``QCatchSyscalls`` and the thread-aware register reads."""

    def _current(self) -> int:
        """The id of the thread on the CPU."""
        return int(self.target.current_thread()) if self.caps.threads else THREAD_ID

    def _thread_ids(self) -> list[int]:
        return [int(t) for t in self.target.thread_ids()] if self.caps.threads else [THREAD_ID]

    def _other_thread(self) -> Optional[int]:
        """The thread ``Hg`` selected when it is not the current one, else None."""
        if not self.caps.threads or self.general_thread is None:
            return None
        return None if self.general_thread == self._current() else self.general_thread

    def _read_registers(self, p: pk.ReadRegisters) -> Response:
        other = self._other_thread()
        data = self.target.read_registers() if other is None else self.target.read_thread_registers(other)
        return _reply(bytes(data).hex().encode())

    def _read_register(self, p: pk.ReadRegister) -> Response:
        other = self._other_thread()
        if other is None:
            data = self.target.read_register(p.regno)
        else:
            data = self.target.read_thread_register(other, p.regno)
        return _reply(bytes(data).hex().encode())

    def _write(self, method, *args) -> Response:
        if self._other_thread() is not None:
            return _error(Errno.EPERM)  # not the CPU's: see the module contract
        method(*args)
        return _reply(_OK)

    def _resume(self, resume: Resume) -> Response:
        self.general_thread = None
        return Response(resume=resume)

    def _set_thread(self, p: ex.SetThread) -> Response:
        if p.thread in (0, -1):
            if p.op == ex.ThreadOp.GENERAL:
                self.general_thread = None
            return _reply(_OK)
        if p.thread not in self._thread_ids():
            return _error(Errno.EINVAL)
        if p.op == ex.ThreadOp.GENERAL:
            self.general_thread = p.thread
        return _reply(_OK)

    def _thread_info_first(self, p: qu.ThreadInfoFirst) -> Response:
        self._pending_ids = [b"%x" % t for t in self._thread_ids()]
        return self._thread_info_next(None)

    def _thread_info_next(self, p: Optional[qu.ThreadInfoNext]) -> Response:
        if not self._pending_ids:
            return _reply(b"l")
        out = b"m" + self._pending_ids.pop(0)
        while self._pending_ids and len(out) + 1 + len(self._pending_ids[0]) < self.packet_size:
            out += b"," + self._pending_ids.pop(0)
        return _reply(out)

    def _thread_extra_info(self, p: qu.ThreadExtraInfo) -> Response:
        if not self.caps.threads:
            return _reply(_EMPTY)
        if p.thread not in self._thread_ids():
            return _error(Errno.EINVAL)
        text = str(self.target.thread_extra_info(p.thread)).encode("utf-8", "replace")
        return _reply(text[: (self.packet_size - 1) // 2].hex().encode())

    def _catch_syscalls(self, p: qu.CatchSyscalls) -> Response:
        if not self.caps.catch_syscalls:
            return _reply(_EMPTY)
        numbers = p.numbers if p.enable else ()
        return _reply(_OK) if self.target.catch_syscalls(numbers) is not False else _error(Errno.EINVAL)

