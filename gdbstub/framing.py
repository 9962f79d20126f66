"""Packet framing of the GDB Remote Serial Protocol.

Contract:

* A packet on the wire is ``$<data>#<cc>`` where ``cc`` is the two-digit hex
  sum of the transmitted data bytes modulo 256.
* Inside ``data``, ``}`` escapes the next byte (which is xor-ed with 0x20) and
  ``X*n`` is run-length encoding: ``X`` repeated ``ord(n) - 29`` more times.
  :class:`Decoder` expands run-length encoding; escapes are left in place
  because only binary packets (``X``) give them a meaning: :func:`unescape`
  undoes them.  :func:`encode_packet` always escapes ``# $ } *``.
* Outside a packet, ``+`` and ``-`` are acknowledgements and the byte 0x03 is
  an interrupt request (Ctrl-C); any other byte there is garbage and dropped.
* :class:`Decoder` is incremental: :meth:`Decoder.feed` takes any slice of
  the incoming stream and returns the events completed by it.  It never
  raises on input: bad checksums, malformed run-length encoding, truncated
  and oversized packets become :class:`BadPacket` events (the session answers
  them with a NAK in acknowledgement mode), after which the decoder
  resynchronises on the next ``$``.
"""

from __future__ import annotations

import enum
import re
import zlib
from dataclasses import dataclass
from typing import Union

__all__ = [
    "ACK",
    "NACK",
    "INTERRUPT",
    "DEFAULT_MAX_PACKET_SIZE",
    "Packet",
    "Ack",
    "Nack",
    "Interrupt",
    "BadPacket",
    "BadPacketReason",
    "Event",
    "Decoder",
    "checksum",
    "escape",
    "unescape",
    "expand_rle",
    "encode_packet",
]

#: Positive acknowledgement byte.
ACK = b"+"
#: Negative acknowledgement byte (asks the peer to retransmit).
NACK = b"-"
#: The Ctrl-C byte GDB sends to interrupt a running target.
INTERRUPT = b"\x03"
#: Default limit on the data part of a packet, in bytes (advertised as ``PacketSize``).
#: gdb sizes its memory reads by it: at 128 KiB a 64 KiB read is one ``m`` packet
#: (QEMU's 4 KiB needs 32), so large reads cost fewer round trips than QEMU's.
DEFAULT_MAX_PACKET_SIZE = 0x20000

_ESCAPE = 0x7D  # '}'
_RLE = 0x2A  # '*'
_START = 0x24  # '$'
_END = 0x23  # '#'
_MUST_ESCAPE = frozenset(b"#$}*")
_ESCAPE_RE = re.compile(rb"[#$}*]")
_SPECIAL = (b"#", b"$", b"}", b"*")
_ADLER_CHUNK = 256
_HEX = frozenset(b"0123456789abcdefABCDEF")


def checksum(data: bytes) -> int:
    """Return the RSP checksum of ``data``: the sum of its bytes modulo 256.

    Long payloads are summed 256 bytes at a time by ``zlib.adler32``, whose low half
    is 1 + the sum of the bytes modulo 65521: exact for 256 bytes (at most 65280),
    and done in C (``sum`` over a 16 KiB reply cost more than reading the memory)."""
    if len(data) <= _ADLER_CHUNK:
        return sum(data) & 0xFF
    view = memoryview(data)
    return sum((zlib.adler32(view[i : i + _ADLER_CHUNK]) & 0xFFFF) - 1
               for i in range(0, len(view), _ADLER_CHUNK)) & 0xFF


def escape(data: bytes) -> bytes:
    """Escape ``# $ } *`` in ``data`` as ``}`` followed by the byte xor 0x20."""
    data = bytes(data)
    if all(c not in data for c in _SPECIAL):  # the common case (hex): four scans in C
        return data
    return _ESCAPE_RE.sub(lambda m: bytes((_ESCAPE, m.group()[0] ^ 0x20)), data)


def unescape(data: bytes) -> bytes:
    """Undo :func:`escape`.

    :raises ValueError: if ``data`` ends with a lone ``}`` (truncated escape).
    """
    if _ESCAPE not in data:
        return bytes(data)
    out = bytearray()
    it = iter(data)
    for b in it:
        if b == _ESCAPE:
            nxt = next(it, None)
            if nxt is None:
                raise ValueError("truncated escape sequence")
            out.append(nxt ^ 0x20)
        else:
            out.append(b)
    return bytes(out)


def expand_rle(data: bytes, limit: int | None = None) -> bytes:
    """Expand run-length encoding (``X*n``) in transmitted packet data.

    An escaped byte (``}`` plus one byte) counts as one unit, so the whole
    escape pair is repeated.  The count byte must lie in 32..126 and must not
    be ``#`` or ``$``, as the protocol requires.

    :param limit: if given, fail when the result would exceed this length.
    :raises ValueError: on a ``*`` with nothing to repeat, a missing or
        invalid count byte, or an expansion past ``limit``.
    """
    if _RLE not in data:
        return bytes(data)
    out = bytearray()
    last = b""  # the last unit written: one byte or an escape pair
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b == _RLE:
            if not last:
                raise ValueError("run-length marker with nothing to repeat")
            if i + 1 >= n:
                raise ValueError("run-length marker without a count")
            count_byte = data[i + 1]
            if not 32 <= count_byte <= 126 or count_byte in (_START, _END):
                raise ValueError(f"invalid run-length count byte 0x{count_byte:02x}")
            out += last * (count_byte - 29)
            last = b""  # a run may not itself be repeated
            i += 2
        elif b == _ESCAPE and i + 1 < n:
            last = data[i : i + 2]
            out += last
            i += 2
        else:
            last = data[i : i + 1]
            out += last
            i += 1
        if limit is not None and len(out) > limit:
            raise ValueError("run-length expansion exceeds the packet size limit")
    return bytes(out)


