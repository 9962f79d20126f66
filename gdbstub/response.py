"""What the dispatcher answers: a :class:`Response` to one packet, and why a session ends.

Contract: plain frozen data, no I/O; :func:`reply` and :func:`error_reply`
build the common one-packet responses.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional

from .target import Resume

__all__ = ["SessionEnd", "Response", "reply", "error_reply"]


class SessionEnd(enum.IntEnum):
    """Why a session ended."""

    DETACHED = 1
    KILLED = 2
    DISCONNECTED = 3
    SHUTDOWN = 4


@dataclass(frozen=True)
class Response:
    """What to do after a packet: send ``packets`` then act on the rest.

    :ivar packets: reply payloads (unframed), in order; may be empty.
    :ivar resume: run the target with this request, then send the stop reply
        from :meth:`Dispatcher.finish_run`.
    :ivar start_no_ack: stop acknowledging once ``packets`` are sent.
    :ivar end: end the session once ``packets`` are sent.
    :ivar monitor: run this ``monitor`` command (:meth:`Dispatcher.run_monitor`),
        then send :meth:`Dispatcher.finish_monitor`'s packets.
    """

    packets: tuple[bytes, ...] = ()
    resume: Optional[Resume] = None
    start_no_ack: bool = False
    end: Optional[SessionEnd] = None
    monitor: Optional[str] = None



def reply(payload: bytes) -> Response:
    """A response sending ``payload`` alone."""
    return Response((payload,))


def error_reply(errno: int) -> Response:
    """An ``Enn`` error response."""
    return reply(b"E%02x" % (errno & 0xFF))
