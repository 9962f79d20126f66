"""Parsers for the general query and setting packets (``q``, ``Q``).

Contract: as in :mod:`gdbstub.packets`: each ``parse_*`` function takes the
whole payload and returns a frozen dataclass, ``None`` for a well-formed
variant the stub does not implement (e.g. ``qXfer`` writes), or raises
:class:`~gdbstub.errors.PacketError`.  Covered: ``qSupported``,
``qXfer:<object>:read``, ``qRcmd``, ``qAttached``, ``qC``,
``qfThreadInfo``/``qsThreadInfo``, ``qThreadExtraInfo``, ``QCatchSyscalls``
and ``QStartNoAckMode``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from ._fields import hex_bytes, hex_int, split_once, thread_id
from .errors import PacketError

__all__ = [
    "QSupported",
    "QXferRead",
    "MonitorCommand",
    "QueryAttached",
    "QueryCurrentThread",
    "ThreadInfoFirst",
    "ThreadInfoNext",
    "ThreadExtraInfo",
    "CatchSyscalls",
    "StartNoAckMode",
]

_FEATURE_NAME = re.compile(rb"[!-~]+\Z")  # printable ASCII, no space


@dataclass(frozen=True)
class QSupported:
    """``qSupported[:feature;...]``: GDB's features, as ``(name, value)``.

    ``value`` is ``"+"``, ``"-"`` or ``"?"`` for boolean features and the
    text after ``=`` for valued ones.
    """

    features: tuple[tuple[str, str], ...] = ()

    def supports(self, name: str) -> bool:
        """Whether GDB announced the boolean feature ``name`` with ``+``."""
        return (name, "+") in self.features

    def value(self, name: str) -> Optional[str]:
        """The value GDB gave for feature ``name``, or ``None``."""
        for key, val in self.features:
            if key == name:
                return val
        return None


@dataclass(frozen=True)
class QXferRead:
    """``qXfer:object:read:annex:offset,length``."""

    object: str
    annex: str
    offset: int
    length: int


@dataclass(frozen=True)
class MonitorCommand:
    """``qRcmd,hex``: a ``monitor`` command; ``command`` is the decoded text."""

    command: bytes


@dataclass(frozen=True)
class QueryAttached:
    """``qAttached[:pid]``: did the stub attach to an existing process?"""

    pid: Optional[int] = None


@dataclass(frozen=True)
class QueryCurrentThread:
    """``qC``: the current thread id."""


@dataclass(frozen=True)
class ThreadInfoFirst:
    """``qfThreadInfo``: first part of the thread list."""


@dataclass(frozen=True)
class ThreadInfoNext:
    """``qsThreadInfo``: next part of the thread list."""


@dataclass(frozen=True)
class ThreadExtraInfo:
    """``qThreadExtraInfo,tid``: a printable description of thread ``thread``."""

    thread: int


@dataclass(frozen=True)
class CatchSyscalls:
    """``QCatchSyscalls:0`` (stop catching) or ``QCatchSyscalls:1[;nr...]``.

    ``numbers`` is ``None`` for "every system call" (``:1`` alone), else the
    numbers listed; ``enable`` is False for ``:0``.
    """

    enable: bool
    numbers: Optional[tuple[int, ...]] = None


@dataclass(frozen=True)
class StartNoAckMode:
    """``QStartNoAckMode``: stop sending and expecting ``+``/``-``."""


def _ascii(field: bytes, what: str) -> str:
    try:
        return field.decode("ascii")
    except UnicodeDecodeError:
        raise PacketError(f"{what}: not ASCII") from None


def parse_qsupported(data: bytes) -> QSupported:
    """Parse ``qSupported`` or ``qSupported:f+;g-;h?;k=v``."""
    if data == b"qSupported":
        return QSupported()
    _, body = split_once(data, b":", "qSupported")
    features = []
    for item in body.split(b";"):
        if not item:
            continue
        name, eq, value = item.partition(b"=")
        if eq:
            val = _ascii(value, "qSupported value")
        elif name[-1:] in (b"+", b"-", b"?"):
            name, val = name[:-1], name[-1:].decode()
        else:
            raise PacketError(f"qSupported: bad feature {item[:32]!r}")
        if not _FEATURE_NAME.match(name):
            raise PacketError(f"qSupported: bad feature name {name[:32]!r}")
        features.append((name.decode(), val))
    return QSupported(tuple(features))


def parse_qxfer(data: bytes) -> Optional[QXferRead]:
    """Parse ``qXfer:object:read:annex:offset,length``; ``None`` for writes."""
    parts = data.split(b":", 3)
    if len(parts) < 4 or parts[0] != b"qXfer":
        raise PacketError("qXfer: expected object:operation:annex:...")
    _, obj, op, rest = parts
    if op != b"read":
        return None
    annex, colon, span = rest.rpartition(b":")
    if not colon:
        raise PacketError("qXfer: missing offset,length")
    offset, length = split_once(span, b",", "qXfer")
    if not obj:
        raise PacketError("qXfer: empty object name")
    return QXferRead(
        _ascii(obj, "qXfer object"),
        _ascii(annex, "qXfer annex"),
        hex_int(offset, "qXfer offset"),
        hex_int(length, "qXfer length"),
    )


def parse_qrcmd(data: bytes) -> MonitorCommand:
    """Parse ``qRcmd,hex``."""
    if not data.startswith(b"qRcmd,"):
        raise PacketError("qRcmd: expected ','")
    return MonitorCommand(hex_bytes(data[len(b"qRcmd,") :], "qRcmd command"))


def parse_qattached(data: bytes) -> QueryAttached:
    """Parse ``qAttached`` or ``qAttached:pid``."""
    if data == b"qAttached":
        return QueryAttached()
    _, pid = split_once(data, b":", "qAttached")
    return QueryAttached(hex_int(pid, "qAttached pid", 0xFFFFFFFF))


def parse_qthreadextrainfo(data: bytes) -> ThreadExtraInfo:
    """Parse ``qThreadExtraInfo,tid``."""
    if not data.startswith(b"qThreadExtraInfo,"):
        raise PacketError("qThreadExtraInfo: expected ','")
    return ThreadExtraInfo(thread_id(data[len(b"qThreadExtraInfo,") :], "qThreadExtraInfo thread"))


def parse_qcatchsyscalls(data: bytes) -> CatchSyscalls:
    """Parse ``QCatchSyscalls:0`` or ``QCatchSyscalls:1[;nr;nr...]`` (numbers in hex)."""
    _, body = split_once(data, b":", "QCatchSyscalls")
    flag, _, rest = body.partition(b";")
    if flag == b"0" and not rest:
        return CatchSyscalls(False)
    if flag != b"1":
        raise PacketError("QCatchSyscalls: expected 0, or 1 and numbers")
    if not rest:
        return CatchSyscalls(True)
    return CatchSyscalls(True, tuple(hex_int(n, "QCatchSyscalls number", 0xFFFFFFFF) for n in rest.split(b";")))


def _exact(name: bytes, packet):
    def parse(data: bytes):
        if data != name:
            raise PacketError(f"{name.decode()} takes no arguments")
        return packet

    parse.__doc__ = f"Parse ``{name.decode()}``, which takes no arguments."
    return parse


parse_qc = _exact(b"qC", QueryCurrentThread())
parse_qfthreadinfo = _exact(b"qfThreadInfo", ThreadInfoFirst())
parse_qsthreadinfo = _exact(b"qsThreadInfo", ThreadInfoNext())
parse_start_no_ack_mode = _exact(b"QStartNoAckMode", StartNoAckMode())