def encode_packet(payload: bytes, *, escaped: bool = True) -> bytes:
    """Frame ``payload`` as ``$<data>#<cc>``.

    :param escaped: escape ``# $ } *`` first (the default).  Pass ``False``
        only for payloads already escaped by the caller.
    """
    data = escape(payload) if escaped else bytes(payload)
    return b"$" + data + b"#" + b"%02x" % checksum(data)


@dataclass(frozen=True)
class Packet:
    """A complete packet with a valid checksum; ``data`` is RLE-expanded."""

    data: bytes


@dataclass(frozen=True)
class Ack:
    """A ``+`` acknowledgement from the peer."""


@dataclass(frozen=True)
class Nack:
    """A ``-`` negative acknowledgement: the peer asks for a retransmission."""


@dataclass(frozen=True)
class Interrupt:
    """A Ctrl-C (0x03) byte received between packets."""


class BadPacketReason(enum.IntEnum):
    """Why a packet was dropped (see :class:`BadPacket`)."""

    CHECKSUM = 1
    MALFORMED_CHECKSUM = 2
    OVERSIZED = 3
    TRUNCATED = 4
    BAD_RLE = 5


_REASON_TEXT = {
    BadPacketReason.CHECKSUM: "checksum mismatch",
    BadPacketReason.MALFORMED_CHECKSUM: "checksum is not two hex digits",
    BadPacketReason.OVERSIZED: "packet exceeds the size limit",
    BadPacketReason.TRUNCATED: "packet interrupted by a new '$'",
    BadPacketReason.BAD_RLE: "malformed run-length encoding",
}


@dataclass(frozen=True)
class BadPacket:
    """A packet that had to be dropped; answered with a NAK in ack mode.

    ``data`` holds (at most the first 64 bytes of) what was received, for
    logging only.
    """

    reason: BadPacketReason
    data: bytes = b""

    @property
    def description(self) -> str:
        """A human-readable explanation of :attr:`reason`."""
        return _REASON_TEXT[self.reason]


#: Everything :meth:`Decoder.feed` can return.
Event = Union[Packet, Ack, Nack, Interrupt, BadPacket]


class _State(enum.IntEnum):
    IDLE = 0
    DATA = 1
    CHECKSUM1 = 2
    CHECKSUM2 = 3


class Decoder:
    """Incremental decoder turning a byte stream into :data:`Event` objects.

    :param max_packet_size: the largest data part accepted, both as
        transmitted and after run-length expansion.  Larger packets are
        skipped up to their checksum and reported as
        :attr:`BadPacketReason.OVERSIZED`.
    """

    def __init__(self, max_packet_size: int = DEFAULT_MAX_PACKET_SIZE) -> None:
        if max_packet_size < 1:
            raise ValueError("max_packet_size must be positive")
        #: The data-size limit given at construction.
        self.max_packet_size = max_packet_size
        #: Count of garbage bytes dropped between packets so far.
        self.garbage_bytes = 0
        self._state = _State.IDLE
        self._buf = bytearray()
        self._oversized = False
        self._cs_hi = 0

    def feed(self, chunk: bytes) -> list[Event]:
        """Consume ``chunk`` and return the events it completes, in order."""
        events: list[Event] = []
        for b in chunk:
            self._step(b, events)
        return events

    def _step(self, b: int, events: list[Event]) -> None:
        state = self._state
        if state is _State.IDLE:
            if b == _START:
                self._begin()
            elif b == 0x2B:  # '+'
                events.append(Ack())
            elif b == 0x2D:  # '-'
                events.append(Nack())
            elif b == 0x03:
                events.append(Interrupt())
            else:
                self.garbage_bytes += 1
        elif state is _State.DATA:
            if b == _END:
                self._state = _State.CHECKSUM1
            elif b == _START:
                events.append(self._bad(BadPacketReason.TRUNCATED))
                self._begin()
            elif self._oversized:
                pass
            elif len(self._buf) >= self.max_packet_size:
                self._oversized = True
            else:
                self._buf.append(b)
        elif b == _START:  # a new packet where a checksum digit should be
            events.append(self._bad(BadPacketReason.TRUNCATED))
            self._begin()
        elif state is _State.CHECKSUM1:
            self._cs_hi = b
            self._state = _State.CHECKSUM2
        else:
            self._state = _State.IDLE
            events.append(self._finish(self._cs_hi, b))

    def _begin(self) -> None:
        self._state = _State.DATA
        self._buf.clear()
        self._oversized = False

    def _bad(self, reason: BadPacketReason) -> BadPacket:
        return BadPacket(reason, bytes(self._buf[:64]))

    def _finish(self, hi: int, lo: int) -> Event:
        if self._oversized:
            return self._bad(BadPacketReason.OVERSIZED)
        if hi not in _HEX or lo not in _HEX:
            return self._bad(BadPacketReason.MALFORMED_CHECKSUM)
        if int(bytes((hi, lo)), 16) != checksum(self._buf):
            return self._bad(BadPacketReason.CHECKSUM)
        try:
            # Bounded: each 2-byte run adds at most 97 units of 2 bytes.
            data = expand_rle(bytes(self._buf))
        except ValueError:
            return self._bad(BadPacketReason.BAD_RLE)
        if len(data) > self.max_packet_size:
            return self._bad(BadPacketReason.OVERSIZED)
        return Packet(data)
