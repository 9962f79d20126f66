"""GDT inspector: every descriptor of the table GDTR points at.

Contract: ``read_gdt(reader)`` reads GDTR and TR (``(selector, base, limit,
flags)`` tuples) and decodes each 8-byte slot inside the limit into a
:class:`GdtDescriptor`: code/data descriptors (S=1) with base, limit, type,
DPL, L, D/B, G, P; system descriptors (S=0: 64-bit TSS, LDT, call gate)
take two slots and are decoded as one 16-byte descriptor with the 64-bit
base.  The slot TR's selector indexes is marked ``is_tr``.
``decode_descriptor`` works on raw values; ``describe_selector`` splits a
selector.  Layouts: ``rustos_dbg.structs.segments`` (Intel SDM Vol. 3A
§3.4.5, §7.2.3).  An unreadable table raises ``GuestMemoryError``.  Views:
``format_gdt``, ``format_descriptor``, ``to_json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ...structs.bitfields import field_value
from ...structs.segments import (SYSTEM_TYPE_NAMES, SegmentDescriptor, SegmentSelector,
                                 SystemSegmentDescriptor, SystemType)
from .common import to_json

__all__ = ["GdtDescriptor", "Gdt", "decode_descriptor", "read_gdt", "describe_selector",
           "format_descriptor", "format_gdt", "to_json"]

_SYSTEM_16 = {SystemType.LDT, SystemType.TSS_AVAILABLE, SystemType.TSS_BUSY,
              SystemType.CALL_GATE}


@dataclass(frozen=True)
class GdtDescriptor:
    """One descriptor (8 bytes, or 16 for a system descriptor)."""

    index: int
    selector: int               #: index * 8 (RPL 0, TI 0)
    raw: int                    #: the 64- or 128-bit value
    size: int                   #: 8 or 16
    kind: str                   #: null, code, data, tss, ldt, call-gate, system
    type: int                   #: the 4-bit type field
    type_name: str              #: e.g. ``code execute/read accessed``, ``64-bit TSS (busy)``
    base: int
    limit: int                  #: raw 20-bit limit field
    limit_bytes: int            #: offset of the last byte (G applied)
    present: bool
    dpl: int
    s: bool                     #: 1 = code/data, 0 = system
    l: bool                     #: 64-bit code segment
    db: bool                    #: default operation size / big
    g: bool                     #: granularity: limit in 4 KiB units
    avl: bool
    is_tr: bool = False         #: TR holds this descriptor's selector

    @property
    def flags(self) -> str:
        """Compact attribute string, e.g. ``P DPL0 L``."""
        parts = (["P"] if self.present else ["-"]) + [f"DPL{self.dpl}"]
        parts += [n for n, v in (("L", self.l), ("D", self.db), ("G", self.g), ("AVL", self.avl)) if v]
        return " ".join(parts)


@dataclass(frozen=True)
class Gdt:
    """The GDT as GDTR describes it."""

    base: int
    limit: int
    tr_selector: Optional[int]
    descriptors: tuple[GdtDescriptor, ...]

    def by_selector(self, selector: int) -> Optional[GdtDescriptor]:
        """The descriptor a (GDT) selector refers to."""
        index = selector >> 3
        for d in self.descriptors:
            if d.index == index:
                return d
        return None


def describe_selector(selector: int) -> dict[str, int]:
    """``{"index", "ti", "rpl"}`` of a segment selector (SDM Vol. 3A §3.4.2)."""
    return {name: field_value(SegmentSelector, name, selector & 0xFFFF)
            for name in ("index", "ti", "rpl")}


def _code_data_type(raw: int) -> tuple[str, str]:
    def f(name: str) -> int:
        return field_value(SegmentDescriptor, name, raw)

    if f("executable"):
        kind = "code"
        words = ["execute/read" if f("rw") else "execute-only"]
        if f("dc"):
            words.append("conforming")
        if f("l"):
            words.insert(0, "64-bit")
    else:
        kind = "data"
        words = ["read/write" if f("rw") else "read-only"]
        if f("dc"):
            words.append("expand-down")
    if f("accessed"):
        words.append("accessed")
    return kind, f"{kind} " + " ".join(words)


def decode_descriptor(index: int, low: int, high: Optional[int] = None,
                      tr_selector: Optional[int] = None) -> GdtDescriptor:
    """Decode slot ``index`` holding ``low`` (and ``high``, the next slot, used
    when ``low`` is a 16-byte system descriptor)."""
    L = SegmentDescriptor

    def f(name: str, raw: int = low, layout=L) -> int:
        return field_value(layout, name, raw)

    limit = (f("limit_19_16") << 16) | f("limit_15_0")
    g = bool(f("g"))
    base = (f("base_31_24") << 24) | (f("base_23_16") << 16) | f("base_15_0")
    type_ = (low >> 40) & 0xF
    s = bool(f("s"))
    size, raw = 8, low
    if index == 0 or low == 0:
        kind, type_name = ("null", "null descriptor") if index == 0 else ("empty", "unused")
    elif s:
        kind, type_name = _code_data_type(low)
    else:
        try:
            stype = SystemType(type_)
        except ValueError:
            stype = None
        type_name = SYSTEM_TYPE_NAMES.get(stype, f"system type {type_:#x}")
        kind = {SystemType.LDT: "ldt", SystemType.TSS_AVAILABLE: "tss",
                SystemType.TSS_BUSY: "tss", SystemType.CALL_GATE: "call-gate"}.get(stype, "system")
        if stype in _SYSTEM_16 and high is not None:
            size, raw = 16, low | (high << 64)
            base |= field_value(SystemSegmentDescriptor, "base_63_32", raw) << 32
    is_tr = tr_selector is not None and (tr_selector >> 3) == index and index != 0
    return GdtDescriptor(index=index, selector=index << 3, raw=raw, size=size, kind=kind,
                         type=type_, type_name=type_name, base=base, limit=limit,
                         limit_bytes=(limit << 12) | 0xFFF if g else limit,
                         present=bool(f("p")), dpl=f("dpl"), s=s, l=bool(f("l")),
                         db=bool(f("db")), g=g, avl=bool(f("avl")), is_tr=is_tr)


def read_gdt(reader, base: Optional[int] = None, limit: Optional[int] = None,
             tr_selector: Optional[int] = None) -> Gdt:
    """Decode every descriptor inside GDTR's limit (``base``/``limit`` override GDTR)."""
    if base is None or limit is None:
        _, reg_base, reg_limit, _ = reader.reg("gdtr")
        base = reg_base if base is None else base
        limit = reg_limit if limit is None else limit
    if tr_selector is None:
        try:
            tr_selector = reader.reg("tr")[0]
        except (KeyError, TypeError, IndexError):
            tr_selector = None
    count = min(8192, (limit + 1) // 8)
    blob = reader.read_virtual(base, count * 8) if count else b""
    slots = [int.from_bytes(blob[8 * i:8 * i + 8], "little") for i in range(count)]
    out, i = [], 0
    while i < count:
        high = slots[i + 1] if i + 1 < count else None
        d = decode_descriptor(i, slots[i], high, tr_selector)
        out.append(d)
        i += d.size // 8
    return Gdt(base, limit, tr_selector, tuple(out))


def format_descriptor(d: GdtDescriptor) -> str:
    """One line: selector, raw value, kind, base, limit, type, flags, TR mark."""
    mark = "  <- TR" if d.is_tr else ""
    raw = f"{d.raw:#034x}" if d.size == 16 else f"{d.raw:#018x}"
    if d.kind in ("null", "empty"):
        return f"[{d.index}] {d.selector:#06x} {raw} {d.type_name}"
    return (f"[{d.index}] {d.selector:#06x} {raw} {d.type_name}: base {d.base:#x} "
            f"limit {d.limit_bytes:#x} {d.flags}{mark}")


def format_gdt(gdt: Gdt) -> str:
    """Header (GDTR, TR) plus one line per descriptor."""
    tr = f", TR {gdt.tr_selector:#06x}" if gdt.tr_selector is not None else ""
    lines = [f"GDT at {gdt.base:#x} limit {gdt.limit:#x}{tr}"]
    return "\n".join(lines + [format_descriptor(d) for d in gdt.descriptors])
