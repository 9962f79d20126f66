"""One ``monitor`` command on a thread of its own, so that it can be abandoned.

Contract: :meth:`MonitorJob.run` calls ``func(command)`` on a fresh daemon
thread and waits for it; :meth:`MonitorJob.abort` (from any other thread)
makes :meth:`run` return at once with :data:`ABORTED_TEXT`, and raises
:class:`MonitorAborted` in the command's thread, which ends at its next
Python instruction (a long C call, e.g. one disassembly, finishes first). That
thread does nothing but the command, so an exception landing anywhere in it
cannot leave shared state half-done beyond what the command itself touched;
the commands gdb may run are the REPL's inspection commands, which only read
the machine. A command that already finished is not affected.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Callable

#: What an abandoned command answers.
ABORTED_TEXT = "monitor command aborted\n"


class MonitorAborted(BaseException):
    """Raised inside an abandoned monitor command (a BaseException, so that no
    command's ``except Exception`` turns it into an answer)."""


class MonitorJob:
    """Runs one command at a time; :meth:`abort` abandons it."""

    def __init__(self, func: Callable[[str], str]) -> None:
        """``func(command)`` returns the command's text or raises."""
        self._func = func
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._aborted = threading.Event()

    def run(self, command: str) -> str:
        """The command's text (or its exception, raised again here); :data:`ABORTED_TEXT` if aborted."""
        result: dict = {}
        done = threading.Event()

        def body() -> None:
            try:
                result["text"] = self._func(command)
            except BaseException as e:  # carried to the waiting thread
                result["error"] = e
            finally:
                done.set()

        thread = threading.Thread(target=body, name="rustos-dbg-monitor", daemon=True)
        with self._lock:
            self._aborted.clear()
            self._thread = thread
        thread.start()
        try:
            while not done.wait(0.05):
                if self._aborted.is_set():
                    return ABORTED_TEXT
        finally:
            with self._lock:
                self._thread = None
        if self._aborted.is_set() and "text" not in result:
            return ABORTED_TEXT
        error = result.get("error")
        if error is not None and not isinstance(error, MonitorAborted):
            raise error
        return result.get("text", ABORTED_TEXT)

    def abort(self) -> None:
        """Abandons the running command (no-op when none runs)."""
        with self._lock:
            thread = self._thread
            if thread is None or not thread.is_alive():
                return
            self._aborted.set()
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident),
                                                       ctypes.py_object(MonitorAborted))
