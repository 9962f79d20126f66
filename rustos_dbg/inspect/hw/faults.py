"""Exception-log inspector (``faults``): the machine's delivery log, decoded.

Contract: ``decode_faults(entries)`` takes the machine's exception log
(``rustos_dbg.machine.delivery.LogEntry`` objects, or anything with the same
attributes: icount, vector, source, error_code, rip, cr2, old_rsp, new_rsp,
ist, handler, outcome, reason) and returns a :class:`FaultLog` of
:class:`FaultRecord` rows: vector name, source, the error code decoded (#PF:
P/W/U/RSVD/I with words; #TS/#NP/#SS/#GP: EXT/IDT/TI/selector index), CR2,
RIP and handler symbolized, the stack used (``IST n`` or ``same stack``) and
the outcome.  ``vectors``, ``include_external`` and ``last`` filter the rows
(timer interrupts are most of a log).  Views: ``format_faults``, ``to_json``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from .common import Symbolize, describe_pf_error, pf_error_flags, symbol_name, to_json, vector_name

__all__ = ["FaultRecord", "FaultLog", "decode_error_code", "decode_faults", "format_faults",
           "to_json", "SELECTOR_ERROR_VECTORS"]

#: Vectors whose error code is a selector index (SDM Vol. 3A §6.13).
SELECTOR_ERROR_VECTORS = frozenset({10, 11, 12, 13})


@dataclass(frozen=True)
class FaultRecord:
    """One delivery attempt from the log."""

    index: int                      #: position in the whole log
    icount: int
    vector: int
    vector_name: str
    source: str                     #: exception, software, external
    error_code: Optional[int]
    error_text: Optional[str]
    error_flags: tuple[tuple[str, bool], ...]   #: #PF flags (label, set)
    cr2: Optional[int]
    cr2_symbol: Optional[str]
    rip: int
    rip_symbol: Optional[str]
    stack: str                      #: ``IST 2``, ``same stack`` or ``-``
    old_rsp: int
    new_rsp: Optional[int]
    handler: Optional[int]
    handler_symbol: Optional[str]
    outcome: str                    #: delivered, faulted, shutdown
    reason: str = ""


@dataclass(frozen=True)
class FaultLog:
    """The selected rows and how many log entries there were."""

    records: tuple[FaultRecord, ...]
    total: int


def _name(value) -> str:
    return value.value if isinstance(value, enum.Enum) else str(value)


def decode_error_code(vector: int, code: Optional[int]) -> Optional[str]:
    """Words for an error code: #PF flags, or EXT/IDT/TI and the selector index."""
    if code is None:
        return None
    if vector == 14:
        return describe_pf_error(code)
    if vector in SELECTOR_ERROR_VECTORS:
        if code == 0:
            return "0 (no selector)"
        ext = " external" if code & 1 else ""
        index = (code >> 3) & 0x1FFF
        if code & 2:
            return f"IDT vector {index}{ext}"
        table = "LDT" if code & 4 else "GDT"
        return f"{table} selector {index << 3:#x} (index {index}){ext}"
    return f"{code:#x}"


def decode_faults(entries: Sequence, symbolize: Optional[Symbolize] = None,
                  vectors: Optional[Iterable[int]] = None, include_external: bool = True,
                  last: Optional[int] = None) -> FaultLog:
    """Decode the log; filter by ``vectors``, drop PIC interrupts unless
    ``include_external``, keep only the ``last`` rows."""
    wanted = set(vectors) if vectors is not None else None
    rows = []
    for i, e in enumerate(entries):
        source = _name(e.source)
        if wanted is not None and e.vector not in wanted:
            continue
        if not include_external and source == "external":
            continue
        rows.append((i, e, source))
    if last is not None:
        rows = rows[-last:] if last > 0 else []
    out = []
    for i, e, source in rows:
        flags = tuple(pf_error_flags(e.error_code).items()) if e.vector == 14 and \
            e.error_code is not None else ()
        stack = f"IST {e.ist}" if e.ist else ("same stack" if e.new_rsp is not None else "-")
        out.append(FaultRecord(
            index=i, icount=e.icount, vector=e.vector, vector_name=vector_name(e.vector),
            source=source, error_code=e.error_code,
            error_text=decode_error_code(e.vector, e.error_code), error_flags=flags,
            cr2=e.cr2, cr2_symbol=symbol_name(symbolize, e.cr2), rip=e.rip,
            rip_symbol=symbol_name(symbolize, e.rip), stack=stack, old_rsp=e.old_rsp,
            new_rsp=e.new_rsp, handler=e.handler, handler_symbol=symbol_name(symbolize, e.handler),
            outcome=_name(e.outcome), reason=getattr(e, "reason", "") or ""))
    return FaultLog(tuple(out), len(entries))


def format_faults(log: FaultLog) -> str:
    """Two or three lines per row: what, where, how it was delivered."""
    lines = [f"{len(log.records)} of {log.total} log entries"]
    for r in log.records:
        head = f"[{r.index}] icount {r.icount}: vector {r.vector} {r.vector_name} ({r.source})"
        if r.error_code is not None:
            head += f" error {r.error_code:#x}"
        lines.append(head)
        if r.error_text and r.error_code is not None:
            lines.append(f"      error code: {r.error_text}")
        where = f"      rip {r.rip:#x}" + (f" <{r.rip_symbol}>" if r.rip_symbol else "")
        if r.cr2 is not None:
            where += f"  cr2 {r.cr2:#x}" + (f" <{r.cr2_symbol}>" if r.cr2_symbol else "")
        lines.append(where)
        if r.outcome == "delivered":
            handler = f"{r.handler:#x}" + (f" <{r.handler_symbol}>" if r.handler_symbol else "")
            lines.append(f"      -> {handler} on {r.stack}, rsp {r.old_rsp:#x} -> {r.new_rsp:#x}")
        else:
            lines.append(f"      -> {r.outcome}: {r.reason}")
    return "\n".join(lines)
