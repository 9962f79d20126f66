"""Run control: the stop a run will report, and requests to stop from outside.

Contract: :class:`RunControl` holds what a run in progress has to report
(the first stop requested by a hook wins; a watchpoint hit waits until its
instruction completed) and the thread-safe interrupt request of
:meth:`~.machine.Machine.interrupt`. It is not machine state: between runs
it is empty.
"""

from __future__ import annotations

import threading

from .stops import Stop


class RunControl:
    """Pending stops of one machine's run."""

    def __init__(self) -> None:
        """Nothing pending."""
        #: The stop requested during the current slice (the first one wins).
        self.pending: Stop | None = None
        #: True when watchpoints must settle once the current instruction completed.
        self.watch_due = False
        #: Set from another thread to stop the run (Ctrl-C).
        self.interrupted = threading.Event()
        #: While True, debugger settings (breakpoints, watchpoints, caught vectors)
        #: stop nothing: time travel re-executes the past with it.
        self.quiet = False

    def request(self, stop: Stop) -> None:
        """Records ``stop`` unless one is pending already."""
        if self.pending is None:
            self.pending = stop

    def take(self) -> Stop | None:
        """The pending stop, if any, leaving none."""
        stop, self.pending = self.pending, None
        return stop
