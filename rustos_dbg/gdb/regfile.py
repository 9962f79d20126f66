"""The machine's registers as GDB's register file (see :mod:`.xml` for the layout).

Contract: :class:`RegisterFile` reads register number ``n`` of
:data:`~.xml.REGISTERS` as little-endian bytes of its size, and writes it
from such bytes. Values come from the machine's Unicorn engine:

* st0-st7 are the x87 *stack* registers ST(i) = R((TOP + i) mod 8) (the
  engine's FP0-FP7 are the physical R0-R7), 10 bytes each; ``ftag`` is the
  full 16-bit tag word (GDB's i387 convention), rebuilt from the engine's
  empty bits and the register contents;
* registers the engine cannot read (none on Unicorn 2.1) read as zeros.

:meth:`RegisterFile.read_all` (gdb's ``g``, after every stop) reads every
engine register it needs with one ``uc_reg_read_batch`` call into a buffer
laid out once (:class:`_Batch`), and decodes the block from it; the same
values as register-by-register reads, which remain the fallback when the
batch call fails.

Writes are supported for the general-purpose registers, rip, eflags, the
selectors (loaded through the GDT, as ``mov sreg`` would), the control
registers, efer and the base MSRs, the x87/SSE registers, and the GDTR/IDTR
base and limit. A write of the value a register already holds always
succeeds (so a ``G`` packet may carry read-only registers back); any other
write to ldtr/tr/tr_base/tr_limit, or one the engine refuses (e.g. a
selector without a valid descriptor), raises
:class:`~gdbstub.TargetError`. Control-register and efer writes flush the
engine's TLB.
"""

from __future__ import annotations

import ctypes
import struct

from unicorn import UcError
from unicorn import x86_const as X

from gdbstub import Errno, TargetError

from ..machine.engine import flush_tlb
from ..x86.msr import MSRS
from .xml import BLOCK_SIZE, GPRS, INDEX, REGISTERS, SELECTORS

_FP = [getattr(X, f"UC_X86_REG_FP{i}") for i in range(8)]
_XMM = {f"xmm{i}": getattr(X, f"UC_X86_REG_XMM{i}") for i in range(16)}
_X87 = {"fctrl": X.UC_X86_REG_FPCW, "fstat": X.UC_X86_REG_FPSW, "fiseg": X.UC_X86_REG_FCS,
        "fioff": X.UC_X86_REG_FIP, "foseg": X.UC_X86_REG_FDS, "fooff": X.UC_X86_REG_FDP,
        "fop": X.UC_X86_REG_FOP}
_MACHINE_NAMES = {"rip", "cs", "ss", "ds", "es", "fs", "gs", "fs_base", "gs_base", "k_gs_base",
                  "cr0", "cr2", "cr3", "cr4", "cr8", "efer", *GPRS}
#: Registers read with one engine id (the machine's own names, see machine/registers.py).
_PLAIN = {name: getattr(X, f"UC_X86_REG_{name.upper()}")
          for name in (*GPRS, "rip", *SELECTORS, "cr0", "cr2", "cr3", "cr4", "cr8")}
_PLAIN.update(_XMM)
_PLAIN.update(_X87, mxcsr=X.UC_X86_REG_MXCSR)
#: Model-specific registers (as machine/registers.py reads them).
_TABLES = {"gdtr": X.UC_X86_REG_GDTR, "idtr": X.UC_X86_REG_IDTR, "ldtr": X.UC_X86_REG_LDTR,
           "tr": X.UC_X86_REG_TR}
_TLB_NAMES = {"cr0", "cr3", "cr4", "efer"}
_TABLE_FIELDS = {"gdtr_base": ("gdtr", 1), "gdtr_limit": ("gdtr", 2), "idtr_base": ("idtr", 1),
                 "idtr_limit": ("idtr", 2), "ldtr": ("ldtr", 0), "tr": ("tr", 0), "tr_base": ("tr", 1),
                 "tr_limit": ("tr", 2)}
_WRITABLE_TABLES = {"gdtr_base", "gdtr_limit", "idtr_base", "idtr_limit"}


def _top(uc) -> int:
    return (uc.reg_read(X.UC_X86_REG_FPSW) >> 11) & 7


def _tag_word(uc) -> int:
    """The full x87 tag word: 0 valid, 1 zero, 2 special, 3 empty, two bits per R(i).

    Unicorn reads FPTAG as one "empty" bit per register, at bit 2*i.
    """
    return _tags(uc.reg_read(X.UC_X86_REG_FPTAG), [uc.reg_read(fp) for fp in _FP])


