"""Register inspectors: ``regs`` (general-purpose) and ``sregs`` (segments, tables, bases).

Contract: ``read_regs(reader)`` gives :class:`GeneralRegisters` (rax..r15,
rip, rflags, each value symbolized when it names a kernel symbol, plus the
set RFLAGS flags).  ``read_sregs(reader)`` gives :class:`SegmentRegisters`:
CS..GS selectors split into index/TI/RPL with a descriptor - the CPU's
hidden cache when the caller passes ``caches`` (``name -> (selector, base,
limit, flags)``; Unicorn exposes none for CS..GS), otherwise the GDT entry
the selector indexes (``source="gdt"``); GDTR/IDTR (base, limit); TR and
LDTR from the reader's ``(selector, base, limit, flags)`` tuples, whose
``flags`` are the descriptor's attribute dword (bits 8-23 as in the
descriptor's high dword) and are decoded; FS/GS base and KERNEL_GS_BASE.
Registers the reader lacks are skipped or ``None``.  Views: ``format_regs``,
``format_sregs``, ``to_json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

from ...structs.bitfields import bit_fields, field_value
from ...structs.control import RFLAGS, RFLAGS_FIELD_NAMES
from .common import Symbolize, symbol_name, to_json
from .gdt import GdtDescriptor, decode_descriptor, describe_selector, read_gdt

__all__ = ["GPR_NAMES", "RegisterValue", "GeneralRegisters", "read_regs", "format_regs",
           "SegmentRegister", "TableRegister", "DescriptorCache", "SegmentRegisters",
           "decode_cache", "read_sregs", "format_sregs", "to_json"]

GPR_NAMES = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10",
             "r11", "r12", "r13", "r14", "r15", "rip", "rflags")


@dataclass(frozen=True)
class RegisterValue:
    """A named register value with its symbol, if any."""

    name: str
    value: int
    symbol: Optional[str] = None


@dataclass(frozen=True)
class GeneralRegisters:
    """General-purpose registers, RIP and RFLAGS."""

    registers: tuple[RegisterValue, ...]
    rflags_set: tuple[str, ...]       #: ``IF``, ``ZF``..., plus ``IOPL=n`` when non-zero

    def __getitem__(self, name: str) -> int:
        for r in self.registers:
            if r.name == name:
                return r.value
        raise KeyError(name)


def _rflags_set(value: int) -> tuple[str, ...]:
    out = []
    for name, bf in bit_fields(RFLAGS).items():
        label = RFLAGS_FIELD_NAMES.get(name)
        v = field_value(RFLAGS, name, value)
        if label and v:
            out.append(label if bf.width == 1 else f"{label}={v}")
    return tuple(out)


def read_regs(reader, symbolize: Optional[Symbolize] = None) -> GeneralRegisters:
    """The general registers of the reader (missing ones skipped)."""
    regs = []
    for name in GPR_NAMES:
        try:
            value = reader.reg(name)
        except KeyError:
            continue
        sym = None if name == "rflags" else symbol_name(symbolize, value)
        regs.append(RegisterValue(name, value, sym))
    rflags = next((r.value for r in regs if r.name == "rflags"), 0)
    return GeneralRegisters(tuple(regs), _rflags_set(rflags))


def format_regs(g: GeneralRegisters) -> str:
    """Two registers per line (symbols appended), RFLAGS with its set flags."""
    lines, row = [], []
    for r in g.registers:
        if r.name in ("rip", "rflags"):
            continue
        cell = f"{r.name:<3} {r.value:#018x}" + (f" <{r.symbol}>" if r.symbol else "")
        row.append(cell)
        if len(row) == 2:
            lines.append("   ".join(f"{c:<40}" for c in row).rstrip())
            row = []
    if row:
        lines.append(row[0])
    for r in g.registers:
        if r.name == "rip":
            lines.append(f"rip {r.value:#018x}" + (f" <{r.symbol}>" if r.symbol else ""))
        elif r.name == "rflags":
            lines.append(f"rflags {r.value:#x} [{' '.join(g.rflags_set)}]")
    return "\n".join(lines)


@dataclass(frozen=True)
class DescriptorCache:
    """A hidden descriptor cache: base, limit and the decoded attribute dword."""

    base: int
    limit: int
    flags: int
    type: int
    s: bool
    dpl: int
    present: bool
    l: bool
    db: bool
    g: bool
    type_name: str


@dataclass(frozen=True)
class SegmentRegister:
    """A segment register: selector parts and the descriptor behind it."""

    name: str
    selector: int
    index: int
    ti: int
    rpl: int
    source: str                          #: ``cpu`` (hidden cache), ``gdt``, ``none``
    cache: Optional[DescriptorCache] = None
    descriptor: Optional[GdtDescriptor] = None


@dataclass(frozen=True)
class TableRegister:
    """GDTR or IDTR."""

    name: str
    base: int
    limit: int


@dataclass(frozen=True)
class SegmentRegisters:
    """Everything ``sregs`` shows."""

    segments: tuple[SegmentRegister, ...]     #: cs, ss, ds, es, fs, gs, tr, ldtr
    tables: tuple[TableRegister, ...]         #: gdtr, idtr
    fs_base: Optional[int] = None
    gs_base: Optional[int] = None
    kernel_gs_base: Optional[int] = None


def decode_cache(selector: int, base: int, limit: int, flags: int) -> DescriptorCache:
    """Decode a ``(selector, base, limit, flags)`` cache (flags = attribute dword)."""
    d = decode_descriptor(selector >> 3 or 1, (flags & 0xFFFFFFFF) << 32 | 0xFFFF)
    return DescriptorCache(base, limit, flags, d.type, d.s, d.dpl, d.present, d.l, d.db, d.g,
                           d.type_name if flags else "unusable / null")


def read_sregs(reader, caches: Optional[Mapping[str, tuple]] = None, gdt=None) -> SegmentRegisters:
    """Segment state of the reader; ``gdt`` (a :class:`~.gdt.Gdt`) avoids re-reading it."""
    caches = dict(caches or {})
    if gdt is None:
        try:
            gdt = read_gdt(reader)
        except Exception:
            gdt = None
    segs = []
    for name in ("cs", "ss", "ds", "es", "fs", "gs", "tr", "ldtr"):
        try:
            value = reader.reg(name)
        except KeyError:
            continue
        if isinstance(value, tuple):        # tr/ldtr: the CPU's cache
            caches.setdefault(name, value)
            value = value[0]
        parts = describe_selector(value)
        cache = decode_cache(*caches[name]) if name in caches else None
        desc = gdt.by_selector(value) if gdt is not None and not parts["ti"] and value >> 3 else None
        source = "cpu" if cache is not None else "gdt" if desc is not None else "none"
        segs.append(SegmentRegister(name, value, parts["index"], parts["ti"], parts["rpl"],
                                    source, cache, desc))
    tables = []
    for name in ("gdtr", "idtr"):
        try:
            _, base, limit, _ = reader.reg(name)
        except KeyError:
            continue
        tables.append(TableRegister(name, base, limit))

    def opt(name: str) -> Optional[int]:
        try:
            return reader.reg(name)
        except KeyError:
            return None

    return SegmentRegisters(tuple(segs), tuple(tables), opt("fs_base"), opt("gs_base"),
                            opt("k_gs_base"))


def format_sregs(s: SegmentRegisters) -> str:
    """One line per segment register with its descriptor, then GDTR/IDTR and the bases."""
    lines = []
    for r in s.segments:
        head = f"{r.name:<4} {r.selector:#06x} (index {r.index} {'LDT' if r.ti else 'GDT'} rpl {r.rpl})"
        if r.cache is not None:
            c = r.cache
            flags = " ".join(n for n, v in (("P", c.present), ("L", c.l), ("D", c.db), ("G", c.g)) if v)
            lines.append(f"{head}  cache: base {c.base:#x} limit {c.limit:#x} {c.type_name} "
                         f"DPL{c.dpl} {flags}".rstrip())
        elif r.descriptor is not None:
            d = r.descriptor
            lines.append(f"{head}  gdt: base {d.base:#x} limit {d.limit_bytes:#x} {d.type_name} {d.flags}")
        else:
            lines.append(f"{head}  null")
    for t in s.tables:
        lines.append(f"{t.name:<4} base {t.base:#x} limit {t.limit:#x}")
    for name in ("fs_base", "gs_base", "kernel_gs_base"):
        value = getattr(s, name)
        if value is not None:
            lines.append(f"{name:<14} {value:#x}")
    return "\n".join(lines)
