"""Common ground for the emulated PC's devices.

Contract shared by every device (see ``PortBus`` for how they are driven):

* ``ports``: the I/O ports the device owns (any iterable of ints);
  ``access_sizes``: the access widths it handles itself; the bus splits wider
  accesses into byte accesses on consecutive ports, as QEMU does.
* ``read(port, size) -> int`` and ``write(port, size, value)``: one guest
  IN/OUT.  They act at the device's current virtual time ``self.now``.
* ``tick(now)``: advance to virtual time ``now`` (nanoseconds, derived from
  executed instructions; never the host clock) and perform due timed work.
* ``next_event(now) -> int | None``: virtual time of the next timed event,
  so that HLT can skip ahead to it; ``None`` when nothing is scheduled.
* ``snapshot() -> dict``: plain data (ints, bools, strs, lists, dicts) that
  describes the state; ``restore(snapshot)`` puts it back. :func:`freeze`
  turns such data into an immutable value of the same shape (tuples,
  read-only mappings), :func:`thaw` back into plain data, and :func:`digest`
  hashes a frozen value.

Devices raise interrupts through an ``IrqLine`` wired to the PIC (anything
with ``raise_irq(n)`` / ``lower_irq(n)``) or to nothing.  No module here
imports Unicorn.
"""

from __future__ import annotations

import copy
import hashlib
from collections import deque
from types import MappingProxyType
from typing import Any, Iterable

#: All-ones value an unanswered read returns, by access size in bytes.
ALL_ONES = {1: 0xFF, 2: 0xFFFF, 4: 0xFFFF_FFFF}


def size_mask(size: int) -> int:
    """Return the value mask of an access of ``size`` bytes."""
    return (1 << (8 * size)) - 1


def _plain(value: Any) -> Any:
    """Convert a state attribute to plain data for a snapshot."""
    if isinstance(value, (deque, list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return list(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class IrqLine:
    """One interrupt request line from a device to the PIC.

    ``set(level)`` forwards only changes, so a rising edge reaches the PIC
    exactly when the line goes from low to high.  With ``pic=None`` the line
    is unconnected and only remembers its level.
    """

    def __init__(self, pic: Any, irq: int) -> None:
        """Wire the line to input ``irq`` of ``pic`` (or to nothing)."""
        self.pic = pic
        self.irq = irq
        self.level = False

    def set(self, level: bool) -> None:
        """Drive the line to ``level``; the PIC sees only the changes."""
        level = bool(level)
        if level == self.level:
            return
        self.level = level
        if self.pic is not None:
            if level:
                self.pic.raise_irq(self.irq)
            else:
                self.pic.lower_irq(self.irq)

    def pulse(self) -> None:
        """Give one rising edge and return the line to low."""
        self.set(False)
        self.set(True)
        self.set(False)


class Device:
    """Base class: a device that owns ports and ignores everything.

    Subclasses list the attribute names that make up their state in
    ``state_fields``; the default ``snapshot``/``restore`` copy those.
    """

    #: Short name used by the bus and the ``devices`` inspector.
    name = "device"
    #: Ports owned by the device.
    ports: Iterable[int] = ()
    #: Access widths (bytes) the device handles without splitting.
    access_sizes: tuple[int, ...] = (1,)
    #: Attributes saved by ``snapshot`` and put back by ``restore``.
    state_fields: tuple[str, ...] = ()

    def __init__(self) -> None:
        """Start at virtual time zero."""
        self.now = 0

    def read(self, port: int, size: int) -> int:
        """Answer a guest IN; the default is all-ones."""
        return ALL_ONES.get(size, 0xFF)

    def write(self, port: int, size: int, value: int) -> None:
        """Take a guest OUT; the default ignores it."""

    def tick(self, now: int) -> None:
        """Advance to virtual time ``now`` (never backwards)."""
        if now > self.now:
            self.now = now

    def next_event(self, now: int) -> int | None:
        """Virtual time of the next timed event; ``None`` if none."""
        return None

    def snapshot(self) -> dict:
        """Return the device state as plain data."""
        state = {"now": self.now}
        for field in self.state_fields:
            state[field] = _plain(getattr(self, field))
        return state

    def restore(self, state: dict) -> None:
        """Put back a state produced by ``snapshot``."""
        self.now = state.get("now", self.now)
        for field in self.state_fields:
            if field not in state:
                continue
            current = getattr(self, field)
            value = state[field]
            if isinstance(current, deque):
                value = deque(value, maxlen=current.maxlen)
            elif isinstance(current, bytearray):
                value = bytearray(value)
            else:
                value = copy.deepcopy(value)
            setattr(self, field, value)


def freeze(value: Any) -> Any:
    """An immutable copy of plain data."""
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, bytearray):
        return bytes(value)
    return value


def thaw(value: Any) -> Any:
    """Plain mutable data from a frozen value (tuples become lists)."""
    if isinstance(value, MappingProxyType):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def digest(value: Any) -> str:
    """A stable hash of a frozen value (mapping order does not matter)."""
    return hashlib.sha256(_canonical(value).encode()).hexdigest()


def _canonical(value: Any) -> str:
    if isinstance(value, MappingProxyType):
        return "{" + ",".join(f"{k!r}:{_canonical(v)}" for k, v in sorted(value.items(), key=lambda kv: repr(kv[0]))) + "}"
    if isinstance(value, tuple):
        return "(" + ",".join(_canonical(v) for v in value) + ")"
    return repr(value)
