"""Stop reasons a target reports, and their encoding as stop-reply packets.

Contract:

* A target's ``run`` returns one of the frozen dataclasses below (together
  the :data:`StopReason` union); the adapter maps its own events (CPU
  exceptions, breakpoints, exits) onto them.
* :func:`encode_stop_reply` turns a stop reason into the payload of a stop
  reply: ``T<sig>...`` for a stopped target, ``W<status>`` for an exited
  one and ``X<sig>`` for one terminated by a signal.  Stop-reason fields
  (``swbreak:``, ``hwbreak:``) are only included when GDB announced support
  for them in ``qSupported``; ``watch:``/``rwatch:``/``awatch:`` are always
  understood by GDB.  Reaching the beginning of a reverse-execution log is
  ``T05replaylog:begin;`` exactly (GDB then prints "No more
  reverse-execution history.").  A caught system call (``QCatchSyscalls``) is
  ``T05syscall_entry:NN;`` or ``T05syscall_return:NN;`` with its number.
* Signal numbers are GDB's own target-independent numbering (the values on
  the wire), not the host's: e.g. SIGBUS is 10, SIGEMT is 7.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Union

__all__ = [
    "Signal",
    "SIGINT",
    "SIGTRAP",
    "SIGSEGV",
    "SIGILL",
    "SIGFPE",
    "SIGBUS",
    "SIGKILL",
    "WatchKind",
    "DoneStep",
    "SignalStop",
    "SwBreak",
    "HwBreak",
    "Watch",
    "Exited",
    "Terminated",
    "HistoryStart",
    "SyscallEntry",
    "SyscallReturn",
    "StopReason",
    "encode_stop_reply",
]


class Signal(enum.IntEnum):
    """GDB's signal numbers, as used in stop replies and ``C``/``S`` packets."""

    SIG0 = 0
    SIGHUP = 1
    SIGINT = 2
    SIGQUIT = 3
    SIGILL = 4
    SIGTRAP = 5
    SIGABRT = 6
    SIGEMT = 7
    SIGFPE = 8
    SIGKILL = 9
    SIGBUS = 10
    SIGSEGV = 11
    SIGSYS = 12
    SIGPIPE = 13
    SIGALRM = 14
    SIGTERM = 15


#: Convenience aliases for the most common signals.
SIGINT = Signal.SIGINT
SIGTRAP = Signal.SIGTRAP
SIGSEGV = Signal.SIGSEGV
SIGILL = Signal.SIGILL
SIGFPE = Signal.SIGFPE
SIGBUS = Signal.SIGBUS
SIGKILL = Signal.SIGKILL


class WatchKind(enum.IntEnum):
    """Kinds of watchpoint; the values are the ``Z``/``z`` packet types."""

    WRITE = 2
    READ = 3
    ACCESS = 4


_WATCH_FIELD = {WatchKind.WRITE: "watch", WatchKind.READ: "rwatch", WatchKind.ACCESS: "awatch"}


@dataclass(frozen=True)
class DoneStep:
    """A single step completed (reported as SIGTRAP)."""


@dataclass(frozen=True)
class SignalStop:
    """The target stopped with ``signal`` (e.g. SIGINT after an interrupt)."""

    signal: int = Signal.SIGTRAP


@dataclass(frozen=True)
class SwBreak:
    """A software breakpoint was hit; the PC is at the breakpoint address."""


@dataclass(frozen=True)
class HwBreak:
    """A hardware breakpoint was hit."""


@dataclass(frozen=True)
class Watch:
    """A watchpoint of ``kind`` triggered on an access at ``address``."""

    kind: WatchKind
    address: int


@dataclass(frozen=True)
class Exited:
    """The program exited with ``status`` (0..255)."""

    status: int = 0


@dataclass(frozen=True)
class Terminated:
    """The program was terminated by ``signal``."""

    signal: int = Signal.SIGKILL


@dataclass(frozen=True)
class HistoryStart:
    """Going backwards reached the beginning of the recorded history."""


@dataclass(frozen=True)
class SyscallEntry:
    """A caught system call ``number`` is being entered (``QCatchSyscalls``)."""

    number: int


@dataclass(frozen=True)
class SyscallReturn:
    """A caught system call ``number`` returns (``QCatchSyscalls``)."""

    number: int


#: Everything a target's ``run`` (or reverse execution) may return.
StopReason = Union[DoneStep, SignalStop, SwBreak, HwBreak, Watch, Exited, Terminated, HistoryStart,
                   SyscallEntry, SyscallReturn]


def _byte(value: int) -> str:
    return "%02x" % (int(value) & 0xFF)


def encode_stop_reply(
    reason: StopReason,
    *,
    thread: int | None = 1,
    swbreak: bool = False,
    hwbreak: bool = False,
) -> bytes:
    """Encode ``reason`` as a stop-reply payload.

    :param thread: thread id reported in a ``thread:`` field (``None`` omits it).
    :param swbreak: GDB accepts the ``swbreak:`` field.
    :param hwbreak: GDB accepts the ``hwbreak:`` field.
    :raises TypeError: if ``reason`` is not a stop reason.
    """
    if isinstance(reason, Exited):
        return ("W" + _byte(reason.status)).encode()
    if isinstance(reason, Terminated):
        return ("X" + _byte(reason.signal)).encode()
    if isinstance(reason, HistoryStart):
        return b"T05replaylog:begin;"
    fields = []
    signal: int = Signal.SIGTRAP
    if isinstance(reason, SignalStop):
        signal = reason.signal
    elif isinstance(reason, SwBreak):
        if swbreak:
            fields.append("swbreak:")
    elif isinstance(reason, HwBreak):
        if hwbreak:
            fields.append("hwbreak:")
    elif isinstance(reason, Watch):
        fields.append("%s:%x" % (_WATCH_FIELD[WatchKind(reason.kind)], reason.address))
    elif isinstance(reason, SyscallEntry):
        fields.append("syscall_entry:%x" % reason.number)
    elif isinstance(reason, SyscallReturn):
        fields.append("syscall_return:%x" % reason.number)
    elif not isinstance(reason, DoneStep):
        raise TypeError(f"not a stop reason: {reason!r}")
    if thread is not None:
        fields.append("thread:%x" % thread)
    return ("T" + _byte(signal) + "".join(f + ";" for f in fields)).encode()
