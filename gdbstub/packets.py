"""Parsers for the register, memory and breakpoint packets.

Contract: each ``parse_*`` function takes the whole packet payload (after
framing, run-length expansion included, escapes still in place) and returns
a frozen dataclass, or raises :class:`~gdbstub.errors.PacketError` if the
packet is malformed.  A parser returns ``None`` for a well-formed variant
the stub does not implement (e.g. an unknown ``Z`` type), which the
dispatcher answers with the empty "unsupported" reply.
Execution and thread packets are parsed in :mod:`gdbstub.execution`, query
packets in :mod:`gdbstub.queries`; :mod:`gdbstub.parse` routes payloads.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional

from ._fields import address_length, hex_bytes, hex_int, split_once
from .errors import PacketError
from .framing import unescape

__all__ = [
    "BreakpointType",
    "QueryHaltReason",
    "ReadRegisters",
    "WriteRegisters",
    "ReadRegister",
    "WriteRegister",
    "ReadMemory",
    "WriteMemory",
    "InsertBreakpoint",
    "RemoveBreakpoint",
]


class BreakpointType(enum.IntEnum):
    """The type field of ``Z``/``z`` packets."""

    SOFTWARE = 0
    HARDWARE = 1
    WRITE_WATCH = 2
    READ_WATCH = 3
    ACCESS_WATCH = 4


@dataclass(frozen=True)
class QueryHaltReason:
    """``?``: report why the target halted."""


@dataclass(frozen=True)
class ReadRegisters:
    """``g``: read all registers."""


@dataclass(frozen=True)
class WriteRegisters:
    """``G XX...``: write all registers."""

    data: bytes


@dataclass(frozen=True)
class ReadRegister:
    """``p n``: read register ``regno``."""

    regno: int


@dataclass(frozen=True)
class WriteRegister:
    """``P n=r...``: write register ``regno``."""

    regno: int
    value: bytes


@dataclass(frozen=True)
class ReadMemory:
    """``m addr,length``: read memory."""

    address: int
    length: int


@dataclass(frozen=True)
class WriteMemory:
    """``M addr,length:XX...`` or ``X addr,length:binary``: write memory."""

    address: int
    data: bytes


@dataclass(frozen=True)
class InsertBreakpoint:
    """``Z type,addr,kind``: insert a breakpoint or watchpoint.

    ``kind`` is the breakpoint size for types 0/1 and the watched length for
    watchpoints.
    """

    type: BreakpointType
    address: int
    kind: int


@dataclass(frozen=True)
class RemoveBreakpoint:
    """``z type,addr,kind``: remove a breakpoint or watchpoint."""

    type: BreakpointType
    address: int
    kind: int


def _no_args(data: bytes, packet):
    if len(data) != 1:
        raise PacketError(f"{data[:1].decode()!r} takes no arguments")
    return packet


def parse_halt_reason(data: bytes) -> QueryHaltReason:
    """Parse ``?``."""
    return _no_args(data, QueryHaltReason())


def parse_read_registers(data: bytes) -> ReadRegisters:
    """Parse ``g``."""
    return _no_args(data, ReadRegisters())


def parse_write_registers(data: bytes) -> WriteRegisters:
    """Parse ``G XX...`` (at least one byte)."""
    value = hex_bytes(data[1:], "G")
    if not value:
        raise PacketError("G: no register data")
    return WriteRegisters(value)


def parse_read_register(data: bytes) -> ReadRegister:
    """Parse ``p n``."""
    return ReadRegister(hex_int(data[1:], "p register", 0xFFFF))


def parse_write_register(data: bytes) -> WriteRegister:
    """Parse ``P n=r...``."""
    regno, value = split_once(data[1:], b"=", "P")
    parsed = hex_bytes(value, "P value")
    if not parsed:
        raise PacketError("P: empty register value")
    return WriteRegister(hex_int(regno, "P register", 0xFFFF), parsed)


def parse_read_memory(data: bytes) -> ReadMemory:
    """Parse ``m addr,length``."""
    return ReadMemory(*address_length(data[1:], "m"))


def parse_write_memory(data: bytes) -> WriteMemory:
    """Parse ``M addr,length:XX...``; the length must match the data."""
    header, payload = split_once(data[1:], b":", "M")
    address, length = address_length(header, "M")
    value = hex_bytes(payload, "M data")
    if len(value) != length:
        raise PacketError(f"M: length {length} but {len(value)} data bytes")
    return WriteMemory(address, value)


def parse_write_memory_binary(data: bytes) -> WriteMemory:
    """Parse ``X addr,length:binary`` (escaped); the length must match."""
    header, payload = split_once(data[1:], b":", "X")
    address, length = address_length(header, "X")
    try:
        value = unescape(payload)
    except ValueError as exc:
        raise PacketError(f"X: {exc}") from None
    if len(value) != length:
        raise PacketError(f"X: length {length} but {len(value)} data bytes")
    return WriteMemory(address, value)


def _parse_z(data: bytes):
    fields = data[1:].split(b";", 1)[0].split(b",")  # ignore ;cond_list...
    if len(fields) != 3:
        raise PacketError(f"{data[:1].decode()}: expected type,addr,kind")
    ztype = hex_int(fields[0], "Z type", 0xFF)
    address = hex_int(fields[1], "Z address")
    kind = hex_int(fields[2], "Z kind", 0xFFFFFFFF)
    if ztype > BreakpointType.ACCESS_WATCH:
        return None
    return BreakpointType(ztype), address, kind


def parse_insert_breakpoint(data: bytes) -> Optional[InsertBreakpoint]:
    """Parse ``Z type,addr,kind``; ``None`` for an unknown type."""
    parsed = _parse_z(data)
    return None if parsed is None else InsertBreakpoint(*parsed)


def parse_remove_breakpoint(data: bytes) -> Optional[RemoveBreakpoint]:
    """Parse ``z type,addr,kind``; ``None`` for an unknown type."""
    parsed = _parse_z(data)
    return None if parsed is None else RemoveBreakpoint(*parsed)
