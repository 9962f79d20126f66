"""Fields of QEMU's CPU state that Unicorn has no API for, found by calibration.

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

A privilege change needs two more. Unicorn's ``reg_write`` of CS or SS
stores the selector only, and the CPL lives in QEMU's ``hflags`` (its low two
bits, set from SS's DPL whenever SS is loaded). The segment caches
(``segs[6]``: selector, base, limit, flags each) follow ``hflags`` and
``hflags2``, and the GDTR's cache lies eight caches after ``segs[0]`` (ES,
CS, SS, DS, FS, GS, LDTR, TR, GDTR): calibration writes a known GDTR and
finds it. :meth:`ContextFields.load_code_and_stack` then loads CS and SS the
way QEMU's own interrupt delivery does (``cpu_x86_load_seg_cache``: SS's DPL
becomes the CPL, a 64-bit CS sets CS32/CS64, SS's B flag sets SS32).
"""

from __future__ import annotations

import ctypes
import struct
from dataclasses import dataclass
from functools import lru_cache

from unicorn import UC_ARCH_X86, UC_HOOK_INTR, UC_MODE_64, Uc, UcError
from ..structs.control import IA32_EFER_MSR
from unicorn.x86_const import UC_X86_REG_CR0, UC_X86_REG_CR3, UC_X86_REG_CR4, UC_X86_REG_GDTR, UC_X86_REG_MSR

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


_SEGMENT_CACHE = struct.Struct("<I4xQII")   # QEMU's SegmentCache: selector, base, limit, flags
_CS, _SS = 1, 2                              # indices in segs[]
_HF_CPL, _HF_CS32, _HF_SS32, _HF_ADDSEG, _HF_LMA, _HF_CS64 = 3, 1 << 4, 1 << 5, 1 << 6, 1 << 14, 1 << 15
_DESC_B, _DESC_L = 1 << 22, 1 << 21          # in a descriptor's high dword (QEMU's ``flags``)
_GDT_PROBE = (0x1234_5000, 0x77)             # a GDTR that calibration writes and looks for


@dataclass(frozen=True)
class ContextFields:
    """Offsets of fields in a context blob (None if unknown)."""

    error_code: int | None
    old_exception: int | None
    hflags: int | None = None     #: ``hflags`` (the CPL in its low two bits)
    segments: int | None = None   #: ``segs[0]``, six segment caches of ``_SEGMENT_CACHE.size`` bytes

    def load_code_and_stack(self, uc, cpl: int, cs: tuple[int, int, int, int], ss: tuple[int, int, int, int]) -> None:
        """Loads CS and SS caches (selector, base, limit, flags: the descriptor's high
        dword) and makes ``cpl`` the privilege level, as the CPU does on a privilege change."""
        if self.hflags is None or self.segments is None:
            raise RuntimeError("this Unicorn build's CPU state has no known hflags: privilege changes are impossible")
        ctx = uc.context_save()
        base = ctx._context.value
        for index, cache in ((_CS, cs), (_SS, ss)):
            ctypes.memmove(base + self.segments + index * _SEGMENT_CACHE.size, _SEGMENT_CACHE.pack(*cache), _SEGMENT_CACHE.size)
        hflags = struct.unpack("<I", ctypes.string_at(base + self.hflags, 4))[0]
        hflags = (hflags & ~(_HF_CPL | _HF_SS32 | _HF_ADDSEG)) | cpl
        if hflags & _HF_LMA and cs[3] & _DESC_L:
            hflags |= _HF_CS32 | _HF_CS64
        if ss[3] & _DESC_B:
            hflags |= _HF_SS32
        ctypes.memmove(base + self.hflags, struct.pack("<I", hflags), 4)
        uc.context_restore(ctx)

    def cpl(self, uc) -> int | None:
        """The current privilege level (QEMU's, not the CS selector's RPL)."""
        if self.hflags is None:
            return None
        return struct.unpack_from("<I", _blob(uc.context_save()), self.hflags)[0] & _HF_CPL

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
    return ContextFields(error, sorted(old)[0] if len(old) == 1 else None, *_segment_offsets())


def _segment_offsets() -> tuple[int | None, int | None]:
    """(``hflags``, ``segs[0]``) offsets: found from a known GDTR, checked against
    the scratch engine's long-mode ring-0 state."""
    uc = _scratch_engine()
    uc.reg_write(UC_X86_REG_GDTR, (0, *_GDT_PROBE, 0))
    blob = _blob(uc.context_save())
    gdtr = struct.pack("<QI", *_GDT_PROBE)
    at = blob.find(gdtr)
    if at < 0 or blob.find(gdtr, at + 1) >= 0:
        return None, None
    segments = at - 8 - 8 * _SEGMENT_CACHE.size  # the base is 8 bytes into the GDTR's cache
    hflags = segments - 8                        # hflags, hflags2, then segs[]
    if segments < 0 or struct.unpack_from("<I", blob, hflags)[0] & (_HF_LMA | _HF_CPL) != _HF_LMA:
        return None, None
    return hflags, segments
