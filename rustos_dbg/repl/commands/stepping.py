"""Stepping: stepi, step, next, finish, until and where.

``step N`` and ``next N`` run N source lines (by the DWARF line table), as
gdb does; ``step`` steps over calls into code without line information.
Where the current instruction has no line information (the boot entry, the
assembly trap stubs), ``step`` and ``next`` execute one instruction (``next``
over a call) and say so, instead of running until a line turns up. Every
command stays within the session's limits (:mod:`..runcontrol`).
"""

from __future__ import annotations

from ...machine.stops import StopKind
from ..expr import parse_address, parse_int
from ..registry import CommandError, command
from .control import report, run_machine

STEP_LIMIT = 1_000_000


def _count(args: str, name: str) -> int:
    count = parse_int(args) if args else 1
    if count < 1:
        raise CommandError(f"{name} needs a count of at least 1")
    return count


def _step_instruction(session):
    """One instruction, within the command's budget."""
    budget = session.budget
    if budget.spent():
        return budget.limit_stop()
    return session.machine.step()


@command("stepi", aliases=("si",), usage="stepi [N]", help="execute N instructions (default 1)", group="control")
def cmd_stepi(session, args):
    count = _count(args, "stepi")
    stop = None
    for _ in range(count):
        stop = _step_instruction(session)
        if stop.kind is not StopKind.STEP or session.interrupted.is_set():
            break
    session.last_stop = stop
    return report(session, stop)


def _location(session, rip):
    from ...dwarf.lines import line_table

    return line_table(session.machine.image).lookup(rip)


def _call_size(machine, rip) -> int:
    """The length of the call instruction at ``rip``, or 0."""
    from ...inspect.hw.dis import disassemble

    listing = disassemble(machine, rip, 1, rip=rip)
    insn = listing.instructions[0] if listing.instructions else None
    return insn.size if insn is not None and insn.mnemonic == "call" else 0


def _instruction(session, over: bool, call_size: int | None = None):
    """One instruction, or (``over``) a whole call; (stop, completed).
    ``call_size``: the call's length at rip, when the caller knows it already."""
    machine = session.machine
    rip, rsp = machine.reg("rip"), machine.reg("rsp")
    size = (_call_size(machine, rip) if call_size is None else call_size) if over else 0
    if size:
        stop = _finish_to(session, rip + size, rsp)
        return stop, stop.kind is StopKind.BREAKPOINT and stop.address == rip + size
    stop = _step_instruction(session)
    return stop, stop.kind is StopKind.STEP


def _step_line(session, over: bool):
    """Runs to the next source line; (stop, completed: False when something else stopped it)."""
    machine = session.machine
    start = _location(session, machine.reg("rip"))
    function = machine.symbols.containing(machine.reg("rip"))
    for _ in range(STEP_LIMIT):
        rip, rsp = machine.reg("rip"), machine.reg("rsp")
        size = _call_size(machine, rip)
        stop, done = _instruction(session, over, size)
        if not done or session.interrupted.is_set():
            return stop, False
        here = _location(session, machine.reg("rip"))
        if size and not over and here is None and machine.reg("rsp") == rsp - 8:
            # stepped into a function without line information: step over it, as gdb does
            stop = _finish_to(session, rip + size, rsp)
            if stop.kind is not StopKind.BREAKPOINT or stop.address != rip + size:
                return stop, False
            here = _location(session, machine.reg("rip"))
        if here is not None and (here != start or machine.symbols.containing(machine.reg("rip")) != function):
            return stop, True
    raise CommandError(f"no new source line after {STEP_LIMIT} instructions")


def _finish_to(session, return_address: int, rsp: int):
    """Runs until ``return_address`` is reached with the stack above ``rsp``."""
    machine = session.machine
    machine.breakpoints.add_temporary(return_address)
    try:
        while True:
            stop = run_machine(session)
            # Back at the return address with the stack no deeper than at the call
            # (a deeper hit is a recursive call returning there).
            if stop.kind is not StopKind.BREAKPOINT or stop.address != return_address or machine.reg("rsp") >= rsp:
                return stop
    finally:
        machine.breakpoints.remove_temporary(return_address)


def _lines(session, args, over: bool, name: str) -> str:
    count = _count(args, name)
    machine = session.machine
    notes = []
    stop = None
    for _ in range(count):
        if _location(session, machine.reg("rip")) is None:
            where = machine.symbolize(machine.reg("rip"))
            stop, done = _instruction(session, over)
            notes.append(f"no line information at {where}: executed one instruction"
                         + (" (stepping over the call)" if over and stop.kind is StopKind.BREAKPOINT else ""))
        else:
            stop, done = _step_line(session, over)
        if not done:
            break
    session.last_stop = stop
    return "\n".join(notes[-1:] + [report(session, stop)]) + _line_suffix(session)


@command("step", aliases=("s",), usage="step [N]", help="run N source lines (default 1), entering calls", group="control")
def cmd_step(session, args):
    return _lines(session, args, over=False, name="step")


@command("next", aliases=("n",), usage="next [N]", help="run N source lines (default 1), stepping over calls",
         group="control")
def cmd_next(session, args):
    return _lines(session, args, over=True, name="next")


def _line_suffix(session) -> str:
    loc = _location(session, session.machine.reg("rip"))
    return f"\n{loc}" if loc else ""


@command("finish", usage="finish", help="run until the current function returns", group="control")
def cmd_finish(session, args):
    from ...inspect.hw.bt import backtrace

    machine = session.machine
    trace = backtrace(machine, symbols=machine.symbols, symbolize=machine.symbolize, max_depth=2)
    if len(trace.frames) < 2:
        raise CommandError("no caller frame to return to")
    caller = trace.frames[1]
    stop = _finish_to(session, caller.pc, machine.reg("rsp"))
    session.last_stop = stop
    return f"run till exit from {trace.frames[0].symbol}\n" + report(session, stop)


@command("until", aliases=("u",), usage="until [LOCATION]",
         help="run until an address or symbol is reached (no argument: next)", group="control")
def cmd_until(session, args):
    if not args:
        return cmd_next(session, args)
    return report(session, run_machine(session, until=parse_address(args, session.machine)))


@command("where", usage="where", help="the current location and instruction", group="control", moves=False)
def cmd_where(session, args):
    from ..report import instruction_at
    from ..selection import SelectedReader

    machine = SelectedReader(session.machine, None)    # the CPU, with the running program's symbols
    text = instruction_at(machine, machine.reg("rip")) + f"  (after {machine.icount} instructions)"
    return text + _line_suffix(session)
