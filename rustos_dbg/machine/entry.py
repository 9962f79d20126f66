"""Puts a fresh engine's CPU into the state a boot plan names (:class:`~.boot.BootState`).

Contract: :func:`enter` sets the registers of ``state`` on an x86-64 Unicorn
engine. A "long64" state is written through Unicorn's register API. A
"protected32" state (32-bit protected mode, paging off) needs more, as a
UC_MODE_64 engine starts in long mode and its API loads selectors only:
EFER.LMA is dropped the way the CPU drops it (CR0.PG cleared while LME is
set), then the CS/SS/DS/ES/FS/GS caches are loaded flat (base 0, limit 4 GiB,
the GDT descriptor's flags) and QEMU's ``hflags`` set to match (CPL 0, PE,
CS32, SS32, neither LMA nor CS64) in the saved CPU context
(:mod:`.context`). QEMU's translator decodes by ``hflags``, so the one
engine then runs the 32-bit code, and the kernel's own switch to long mode
(CR0.PG with EFER.LME, then a far jump to a 64-bit code segment) takes it
to 64-bit code as on a real CPU: there is no second engine and no handoff,
and snapshots, instruction counts and determinism span the switch.
"""

from __future__ import annotations

import ctypes
import struct

from unicorn.x86_const import UC_X86_REG_FPCW, UC_X86_REG_MXCSR

from . import registers
from .context import _SEGMENT_CACHE, calibrate
from .errors import KernelImageError

_EFER_LME = 0x100
_CR0_PG = 0x8000_0000
_CR4_PAE = 0x20
_HF_CPL, _HF_CS32, _HF_SS32, _HF_ADDSEG, _HF_PE, _HF_LMA, _HF_CS64 = 3, 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 14, 1 << 15
#: The flat descriptors' high dwords, as QEMU's PVH entry leaves them in its segment caches.
_CODE32_FLAGS, _DATA32_FLAGS = 0x00CF_9A00, 0x00CF_9300


def enter(uc, state) -> None:
    """Sets ``uc``'s CPU to ``state`` (a :class:`~.boot.BootState`)."""
    if state.mode == "protected32":
        _leave_long_mode(uc, state)
    elif state.mode == "long64":
        registers.write(uc, "efer", state.efer)
        registers.write(uc, "cr3", state.cr3)
        registers.write(uc, "cr4", state.cr4)
        registers.write(uc, "cr0", state.cr0)
    else:
        raise ValueError(f"unknown entry mode {state.mode!r}")
    registers.write(uc, "gdtr", (0, state.gdtr[0], state.gdtr[1], 0))
    registers.write(uc, "idtr", (0, state.idtr[0], state.idtr[1], 0))
    if state.mode == "protected32":
        _load_flat_segments(uc, state)
    elif state.selectors is not None:
        for name in ("ds", "es", "fs", "gs"):
            registers.write(uc, name, state.selectors)
    for name in registers.GPR:
        registers.write(uc, name, 0)
    for name, value in state.gprs:
        registers.write(uc, name, value)
    registers.write(uc, "rip", state.rip)
    registers.write(uc, "rflags", state.rflags)
    uc.reg_write(UC_X86_REG_MXCSR, 0x1F80)
    uc.reg_write(UC_X86_REG_FPCW, 0x37F)


def _leave_long_mode(uc, state) -> None:
    """CR0/CR3/CR4/EFER of ``state``, with EFER.LMA cleared as the CPU clears it."""
    registers.write(uc, "cr4", state.cr4 | _CR4_PAE)   # PG with LME needs PAE, or QEMU ignores the write
    registers.write(uc, "efer", _EFER_LME)
    registers.write(uc, "cr0", state.cr0 | _CR0_PG)
    registers.write(uc, "cr0", state.cr0 & ~_CR0_PG)  # PG off with LME set: LMA = 0
    registers.write(uc, "efer", state.efer)
    registers.write(uc, "cr4", state.cr4)
    registers.write(uc, "cr3", state.cr3)


def _load_flat_segments(uc, state) -> None:
    """Flat 32-bit CS and data segments in the caches, and ``hflags`` to match."""
    fields = calibrate()
    if fields.hflags is None or fields.segments is None:
        raise KernelImageError("this Unicorn build's CPU state is unknown: a 32-bit entry is impossible")
    ctx = uc.context_save()
    base = ctx._context.value
    size = _SEGMENT_CACHE.size
    for index in range(6):  # ES, CS, SS, DS, FS, GS
        cache = ((state.code_selector, 0, 0xFFFF_FFFF, _CODE32_FLAGS) if index == 1
                 else (state.data_selector, 0, 0xFFFF_FFFF, _DATA32_FLAGS))
        ctypes.memmove(base + fields.segments + index * size, _SEGMENT_CACHE.pack(*cache), size)
    hflags = struct.unpack("<I", ctypes.string_at(base + fields.hflags, 4))[0]
    hflags &= ~(_HF_CPL | _HF_ADDSEG | _HF_LMA | _HF_CS64)
    hflags |= _HF_PE | _HF_CS32 | _HF_SS32
    ctypes.memmove(base + fields.hflags, struct.pack("<I", hflags), 4)
    uc.context_restore(ctx)


class ModeProbe:
    """Whether the CPU of one engine runs 64-bit code (IA-32e mode with a 64-bit CS),
    as QEMU decodes it: ``hflags`` read through one preallocated context (about a
    microsecond; for the first decoding of each block)."""

    def __init__(self, uc) -> None:
        self._uc = uc
        self._offset = calibrate().hflags
        self._ctx = uc.context_save() if self._offset is not None else None

    def code64(self) -> bool:
        """True while the CPU decodes 64-bit code."""
        if self._ctx is None:
            return True
        from unicorn.unicorn_py3.unicorn import uclib

        uclib.uc_context_save(self._uc._uch, self._ctx._context)
        return bool(struct.unpack("<I", ctypes.string_at(self._ctx._context.value + self._offset, 4))[0] & _HF_CS64)
