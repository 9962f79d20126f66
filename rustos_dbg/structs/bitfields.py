"""Introspection helpers for the little-endian bit-field layouts in this package.

Contract: every register-like layout in ``rustos_dbg.structs`` is written as
``ByteSwapped(BitStruct(...))`` with its fields listed from the most-significant
bit down.  The functions here read the bit positions *from those declarations*
(no second table of bit numbers exists anywhere), convert between such layouts
and plain Python ints, and give masks that pure code (e.g. the page-table
walker) can apply without importing ``construct``. :func:`byte_offsets`
does the same for the byte offsets of a fixed-size ``Struct``'s fields.
"""

from __future__ import annotations

from functools import lru_cache
from types import MappingProxyType
from typing import Mapping

from construct import Construct, Container, Struct

__all__ = ["BitField", "bit_fields", "field_mask", "field_shift", "field_value",
           "parse_int", "build_int"]


class BitField(tuple):
    """``(shift, width)`` of one named field: its value is ``(raw >> shift) & ((1 << width) - 1)``."""

    __slots__ = ()

    def __new__(cls, shift: int, width: int) -> "BitField":
        return super().__new__(cls, (shift, width))

    @property
    def shift(self) -> int:
        """Bit number of the field's least-significant bit."""
        return self[0]

    @property
    def width(self) -> int:
        """Number of bits in the field."""
        return self[1]

    @property
    def mask(self) -> int:
        """The field's bits, in place, as an int mask."""
        return ((1 << self[1]) - 1) << self[0]


def _inner_struct(layout: Construct) -> Struct:
    """Unwrap ``ByteSwapped(BitStruct(...))`` down to the bit-level ``Struct``."""
    node = layout
    while not isinstance(node, Struct):
        node = getattr(node, "subcon", None)
        if node is None:
            raise TypeError(f"{layout!r} is not a ByteSwapped(BitStruct(...)) layout")
    return node


@lru_cache(maxsize=None)
def bit_fields(layout: Construct) -> Mapping[str, BitField]:
    """Map each named field of a ``ByteSwapped(BitStruct(...))`` layout to its position.

    Positions are counted in the little-endian integer the layout represents
    (bit 0 = least significant), so they match the SDM's bit numbers.
    """
    struct = _inner_struct(layout)
    widths = [(sc.name, sc.subcon.sizeof()) for sc in struct.subcons]
    total = sum(w for _, w in widths)
    if total != 8 * layout.sizeof():
        raise TypeError(f"bit widths ({total}) do not fill {layout.sizeof()} bytes")
    out: dict[str, BitField] = {}
    top = total
    for name, width in widths:
        top -= width
        if name is not None:
            out[name] = BitField(top, width)
    return MappingProxyType(out)


def field_shift(layout: Construct, name: str) -> int:
    """Bit number of the least-significant bit of field ``name``."""
    return bit_fields(layout)[name].shift


def field_mask(layout: Construct, name: str) -> int:
    """Mask selecting field ``name`` in the integer form of ``layout``."""
    return bit_fields(layout)[name].mask


def field_value(layout: Construct, name: str, raw: int) -> int:
    """Extract field ``name`` (as an unsigned int) from the integer ``raw``."""
    shift, width = bit_fields(layout)[name]
    return (raw >> shift) & ((1 << width) - 1)


def parse_int(layout: Construct, raw: int) -> Container:
    """Decode the integer value ``raw`` (e.g. a register) with ``layout``."""
    return layout.parse(raw.to_bytes(layout.sizeof(), "little"))


def build_int(layout: Construct, obj: dict) -> int:
    """Encode ``obj`` with ``layout`` and return the little-endian integer value."""
    return int.from_bytes(layout.build(obj), "little")


def byte_offsets(layout: Struct) -> dict[str, int]:
    """Byte offset of each field of a fixed-size construct ``Struct``."""
    offsets, at = {}, 0
    for sub in layout.subcons:
        offsets[sub.name] = at
        at += sub.sizeof()
    return offsets
