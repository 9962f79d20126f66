"""Field-level parsing helpers shared by the packet parsers (internal).

Contract: every helper takes the raw bytes of one field and either returns
its value or raises :class:`~gdbstub.errors.PacketError`; none accepts
anything looser than the protocol allows (no whitespace, no ``0x`` prefix,
no sign except in thread ids).
"""

from __future__ import annotations

from .errors import PacketError

_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")
#: Largest value accepted for addresses and lengths (64-bit targets).
MAX_U64 = (1 << 64) - 1


def hex_int(field: bytes, what: str, limit: int = MAX_U64) -> int:
    """Parse a non-empty hex number no larger than ``limit``."""
    if not field or not _HEX_DIGITS.issuperset(field):
        raise PacketError(f"{what}: expected a hex number, got {field[:32]!r}")
    value = int(field, 16)
    if value > limit:
        raise PacketError(f"{what}: {value:#x} is out of range")
    return value


def hex_bytes(field: bytes, what: str) -> bytes:
    """Parse an even-length (possibly empty) string of hex digit pairs."""
    if len(field) % 2 or not _HEX_DIGITS.issuperset(field):
        raise PacketError(f"{what}: expected hex byte pairs")
    return bytes.fromhex(field.decode("ascii"))


def split_once(data: bytes, sep: bytes, what: str) -> tuple[bytes, bytes]:
    """Split ``data`` at the first ``sep``; the separator is mandatory."""
    head, found, tail = data.partition(sep)
    if not found:
        raise PacketError(f"{what}: missing {sep.decode()!r}")
    return head, tail


def address_length(field: bytes, what: str) -> tuple[int, int]:
    """Parse ``addr,length`` (both hex)."""
    addr, length = split_once(field, b",", what)
    return hex_int(addr, what + " address"), hex_int(length, what + " length")


def thread_id(field: bytes, what: str) -> int:
    """Parse a thread id: ``-1`` (all), ``0`` (any), hex, or ``p<pid>.<tid>``.

    For the multiprocess form only the thread part is kept (``p1`` alone
    means all threads of process 1 and yields -1).
    """
    if field == b"-1":
        return -1
    if field.startswith(b"p"):
        _pid, dot, tid = field[1:].partition(b".")
        if _pid != b"-1":
            hex_int(_pid, what + " process id")
        if not dot or tid == b"-1":
            return -1
        return hex_int(tid, what, 0xFFFFFFFF)
    return hex_int(field, what, 0xFFFFFFFF)


def signal_number(field: bytes, what: str) -> int:
    """Parse a signal number (hex, 0..255)."""
    return hex_int(field, what, 0xFF)
