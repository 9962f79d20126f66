"""Parsers for the execution-control and thread packets.

Contract: as in :mod:`gdbstub.packets`: each ``parse_*`` function takes the
whole payload and returns a frozen dataclass, ``None`` for a well-formed
variant the stub does not implement, or raises
:class:`~gdbstub.errors.PacketError`.  Covered: ``c``/``s``/``C``/``S``,
``vCont?``/``vCont;...``, ``bs``/``bc``, ``H``, ``T``, ``D`` and ``k``/``vKill``.
Threads: see :mod:`gdbstub.threads`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional

from ._fields import hex_int, signal_number, thread_id
from .errors import PacketError
from .target import ResumeAction

__all__ = [
    "ThreadOp",
    "ResumePacket",
    "ReversePacket",
    "VContQuery",
    "VContAction",
    "VCont",
    "SetThread",
    "ThreadAlive",
    "Detach",
    "Kill",
]


class ThreadOp(enum.IntEnum):
    """Which operations an ``H`` packet selects the thread for."""

    GENERAL = 1  # Hg: register and memory access
    CONTINUE = 2  # Hc: step and continue


@dataclass(frozen=True)
class ResumePacket:
    """``c [addr]``, ``s [addr]``, ``C sig[;addr]``, ``S sig[;addr]``."""

    action: ResumeAction
    signal: int = 0
    address: Optional[int] = None


@dataclass(frozen=True)
class ReversePacket:
    """``bs`` (reverse step) or ``bc`` (reverse continue)."""

    action: ResumeAction


@dataclass(frozen=True)
class VContQuery:
    """``vCont?``: which ``vCont`` actions are supported."""


@dataclass(frozen=True)
class VContAction:
    """One action of a ``vCont`` packet; ``thread`` ``None`` means all threads."""

    action: ResumeAction
    signal: int = 0
    thread: Optional[int] = None


@dataclass(frozen=True)
class VCont:
    """``vCont;action[:tid]...``: resume with per-thread actions."""

    actions: tuple[VContAction, ...]

    def action_for(self, thread: int) -> Optional[VContAction]:
        """Return the leftmost action that applies to ``thread``, if any."""
        for act in self.actions:
            if act.thread in (None, -1, thread):
                return act
        return None


@dataclass(frozen=True)
class SetThread:
    """``Hg tid`` / ``Hc tid``: select the thread for later operations."""

    op: ThreadOp
    thread: int


@dataclass(frozen=True)
class ThreadAlive:
    """``T tid``: is thread ``thread`` alive?"""

    thread: int


@dataclass(frozen=True)
class Detach:
    """``D`` or ``D;pid``: detach, leaving the target as it is."""

    pid: Optional[int] = None


@dataclass(frozen=True)
class Kill:
    """``k`` or ``vKill;pid``: kill the program and end the session."""

    pid: Optional[int] = None
    #: ``vKill`` expects an ``OK`` reply; ``k`` expects none.
    needs_reply: bool = False


def parse_resume(data: bytes) -> ResumePacket:
    """Parse ``c [addr]``, ``s [addr]``, ``C sig[;addr]`` or ``S sig[;addr]``."""
    letter, rest = data[:1], data[1:]
    action = ResumeAction.STEP if letter in b"sS" else ResumeAction.CONTINUE
    signal = 0
    if letter in b"CS":
        sig, sep, rest = rest.partition(b";")
        signal = signal_number(sig, letter.decode() + " signal")
        if sep and not rest:
            raise PacketError(f"{letter.decode()}: empty address")
    address = hex_int(rest, letter.decode() + " address") if rest else None
    return ResumePacket(action, signal, address)


def parse_reverse(data: bytes) -> Optional[ReversePacket]:
    """Parse ``bs`` or ``bc``; ``None`` for the other (obsolete) ``b`` packets."""
    if data == b"bs":
        return ReversePacket(ResumeAction.REVERSE_STEP)
    if data == b"bc":
        return ReversePacket(ResumeAction.REVERSE_CONTINUE)
    if data[:2] in (b"bs", b"bc"):
        raise PacketError(f"{data[:2].decode()}: takes no arguments")
    return None


def _parse_vcont_action(field: bytes) -> VContAction:
    act, colon, tid = field.partition(b":")
    thread = thread_id(tid, "vCont thread") if colon else None
    if act in (b"c", b"s"):
        action = ResumeAction.CONTINUE if act == b"c" else ResumeAction.STEP
        return VContAction(action, 0, thread)
    if act[:1] in (b"C", b"S"):
        action = ResumeAction.CONTINUE if act[:1] == b"C" else ResumeAction.STEP
        return VContAction(action, signal_number(act[1:], "vCont signal"), thread)
    raise PacketError(f"vCont: unsupported action {act[:16]!r}")


def parse_vcont(data: bytes) -> VContQuery | VCont:
    """Parse ``vCont?`` or ``vCont;action[:tid]...`` (c, C, s, S actions)."""
    if data == b"vCont?":
        return VContQuery()
    if not data.startswith(b"vCont;"):
        raise PacketError("vCont: expected '?' or ';'")
    fields = data[len(b"vCont;") :].split(b";")
    return VCont(tuple(_parse_vcont_action(f) for f in fields))


def parse_set_thread(data: bytes) -> Optional[SetThread]:
    """Parse ``Hg tid`` / ``Hc tid``; ``None`` for other operations."""
    op = {b"g": ThreadOp.GENERAL, b"c": ThreadOp.CONTINUE}.get(data[1:2])
    if op is None:
        return None
    return SetThread(op, thread_id(data[2:], "H thread"))


def parse_thread_alive(data: bytes) -> ThreadAlive:
    """Parse ``T tid``."""
    return ThreadAlive(thread_id(data[1:], "T thread"))


def parse_detach(data: bytes) -> Detach:
    """Parse ``D`` or ``D;pid``."""
    if data == b"D":
        return Detach()
    if not data.startswith(b"D;"):
        raise PacketError("D: expected ';pid' or nothing")
    return Detach(hex_int(data[2:], "D pid", 0xFFFFFFFF))


def parse_kill(data: bytes) -> Kill:
    """Parse ``k`` or ``vKill;pid``."""
    if data == b"k":
        return Kill()
    if not data.startswith(b"vKill;"):
        raise PacketError("vKill: expected ';pid'")
    return Kill(hex_int(data[len(b"vKill;") :], "vKill pid", 0xFFFFFFFF), needs_reply=True)
