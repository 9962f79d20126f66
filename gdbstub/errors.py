"""Exceptions shared by the protocol layer and the targets it drives.

Contract:

* :class:`PacketError` is raised by the packet parsers (and only by them)
  when a packet that the stub recognises is malformed.  The dispatcher turns
  it into an ``E01`` error reply; it never escapes the server.
* :class:`TargetError` is raised by a target when an operation cannot be
  carried out (unmapped memory, an unknown register, ...).  The dispatcher
  turns it into an ``Enn`` error reply carrying :attr:`TargetError.errno`.

Neither exception carries anything but plain data, so both are safe to log.
"""

from __future__ import annotations

import enum

__all__ = ["Errno", "PacketError", "TargetError"]


class Errno(enum.IntEnum):
    """Error numbers sent in ``Enn`` replies (GDB ignores the value itself)."""

    #: Generic failure; also used for malformed packets.
    EPERM = 1
    #: The target could not access the requested memory or register.
    EFAULT = 14
    #: An argument was out of range (e.g. an unknown register number).
    EINVAL = 22


class PacketError(ValueError):
    """A recognised packet is malformed (bad hex, missing field, ...)."""


class TargetError(Exception):
    """A target operation failed; reported to GDB as an ``Enn`` reply.

    :param message: human-readable explanation, only ever logged.
    :param errno: the number sent to GDB in the ``Enn`` reply.
    """

    def __init__(self, message: str = "target error", errno: int = Errno.EFAULT) -> None:
        super().__init__(message)
        #: The number sent to GDB in the ``Enn`` reply (0..255).
        self.errno = int(errno) & 0xFF