def _tags(empty_bits: int, registers: list[tuple[int, int]]) -> int:
    """The tag word from FPTAG's empty bits and R0-R7 as (mantissa, exponent)."""
    word = 0
    for i, (mantissa, exponent) in enumerate(registers):
        if empty_bits >> (2 * i) & 1:
            tag = 3
        else:
            exponent &= 0x7FFF
            if exponent == 0x7FFF:
                tag = 2
            elif exponent == 0:
                tag = 1 if mantissa == 0 else 2
            else:
                tag = 0 if mantissa >> 63 else 2
        word |= tag << (2 * i)
    return word


#: Bytes per engine value in the batch buffer (the widest, an xmm register or a
#: ``uc_x86_mmr`` {u16 selector; u64 base; u32 limit; u32 flags}, fits).
_SLOT = 32


class _Batch:
    """Every engine register :meth:`RegisterFile.read_all` needs, read by one
    ``uc_reg_read_batch`` into one buffer, and the block decoded from it."""

    def __init__(self, uc) -> None:
        self.uc = uc
        self._slots: dict[tuple, int] = {}
        self._decoders = [self._decoder(r.name) for r in REGISTERS]
        n = len(self._slots)
        self._buffer = ctypes.create_string_buffer(_SLOT * n)
        base = ctypes.addressof(self._buffer)
        self._ids = (ctypes.c_int * n)(*(ident for ident, _ in self._slots))
        self._ptrs = (ctypes.c_void_p * n)(*(base + _SLOT * i for i in range(n)))
        self._count = ctypes.c_int(n)
        for (ident, msr), i in self._slots.items():
            if msr is not None:  # uc_x86_msr {u32 rid; u64 value}: the engine reads rid
                struct.pack_into("<I", self._buffer, _SLOT * i, msr)

    def _slot(self, ident: int, msr: int | None = None) -> int:
        """Byte offset of engine register ``ident``'s value (``msr``: of that MSR)."""
        return _SLOT * self._slots.setdefault((ident, msr), len(self._slots))

    def _decoder(self, name: str):
        """``f(raw) -> int``: register ``name`` from the buffer's bytes."""
        if name in MSRS:
            at = self._slot(X.UC_X86_REG_MSR, MSRS[name]) + 8
            return lambda raw: int.from_bytes(raw[at:at + 8], "little")
        if name in _PLAIN:
            at = self._slot(_PLAIN[name])
            width = 16 if name in _XMM else 8
            return lambda raw: int.from_bytes(raw[at:at + width], "little")
        if name == "eflags":
            at = self._slot(X.UC_X86_REG_RFLAGS)
            return lambda raw: int.from_bytes(raw[at:at + 4], "little")
        if name.startswith("st"):
            i, fpsw, fps = int(name[2:]), self._slot(X.UC_X86_REG_FPSW), [self._slot(f) for f in _FP]

            def st(raw):
                at = fps[(((raw[fpsw] | raw[fpsw + 1] << 8) >> 11) + i) & 7]
                return int.from_bytes(raw[at:at + 10], "little")
            return st
        if name == "ftag":
            tag, fps = self._slot(X.UC_X86_REG_FPTAG), [self._slot(f) for f in _FP]

            def ftag(raw):
                empty_bits = int.from_bytes(raw[tag:tag + 8], "little")
                return _tags(empty_bits, [struct.unpack_from("<QH", raw, at) for at in fps])
            return ftag
        if name in _TABLE_FIELDS:
            table, field = _TABLE_FIELDS[name]
            at = self._slot(_TABLES[table]) + (0, 8, 16)[field]
            width = (2, 8, 4)[field]
            return lambda raw: int.from_bytes(raw[at:at + width], "little")
        raise KeyError(name)

    def read(self) -> list[int] | None:
        """Every register's value, in :data:`REGISTERS` order (None: the engine refused the batch)."""
        if self.uc._do_reg_read_batch(self._ids, self._ptrs, self._count) != 0:
            return None
        raw = self._buffer.raw
        return [decode(raw) for decode in self._decoders]


