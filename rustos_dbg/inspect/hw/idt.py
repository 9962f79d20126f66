"""IDT inspector: the 64-bit interrupt descriptor table that IDTR points at.

Contract: ``read_idt(reader)`` reads IDTR ``(selector, base, limit, flags)``
and decodes every 16-byte gate inside the limit (or one ``vector``) into an
:class:`IdtEntry`: present, type (interrupt/trap/invalid), DPL, IST,
selector, handler address and its symbol, and the vector's name (exceptions
0-31, PIC IRQs 32-47).  ``decode_gate`` does the same for 16 raw bytes.  An
unreadable table raises ``GuestMemoryError``.  Bit positions come from
``rustos_dbg.structs.idt.IdtGate`` (Intel SDM Vol. 3A §6.14.1).  Views:
``format_idt`` / ``format_entry`` (text), ``to_json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ...structs.bitfields import field_value
from ...structs.idt import IDT_GATE_SIZE, IdtGate
from ...structs.segments import SystemType
from .common import Symbolize, symbol_name, to_json, vector_name

__all__ = ["IdtEntry", "Idt", "decode_gate", "read_idt", "format_entry", "format_idt",
           "to_json", "GATE_TYPE_NAMES"]

#: Short names of the gate types valid in a 64-bit IDT.
GATE_TYPE_NAMES = {SystemType.INTERRUPT_GATE: "interrupt", SystemType.TRAP_GATE: "trap"}


@dataclass(frozen=True)
class IdtEntry:
    """One decoded IDT gate."""

    vector: int
    raw: int                      #: the 128-bit gate value
    present: bool
    gate_type: int                #: type field (0xE interrupt, 0xF trap)
    type_name: str                #: ``interrupt``, ``trap`` or ``invalid (0x..)``
    dpl: int
    ist: int                      #: 0 = no IST stack switch
    selector: int
    handler: int
    handler_symbol: Optional[str]
    vector_name: str              #: ``#PF page fault``, ``IRQ1 keyboard (8042)``...

    @property
    def valid(self) -> bool:
        """True for an interrupt or trap gate (anything else raises #GP when used)."""
        return self.gate_type in GATE_TYPE_NAMES


@dataclass(frozen=True)
class Idt:
    """The IDT as IDTR describes it."""

    base: int
    limit: int
    entries: tuple[IdtEntry, ...]

    @property
    def capacity(self) -> int:
        """Number of gates that fit inside the limit."""
        return (self.limit + 1) // IDT_GATE_SIZE

    def entry(self, vector: int) -> Optional[IdtEntry]:
        """The entry for ``vector``, if it was read."""
        for e in self.entries:
            if e.vector == vector:
                return e
        return None


def decode_gate(vector: int, data: bytes, symbolize: Optional[Symbolize] = None) -> IdtEntry:
    """Decode the 16 bytes of gate ``vector``."""
    if len(data) != IDT_GATE_SIZE:
        raise ValueError(f"an IDT gate is {IDT_GATE_SIZE} bytes, not {len(data)}")
    raw = int.from_bytes(data, "little")

    def f(name: str) -> int:
        return field_value(IdtGate, name, raw)

    handler = (f("offset_63_32") << 32) | (f("offset_31_16") << 16) | f("offset_15_0")
    gate_type = f("type")
    try:
        type_name = GATE_TYPE_NAMES[SystemType(gate_type)]
    except (ValueError, KeyError):
        type_name = f"invalid ({gate_type:#x})"
    present = bool(f("p"))
    return IdtEntry(vector=vector, raw=raw, present=present, gate_type=gate_type,
                    type_name=type_name, dpl=f("dpl"), ist=f("ist"), selector=f("selector"),
                    handler=handler,
                    handler_symbol=symbol_name(symbolize, handler) if present or handler else None,
                    vector_name=vector_name(vector))


def read_idt(reader, vector: Optional[int] = None, symbolize: Optional[Symbolize] = None,
             base: Optional[int] = None, limit: Optional[int] = None) -> Idt:
    """Decode the IDT (all gates inside IDTR's limit, or only ``vector``).

    ``base``/``limit`` override IDTR (e.g. to look at a table not loaded yet).
    """
    if base is None or limit is None:
        _, reg_base, reg_limit, _ = reader.reg("idtr")
        base = reg_base if base is None else base
        limit = reg_limit if limit is None else limit
    count = min(256, (limit + 1) // IDT_GATE_SIZE)
    if vector is not None:
        if not 0 <= vector < 256:
            raise ValueError(f"vector {vector} is not in 0-255")
        vectors = [vector] if vector < count else []
    else:
        vectors = list(range(count))
    entries = []
    if vectors:
        first = vectors[0]
        blob = reader.read_virtual(base + first * IDT_GATE_SIZE, len(vectors) * IDT_GATE_SIZE)
        for i, v in enumerate(vectors):
            entries.append(decode_gate(v, blob[i * IDT_GATE_SIZE:(i + 1) * IDT_GATE_SIZE],
                                       symbolize))
    return Idt(base, limit, tuple(entries))


def format_entry(e: IdtEntry) -> str:
    """One line: vector, name, P, type, DPL, IST, selector, handler and symbol."""
    if not e.present and e.raw == 0:
        return f"{e.vector:3d} {e.vector_name:<28} empty"
    sym = f" <{e.handler_symbol}>" if e.handler_symbol else ""
    flags = "P" if e.present else "-"
    return (f"{e.vector:3d} {e.vector_name:<28} {flags} {e.type_name:<9} dpl {e.dpl} "
            f"ist {e.ist} sel {e.selector:#06x} {e.handler:#018x}{sym}")


def format_idt(idt: Idt, only_present: bool = False) -> str:
    """Header (IDTR) plus one line per entry; ``only_present`` hides not-present gates."""
    lines = [f"IDT at {idt.base:#x} limit {idt.limit:#x} ({idt.capacity} gates)"]
    lines += [format_entry(e) for e in idt.entries if e.present or not only_present]
    return "\n".join(lines)
