"""The 64-bit Task-State Segment.

Contract: ``Tss64`` parses and builds the 104-byte 64-bit TSS exactly
(``build(parse(b)) == b``), reserved fields included, so that nothing a kernel
stored there is lost.  ``tss_ist`` reads IST slot *n* (1..7) of a parsed TSS;
``TSS64_OFFSETS`` gives each field's byte offset (derived from ``Tss64``).
Section numbers follow the numbering explained in :mod:`rustos_dbg.structs`.
"""

from __future__ import annotations

from construct import Int16ul, Int32ul, Int64ul, Struct

from .bitfields import byte_offsets

__all__ = ["Tss64", "TSS64_SIZE", "TSS64_OFFSETS", "tss_ist"]

#: Size in bytes of the 64-bit TSS without an I/O permission bitmap.
TSS64_SIZE = 104

#: 64-bit TSS, Intel SDM Vol. 3A §7.7 Task Management in 64-bit Mode
#: (Figure 7-11 "64-Bit TSS Format").  The 64-bit fields are not naturally
#: aligned (RSP0 sits at offset 4).  ``iomap_base`` is the 16-bit offset from
#: the TSS base to the I/O permission bitmap.
Tss64 = Struct(
    "reserved_0" / Int32ul,    # offset 0
    "rsp0" / Int64ul,          # offset 4
    "rsp1" / Int64ul,          # offset 12
    "rsp2" / Int64ul,          # offset 20
    "reserved_28" / Int64ul,   # offset 28
    "ist1" / Int64ul,          # offset 36
    "ist2" / Int64ul,          # offset 44
    "ist3" / Int64ul,          # offset 52
    "ist4" / Int64ul,          # offset 60
    "ist5" / Int64ul,          # offset 68
    "ist6" / Int64ul,          # offset 76
    "ist7" / Int64ul,          # offset 84
    "reserved_92" / Int64ul,   # offset 92
    "reserved_100" / Int16ul,  # offset 100
    "iomap_base" / Int16ul,    # offset 102
)


def tss_ist(tss, n: int) -> int:
    """Stack pointer held in IST slot ``n`` (1..7) of a parsed :data:`Tss64`."""
    if not 1 <= n <= 7:
        raise ValueError(f"IST index must be 1..7, not {n}")
    return tss[f"ist{n}"]


#: Byte offset of each ``Tss64`` field (``rsp0``: 4, ``ist1``: 36, ...).
TSS64_OFFSETS = byte_offsets(Tss64)
