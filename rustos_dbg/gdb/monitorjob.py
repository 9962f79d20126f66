"""One ``monitor`` command on a thread of its own, so that it can be abandoned.

Contract: :meth:`MonitorJob.stream` calls ``func(command)`` on a fresh daemon
thread and yields its output as it is produced: ``func`` returns one string or
an iterable of pieces, which the command's thread hands over through a small
bounded buffer (so a command never runs far ahead of a slow client).
:meth:`MonitorJob.abort` (from any other thread) makes the stream yield
:data:`ABORTED_TEXT` and end at once, and raises :class:`MonitorAborted` in the
command's thread, which ends at its next Python instruction (a long C call,
e.g. one disassembly, finishes first). Closing the stream early (a consumer
that has seen enough) abandons the command the same way. The command's thread
does nothing but the command, so an exception landing anywhere in it cannot
leave shared state half-done beyond what the command itself touched; the
commands gdb may run are the REPL's inspection commands, which only read the
machine. An exception of the command is raised again by the stream.
"""

from __future__ import annotations

import ctypes
import threading
from collections import deque
from typing import Callable, Iterable, Iterator

#: What an abandoned command answers.
ABORTED_TEXT = "monitor command aborted\n"

#: Pieces the command may produce ahead of the consumer.
_BUFFERED = 16
_POLL = 0.05


class MonitorAborted(BaseException):
    """Raised inside an abandoned monitor command (a BaseException, so that no
    command's ``except Exception`` turns it into an answer)."""


class _Run:
    """The buffer between one command's thread and its stream."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.pieces: deque[str] = deque()
        self.done = False
        self.error: BaseException | None = None
        self.aborted = False

    def put(self, piece: str) -> None:
        """Called by the command's thread; waits while the buffer is full.
        Raises :class:`MonitorAborted` once the command is abandoned."""
        with self.cond:
            while len(self.pieces) >= _BUFFERED and not self.aborted:
                self.cond.wait(_POLL)
            if self.aborted:
                raise MonitorAborted()
            self.pieces.append(piece)
            self.cond.notify_all()


class MonitorJob:
    """Runs one command at a time; :meth:`abort` abandons it."""

    def __init__(self, func: Callable[[str], str | Iterable[str]]) -> None:
        """``func(command)`` returns the command's text (whole or in pieces) or raises."""
        self._func = func
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._run: _Run | None = None

    def run(self, command: str) -> str:
        """The command's whole text (see :meth:`stream`)."""
        return "".join(self.stream(command))

    def stream(self, command: str) -> Iterator[str]:
        """The command's output, piece by piece; :data:`ABORTED_TEXT` last if aborted."""
        run = _Run()

        def body() -> None:
            try:
                out = self._func(command)
                for piece in ((out,) if isinstance(out, str) else out or ()):
                    if piece:
                        run.put(piece)
            except BaseException as e:  # carried to the stream
                run.error = e
            finally:
                with run.cond:
                    run.done = True
                    run.cond.notify_all()

        thread = threading.Thread(target=body, name="rustos-dbg-monitor", daemon=True)
        with self._lock:
            self._thread, self._run = thread, run
        thread.start()
        finished = False
        try:
            while True:
                with run.cond:
                    while not run.pieces and not run.done and not run.aborted:
                        run.cond.wait(_POLL)
                    if run.aborted:
                        break
                    if not run.pieces:
                        finished = True
                        break
                    piece = run.pieces.popleft()
                    run.cond.notify_all()
                yield piece
        finally:
            if not finished:
                self.abort()
            with self._lock:
                self._thread = self._run = None
        if run.aborted:
            yield ABORTED_TEXT
        elif run.error is not None and not isinstance(run.error, MonitorAborted):
            raise run.error

    def abort(self) -> None:
        """Abandons the running command (no-op when none runs)."""
        with self._lock:
            thread, run = self._thread, self._run
            if thread is None or run is None or run.done or run.aborted:
                return
            with run.cond:
                run.aborted = True
                run.cond.notify_all()
            if thread.is_alive():
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident),
                                                           ctypes.py_object(MonitorAborted))
