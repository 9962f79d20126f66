"""Bisection: the first instruction of the recorded history at which an invariant fails.

Contract: :func:`bisect` (machine, name, move=True) needs a history
(``Machine.goto``), the check failing now and passing at the beginning of
the history; it binary-searches the instruction counts between them with
``goto`` (so it assumes that once failing, the check stays failing: it finds
*a* pass -> fail edge, the first one when that holds) and returns a frozen
:class:`BisectReport`: the instruction (``icount`` N, the N-th instruction,
after which the check first fails, with its rip, symbol and source line), the
problem, the write that broke it when the check names the corrupted word
(``History.last_write`` of it: address, old -> new) and the backtrace at that
instruction. The machine is left at icount N (``move=False``: back where it
was). Views: :func:`format_bisect` (opens ``bisect NAME:``) and ``to_json``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...machine.errors import RustosDbgError
from ..hw import bt
from . import names_of, run_check
from .model import CheckResult, format_result


class BisectError(RustosDbgError):
    """A bisection that cannot be done (no history, the check passes now, ...)."""


@dataclass(frozen=True)
class BrokenWrite:
    """The last write to the word a failing check names."""

    address: int
    size: int
    icount: int
    rip: int
    symbol: str
    old: int
    new: int


@dataclass(frozen=True)
class BisectReport:
    """Where a check first failed."""

    name: str
    icount: int                      #: the instruction after which the check first fails
    rip: int                         #: that instruction's address
    symbol: str
    line: str | None
    passed_at: int                   #: icount - 1: the state before it, where the check passes
    probes: int                      #: checks run
    result: CheckResult              #: the check at ``icount``
    write: BrokenWrite | None
    backtrace: bt.Backtrace          #: at the instruction (before it executes)


def _fails(machine, name: str) -> bool:
    return not run_check(machine, name).ok


def bisect(machine, name: str, move: bool = True) -> BisectReport:
    """See the module."""
    name = names_of([name])[0]
    history = machine.history
    if not history.enabled:
        raise BisectError("bisect needs the recorded history (not --fast): Machine.boot(..., history=True)")
    now = machine.icount
    if not _fails(machine, name):
        raise BisectError(f"{name} passes here (instruction {now}): nothing to bisect")
    lo, hi, probes = history.start, now, 1
    try:
        machine.goto(lo)
        probes += 1
        if _fails(machine, name):
            raise BisectError(f"{name} fails already at the beginning of the history (instruction {lo})")
        while hi - lo > 1:
            mid = (lo + hi) // 2
            machine.goto(mid)
            probes += 1
            if _fails(machine, name):
                hi = mid
            else:
                lo = mid
        machine.goto(lo)
        rip = machine.reg("rip")
        trace = bt.backtrace(machine, symbols=machine.symbols, symbolize=machine.symbolize)
        machine.goto(hi)
        result = run_check(machine, name)
        write = _broken_write(machine, result, hi)
    finally:
        if not move:
            machine.goto(now)
    return BisectReport(name, hi, rip, machine.symbolize(rip), machine.source_line(rip), lo, probes, result,
                        write, trace)


def _broken_write(machine, result: CheckResult, icount: int) -> BrokenWrite | None:
    if result.culprit is None:
        return None
    address, size = result.culprit
    try:
        w = machine.last_write(address, size)
    except RustosDbgError:
        return None
    if w is None or w.icount != icount:
        return None
    return BrokenWrite(address, size, w.icount, w.rip, w.symbol, int.from_bytes(w.old, "little"),
                       int.from_bytes(w.new, "little"))


def format_bisect(report: BisectReport) -> str:
    """The report: ``bisect NAME: first fails at icount N``, the instruction, the write, the backtrace."""
    lines = [f"bisect {report.name}: first fails at icount {report.icount} (passes at {report.passed_at}; "
             f"{report.probes} checks)",
             f"  instruction: {report.rip:#x} <{report.symbol}>" + (f" at {report.line}" if report.line else ""),
             f"  {format_result(report.result)}"]
    w = report.write
    if w is not None:
        lines.append(f"  the write: {w.size} bytes at {w.address:#x}: {w.old:#x} -> {w.new:#x}")
    else:
        lines.append("  the write: not identified (the check names no corrupted word, or another instruction wrote it)")
    lines.append("  backtrace at the instruction:")
    lines += ["    " + line for line in bt.format_backtrace(report.backtrace).splitlines()]
    return "\n".join(lines)
