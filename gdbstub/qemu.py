"""QEMU's gdbstub extension packets, which kernel-debugging clients test for.

Contract: parsers in the style of :mod:`gdbstub.queries` (the whole payload
in, a frozen dataclass out, :class:`~gdbstub.errors.PacketError` when
malformed) for the packets QEMU's system emulator answers and gdb extensions
such as gef use to recognise it:

* ``qqemu.sstepbits`` / ``Qqemu.sstepbits``: the single-step flag names, QEMU's
  reply :data:`SSTEP_BITS`;
* ``qqemu.sstep`` / ``Qqemu.sstep``: the current flags (``0x%x``);
  ``Qqemu.sstep=N`` (hex): set them (``OK``);
* ``qqemu.PhyMemMode`` (``0`` or ``1``) and ``Qqemu.PhyMemMode:0|1`` (``OK``):
  while it is 1, ``m``, ``M`` and ``X`` address physical memory.

The dispatcher answers them only for a target with the matching capability
(:class:`~gdbstub.target.SupportsSingleStepFlags`,
:class:`~gdbstub.target.SupportsPhysicalMemory`); otherwise they get the
empty reply, like any packet the stub does not implement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ._fields import hex_int
from .errors import PacketError

__all__ = ["SSTEP_BITS", "SSTEP_ENABLE", "SSTEP_NOIRQ", "SSTEP_NOTIMER", "SstepBits", "Sstep", "PhyMemMode"]

#: QEMU's single-step flags and the reply naming them.
SSTEP_ENABLE, SSTEP_NOIRQ, SSTEP_NOTIMER = 1, 2, 4
SSTEP_BITS = b"ENABLE=1,NOIRQ=2,NOTIMER=4"


@dataclass(frozen=True)
class SstepBits:
    """``qqemu.sstepbits``: which single-step flags exist."""


@dataclass(frozen=True)
class Sstep:
    """``qqemu.sstep`` (``flags`` None: a query) or ``Qqemu.sstep=N`` (set ``flags``)."""

    flags: Optional[int] = None


@dataclass(frozen=True)
class PhyMemMode:
    """``qqemu.PhyMemMode`` (``enable`` None: a query) or ``Qqemu.PhyMemMode:0|1``."""

    enable: Optional[bool] = None


def parse_sstepbits(data: bytes) -> SstepBits:
    """Parse ``qqemu.sstepbits`` or ``Qqemu.sstepbits``."""
    if data[1:] != b"qemu.sstepbits":
        raise PacketError("qemu.sstepbits takes no arguments")
    return SstepBits()


def parse_sstep(data: bytes) -> Sstep:
    """Parse ``qqemu.sstep``, ``Qqemu.sstep`` or ``Qqemu.sstep=N``."""
    rest = data[len(b"qqemu.sstep"):]
    if not rest:
        return Sstep()
    if data[:1] != b"Q" or rest[:1] != b"=":
        raise PacketError("qemu.sstep: expected '=N' in a Q packet")
    return Sstep(hex_int(rest[1:], "qemu.sstep flags", 0xFFFFFFFF))


def parse_phymemmode(data: bytes) -> PhyMemMode:
    """Parse ``qqemu.PhyMemMode`` or ``Qqemu.PhyMemMode:0|1``."""
    rest = data[len(b"qqemu.PhyMemMode"):]
    if not rest and data[:1] == b"q":
        return PhyMemMode()
    if data[:1] != b"Q" or rest not in (b":0", b":1"):
        raise PacketError("qemu.PhyMemMode: expected ':0' or ':1' in a Q packet")
    return PhyMemMode(rest == b":1")
