"""The events a :class:`~gdbstub.session.Session`'s thread consumes, besides the
decoder's packets: what its reader thread and its worker put on its queue.

Contract: each is a small frozen record; the session handles them in the
order they were queued (so a command's streamed output always precedes its
:class:`RunDone`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Closed:
    """The peer hung up or the stream failed."""


@dataclass(frozen=True)
class StopRequest:
    """:meth:`~gdbstub.session.Session.stop` was called."""


@dataclass(frozen=True)
class MonitorOutput:
    """A piece of output of the running ``monitor`` command."""

    text: str


@dataclass(frozen=True)
class RunDone:
    """The worker's job returned ``outcome`` (a stop reason, a monitor command's
    text, or an exception); ``finish`` turns it into the packets to send."""

    outcome: object
    finish: Callable[[object], tuple]


@dataclass(frozen=True)
class Ended:
    """A packet served on the reader's thread ended the session (detach, kill)."""

    end: object
