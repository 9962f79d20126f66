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

This is the one model and view of a delivery: ``decode_entry`` and
``format_record`` also render the deliveries of a stop (``format_deliveries``)
for the REPL's stop report, the CLI's triple-fault chain and the notes gdb
gets, so every place shows a delivery the same way.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from .common import Symbolize, describe_pf_error, pf_error_flags, symbol_name, to_json, vector_name

__all__ = ["FaultRecord", "FaultLog", "decode_error_code", "decode_entry", "decode_faults", "format_record",
           "format_faults", "format_deliveries", "to_json", "SELECTOR_ERROR_VECTORS"]

#: Vectors whose error code is a selector index (SDM Vol. 3A §6.13).
SELECTOR_ERROR_VECTORS = frozenset({10, 11, 12, 13})


@dataclass(frozen=True)
class FaultRecord:
    """One delivery attempt from the log."""

    index: Optional[int]            #: position in the whole log (None: not known)
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
    #: Older entries no longer held in full: sorted (vector, count) pairs.
    folded: tuple[tuple[int, int], ...] = ()


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


def decode_entry(e, index: Optional[int] = None, symbolize: Optional[Symbolize] = None) -> FaultRecord:
    """One log entry decoded (``index``: its position in the log, if known)."""
    source = _name(e.source)
    flags = tuple(pf_error_flags(e.error_code).items()) if e.vector == 14 and e.error_code is not None else ()
    stack = f"IST {e.ist}" if e.ist else ("same stack" if e.new_rsp is not None else "-")
    return FaultRecord(
        index=index, icount=e.icount, vector=e.vector, vector_name=vector_name(e.vector),
        source=source, error_code=e.error_code,
        error_text=decode_error_code(e.vector, e.error_code), error_flags=flags,
        cr2=e.cr2, cr2_symbol=symbol_name(symbolize, e.cr2), rip=e.rip,
        rip_symbol=symbol_name(symbolize, e.rip), stack=stack, old_rsp=e.old_rsp,
        new_rsp=e.new_rsp, handler=e.handler, handler_symbol=symbol_name(symbolize, e.handler),
        outcome=_name(e.outcome), reason=getattr(e, "reason", "") or "")


def decode_faults(entries: Sequence, symbolize: Optional[Symbolize] = None,
                  vectors: Optional[Iterable[int]] = None, include_external: bool = True,
                  last: Optional[int] = None) -> FaultLog:
    """Decode the log; filter by ``vectors``, drop PIC interrupts unless
    ``include_external``, keep only the ``last`` rows."""
    wanted = set(vectors) if vectors is not None else None
    rows = []
    # A bounded log (rustos_dbg.machine.exlog) holds its recent entries from
    # position ``first`` on and counts the older ones per vector.
    folded = tuple(sorted(getattr(entries, "folded", {}).items()))
    for i, e in enumerate(entries, start=getattr(entries, "first", 0)):
        if wanted is not None and e.vector not in wanted:
            continue
        if not include_external and _name(e.source) == "external":
            continue
        rows.append((i, e))
    if last is not None:
        rows = rows[-last:] if last > 0 else []
    return FaultLog(tuple(decode_entry(e, i, symbolize) for i, e in rows), len(entries), folded)


def format_record(r: FaultRecord) -> list[str]:
    """The lines of one delivery: what, where, how it was delivered (or why not)."""
    head = f"vector {r.vector} {r.vector_name} ({r.source})"
    if r.index is not None:
        head = f"[{r.index}] icount {r.icount}: {head}"
    if r.error_code is not None:
        head += f" error {r.error_code:#x}"
    lines = [head]
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
    return lines


def format_deliveries(entries: Sequence, log: Sequence = (), symbolize: Optional[Symbolize] = None,
                      indent: str = "  ") -> str:
    """The deliveries of a stop (its chain), each as in the ``faults`` log, found in
    ``log`` (the machine's exception log) for their positions."""
    lines = []
    for e in entries:
        index = _position(log, e)
        lines.extend(indent + line for line in format_record(decode_entry(e, index, symbolize)))
    return "\n".join(lines)


def _position(log: Sequence, entry, window: int = 256) -> Optional[int]:
    """Position of ``entry`` in ``log``, searched from the end (a stop's deliveries are recent)."""
    for i in range(len(log) - 1, max(len(log) - window, getattr(log, "first", 0)) - 1, -1):
        if log[i] is entry:
            return i
    return None


def format_faults(log: FaultLog) -> str:
    """Two or three lines per row: what, where, how it was delivered."""
    lines = [f"{len(log.records)} of {log.total} log entries"]
    if log.folded:
        counts = ", ".join(f"{vector_name(v)} x{n}" for v, n in log.folded)
        lines.append(f"older entries, counted only: {counts}")
    for r in log.records:
        lines.extend(format_record(r))
    return "\n".join(lines)
