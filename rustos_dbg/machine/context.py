"""Two fields of QEMU's CPU state that Unicorn has no API for, found by calibration.

Unicorn hands an exception to ``UC_HOOK_INTR`` with its vector only. Two
fields of the CPU state it keeps are needed: the exception's ``error_code``
(which the emulator must push for #PF, #GP, ...), and ``old_exception``, which
QEMU resets only after delivering an exception itself; as Unicorn never
delivers, it stays set and QEMU then turns the next fault into a bogus #DF
(unicorn issue #1883). Ending a slice also leaves it set when the ``until``
address of ``emu_start`` is unmapped, as the machine's never-reached one is
(seen here: 13, then 8 after the next slice), after which a real fault becomes
a silent "triple fault" halt; so the machine clears it before every slice as
well as in the exception hook. Both live in the saved context blob (``context_save``),
at offsets that depend on the Unicorn build. :func:`calibrate` finds them once
per process by raising page faults with known error codes in a scratch engine;
:class:`ContextFields` reads the error code and clears ``old_exception``.
"""

from __future__ import annotations

import ctypes
import struct
from dataclasses import dataclass
from functools import lru_cache

from unicorn import UC_ARCH_X86, UC_HOOK_INTR, UC_MODE_64, Uc, UcError
from ..structs.control import IA32_EFER_MSR
from unicorn.x86_const import UC_X86_REG_CR0, UC_X86_REG_CR3, UC_X86_REG_CR4, UC_X86_REG_MSR

_CODE_AT = 0x5000


def _scratch_engine() -> Uc:
    """An engine in long mode with 4 KiB pages: 0x10000 read-only, 0x11000 absent, 0x12000 NX."""
    uc = Uc(UC_ARCH_X86, UC_MODE_64)
    uc.mem_map(0, 0x20_0000)
    uc.mem_write(0x1000, struct.pack("<Q", 0x2003))
    uc.mem_write(0x2000, struct.pack("<Q", 0x3003))
    uc.mem_write(0x3000, struct.pack("<Q", 0x4003))
    table = [(i << 12) | 3 for i in range(512)]
    table[0x10], table[0x11], table[0x12] = 0x10000 | 1, 0, 0x12000 | 3 | (1 << 63)
    uc.mem_write(0x4000, struct.pack("<512Q", *table))
    uc.reg_write(UC_X86_REG_MSR, (IA32_EFER_MSR, 0xD00))
    uc.reg_write(UC_X86_REG_CR3, 0x1000)
    uc.reg_write(UC_X86_REG_CR4, 0x20)
    uc.reg_write(UC_X86_REG_CR0, 0x8001_0011)
    return uc


def _blob(ctx) -> bytes:
    return ctypes.string_at(ctx._context.value, ctx.size)


def _fault_blob(code: bytes) -> tuple[int, bytes]:
    """Runs ``code`` until its first exception; returns (vector, context blob)."""
    uc = _scratch_engine()
    uc.mem_write(_CODE_AT, code + b"\xf4")
    got: dict = {}

    def hook(uc, vector, _):
        got["vector"], got["blob"] = vector, _blob(uc.context_save())
        uc.emu_stop()

    uc.hook_add(UC_HOOK_INTR, hook)
    try:
        uc.emu_start(_CODE_AT, _CODE_AT + 0x1000, count=4)
    except UcError:
        pass
    return got["vector"], got["blob"]


def _int32_offsets(blob: bytes, value: int) -> set[int]:
    return {o for o in range(0, len(blob) - 3, 4) if struct.unpack_from("<i", blob, o)[0] == value}


@dataclass(frozen=True)
class ContextFields:
    """Offsets of ``error_code`` and ``old_exception`` in a context blob (None if unknown)."""

    error_code: int | None
    old_exception: int | None

    def read_error_code(self, uc) -> int | None:
        """The error code of the exception being reported to the hook."""
        if self.error_code is None:
            return None
        return struct.unpack_from("<I", _blob(uc.context_save()), self.error_code)[0]

    def clear_old_exception(self, uc) -> None:
        """Marks no exception in flight, so QEMU does not invent a #DF."""
        if self.old_exception is None:
            return
        ctx = uc.context_save()
        ctypes.memmove(ctx._context.value + self.old_exception, struct.pack("<i", -1), 4)
        uc.context_restore(ctx)


@lru_cache(maxsize=1)
def calibrate() -> ContextFields:
    """Finds both offsets with four page faults and one #GP of known error codes."""
    cases = [
        (bytes.fromhex("8a042500100100"), 0x00),  # mov al, [0x11000]: not present, read
        (bytes.fromhex("88042500100100"), 0x02),  # mov [0x11000], al: not present, write
        (bytes.fromhex("88042500000100"), 0x03),  # mov [0x10000], al: read-only, write
        (b"\xe9" + struct.pack("<i", 0x12000 - (_CODE_AT + 5)), 0x11),  # jmp 0x12000: NX fetch
    ]
    error_offsets: set[int] | None = None
    pf_offsets: set[int] | None = None
    try:
        for code, expected in cases:
            vector, blob = _fault_blob(code)
            if vector != 14:
                return ContextFields(None, None)
            found = _int32_offsets(blob, expected)
            error_offsets = found if error_offsets is None else error_offsets & found
            pf = _int32_offsets(blob, 14)
            pf_offsets = pf if pf_offsets is None else pf_offsets & pf
        # A #GP (non-canonical read) leaves 13 where old_exception is.
        vector, blob = _fault_blob(bytes.fromhex("48b80000000000000080488b00"))
        gp = _int32_offsets(blob, 13) if vector == 13 else set()
    except Exception:
        return ContextFields(None, None)
    old = (pf_offsets or set()) & gp
    error = sorted(error_offsets)[0] if error_offsets and len(error_offsets) == 1 else None
    return ContextFields(error, sorted(old)[0] if len(old) == 1 else None)
