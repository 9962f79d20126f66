"""What the CPU pushes when it delivers an interrupt or exception in 64-bit mode.

Contract: ``InterruptFrame`` (40 bytes) and ``InterruptFrameWithErrorCode``
(48 bytes) parse and build the stack contents exactly, lowest address first,
as found at RSP on entry to a handler.  ``PageFaultErrorCode`` is the 32-bit
error code of #PF (vector 14), the low dword of its 8-byte stack slot.
Section numbers follow the numbering explained in :mod:`rustos_dbg.structs`.
"""

from __future__ import annotations

from construct import BitsInteger, BitStruct, ByteSwapped, Flag, Int64ul, Struct

__all__ = ["InterruptFrame", "InterruptFrameWithErrorCode", "PageFaultErrorCode",
           "PAGE_FAULT_VECTOR", "PF_ERROR_FIELD_NAMES"]

#: Vector number of the page-fault exception (#PF).
PAGE_FAULT_VECTOR = 14


# Intel SDM Vol. 3A §6.14.2 64-Bit Mode Stack Frame (Figure 6-9): the CPU
# aligns RSP to 16 bytes and pushes SS, RSP, RFLAGS, CS, RIP and, for some
# exceptions, an error code, each as 8 bytes.  CS and SS are 16-bit selectors
# in 8-byte slots; they are kept as full slots so that building round-trips.
_FRAME_FIELDS = (
    "rip" / Int64ul,
    "cs" / Int64ul,
    "rflags" / Int64ul,
    "rsp" / Int64ul,
    "ss" / Int64ul,
)

#: Interrupt stack frame without error code (40 bytes), Intel SDM Vol. 3A §6.14.2.
InterruptFrame = Struct(*_FRAME_FIELDS)

#: Interrupt stack frame with the error code at the lowest address (48 bytes),
#: Intel SDM Vol. 3A §6.14.2.
InterruptFrameWithErrorCode = Struct("error_code" / Int64ul, *_FRAME_FIELDS)

#: Page-fault error code, Intel SDM Vol. 3A §4.7 Page-Fault Exceptions
#: (Figure 4-12).
PageFaultErrorCode = ByteSwapped(BitStruct(
    "reserved_31_16" / BitsInteger(16),
    "sgx" / Flag,                       # bit 15, SGX access-control violation
    "reserved_14_8" / BitsInteger(7),
    "hlat" / Flag,                      # bit 7, HLAT paging
    "ss" / Flag,                        # bit 6, shadow-stack access
    "pk" / Flag,                        # bit 5, protection-key violation
    "id" / Flag,                        # bit 4, instruction fetch
    "rsvd" / Flag,                      # bit 3, reserved bit set in an entry
    "us" / Flag,                        # bit 2, user-mode access
    "wr" / Flag,                        # bit 1, write access
    "p" / Flag,                         # bit 0, 0 = not present, 1 = protection
))

#: Meaning of each page-fault error-code flag when it is set (display strings).
PF_ERROR_FIELD_NAMES: dict[str, str] = {
    "p": "page-level protection violation (clear: page not present)",
    "wr": "write access (clear: read)",
    "us": "user-mode access (clear: supervisor)",
    "rsvd": "reserved bit set in a paging-structure entry",
    "id": "instruction fetch",
    "pk": "protection-key violation",
    "ss": "shadow-stack access",
    "hlat": "fault during HLAT paging",
    "sgx": "SGX access-control violation",
}