class RegisterFile:
    """GDB's view of ``machine``'s registers, by target-description number."""

    def __init__(self, machine) -> None:
        """Registers of ``machine`` (a :class:`~rustos_dbg.machine.Machine`)."""
        self.machine = machine
        self.uc = machine.uc
        self._readers = [self._reader(r.name) for r in REGISTERS]
        self._masks = [(1 << r.bits) - 1 for r in REGISTERS]
        self._batch = _Batch(self.uc)

    # --- reading -----------------------------------------------------------------

    def _reader(self, name: str):
        """A function ``f(memo) -> int`` reading ``name``; ``memo`` shares the
        descriptor-table reads and x87 TOP within one :meth:`read_all`."""
        rr = self.uc.reg_read
        if name in MSRS:
            msr = MSRS[name]
            return lambda memo: rr(X.UC_X86_REG_MSR, msr)
        if name in _PLAIN:
            ident = _PLAIN[name]
            return lambda memo: rr(ident)
        if name == "eflags":
            return lambda memo: rr(X.UC_X86_REG_RFLAGS) & 0xFFFF_FFFF
        if name.startswith("st"):
            i = int(name[2:])

            def st(memo):
                if "top" not in memo:
                    memo["top"] = _top(self.uc)
                mantissa, exponent = rr(_FP[(memo["top"] + i) & 7])
                return mantissa | (exponent & 0xFFFF) << 64
            return st
        if name == "ftag":
            return lambda memo: _tag_word(self.uc)
        if name in _TABLE_FIELDS:
            table, field = _TABLE_FIELDS[name]
            ident = _TABLES[table]

            def part(memo):
                if table not in memo:
                    memo[table] = rr(ident)
                return memo[table][field]
            return part
        raise KeyError(name)

    def value(self, name: str) -> int:
        """Register ``name`` as an unsigned integer."""
        return self._readers[INDEX[name]]({})

    def read(self, regno: int) -> bytes:
        """Register number ``regno`` as little-endian bytes."""
        reg = self._reg(regno)
        try:
            value = self._readers[regno]({})
        except UcError:
            value = 0
        return (value & self._masks[regno]).to_bytes(reg.size, "little")

    def read_all(self) -> bytes:
        """Every register, concatenated (the ``g`` packet's block)."""
        values = self._batch.read()
        if values is not None:
            return b"".join((value & mask).to_bytes(reg.size, "little")
                            for value, mask, reg in zip(values, self._masks, REGISTERS))
        return self.read_each()

    def read_each(self) -> bytes:
        """:meth:`read_all`'s block, read register by register (its fallback)."""
        memo: dict = {}
        out = bytearray()
        for reader, mask, reg in zip(self._readers, self._masks, REGISTERS):
            try:
                value = reader(memo)
            except UcError:
                value = 0
            out += (value & mask).to_bytes(reg.size, "little")
        return bytes(out)

    # --- writing -------------------------------------------------------------------

    def write(self, regno: int, data: bytes) -> None:
        """Sets register number ``regno`` from little-endian ``data``."""
        reg = self._reg(regno)
        if len(data) != reg.size:
            raise TargetError(f"{reg.name} takes {reg.size} bytes, not {len(data)}", Errno.EINVAL)
        value = int.from_bytes(data, "little")
        try:
            if value == self.value(reg.name):
                return
            self._set(reg.name, value)
            if reg.name == "rip":
                self.machine.cpu.halted = False  # a written $pc leaves HLT (as on QEMU)
        except UcError as e:
            raise TargetError(f"cannot set {reg.name} to {value:#x}: {e}") from None
        if reg.name in _TLB_NAMES:
            flush_tlb(self.uc)

    def write_all(self, data: bytes) -> None:
        """Sets every register from a ``G`` packet's block (only changed ones are written)."""
        if len(data) != BLOCK_SIZE:
            raise TargetError(f"register block of {len(data)} bytes, expected {BLOCK_SIZE}", Errno.EINVAL)
        offset = 0
        for i, reg in enumerate(REGISTERS):
            self.write(i, data[offset:offset + reg.size])
            offset += reg.size

    def _set(self, name: str, value: int) -> None:
        uc = self.uc
        if name in _MACHINE_NAMES:
            self.machine.set_reg(name, value)
        elif name == "eflags":
            self.machine.set_reg("rflags", value | 0x2)
        elif name.startswith("st"):
            uc.reg_write(_FP[(_top(uc) + int(name[2:])) & 7], (value & (2**64 - 1), value >> 64))
        elif name in _X87:
            uc.reg_write(_X87[name], value)
        elif name in _XMM:
            uc.reg_write(_XMM[name], value)
        elif name == "mxcsr":
            uc.reg_write(X.UC_X86_REG_MXCSR, value)
        elif name in _WRITABLE_TABLES:
            table, field = _TABLE_FIELDS[name]
            parts = list(self.machine.reg(table))
            parts[field] = value
            self.machine.set_reg(table, tuple(parts))
        else:
            raise TargetError(f"{name} is read-only here", Errno.EPERM)

    @staticmethod
    def _reg(regno: int):
        if not 0 <= regno < len(REGISTERS):
            raise TargetError(f"no register number {regno}", Errno.EINVAL)
        return REGISTERS[regno]
