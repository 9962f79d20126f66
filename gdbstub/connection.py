"""The byte stream a GDB session talks over.

Contract: :class:`Connection` is what :class:`~gdbstub.session.Session` needs
of its stream: blocking ``recv``, ``sendall`` and ``close`` (a connected
socket fits; so does one end of ``socket.socketpair()`` in tests).
"""

from __future__ import annotations

from typing import Protocol


class Connection(Protocol):
    """The byte stream a session talks over (a connected socket fits)."""

    def recv(self, bufsize: int) -> bytes:
        """Block for at least one byte; ``b""`` at end of stream."""
        ...

    def sendall(self, data: bytes) -> None:
        """Send all of ``data``; raises ``OSError`` if the peer is gone."""
        ...

    def close(self) -> None:
        """Release the stream."""
        ...
