"""Time travel in the REPL: reverse-stepi, reverse-continue, reverse-finish,
reverse-next, goto, when, last, checkpoint, restart (``info checkpoints`` is
:func:`checkpoints_view`, shown by ``info``).

Contract: every command works on the machine's recorded history
(:mod:`rustos_dbg.machine.history`; ``rustos-dbg debug`` records it unless
``--fast``); without one, each says so in one line and leaves the machine as it
is. Commands that move the machine (the reverse ones, ``goto``, ``restart``)
report their stop with the ordinary stop report; ``when``, ``last`` and ``info
checkpoints`` only look. Explicit checkpoints (``checkpoint``) are the
session's, numbered from 1; ``run`` reboots and drops them with the history.
While the machine is behind the end of its history, the prompt shows
``@NOW/END`` (:func:`history_mark`) and input to the guest is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...machine.state import MachineState
from ...machine.stops import Stop, StopKind
from ..expr import parse_address, parse_int
from ..registry import CommandError, command
from .control import report
from .stepping import _count, _location

#: How many writes ``last --all`` shows.
LAST_ALL = 10


@dataclass(frozen=True)
class Checkpoint:
    """An explicit snapshot taken with ``checkpoint``."""

    id: int
    name: str
    state: MachineState
    where: str  #: ``symbol+off`` of rip when it was taken


def _history(session, name: str):
    """The machine's history; a one-line error when none is recorded."""
    history = session.machine.history
    if not history.enabled:
        raise CommandError(f"{name}: no history is recorded "
                           "(rustos-dbg debug records it, except with --fast)")
    return history


def history_mark(machine) -> str:
    """``@NOW/END`` while the machine is in the past of its history, else ``""``."""
    history = machine.history
    if history.enabled and machine.icount < history.end:
        return f"@{machine.icount}/{history.end}"
    return ""


def _moved(session, stop, head: str = "") -> str:
    session.last_stop = stop
    text = report(session, stop)
    loc = _location(session, session.machine.reg("rip"))
    end = session.machine.history.end
    tail = "" if not history_mark(session.machine) or f" of {end}" in text else \
        f"\n(in the past: instruction {session.machine.icount} of {end})"
    return (head + "\n" if head else "") + text + (f"\n{loc}" if loc else "") + tail


@command("reverse-stepi", aliases=("rsi",), usage="reverse-stepi [N]",
         help="go back N instructions (default 1) in the recorded history", group="control")
def cmd_reverse_stepi(session, args):
    count = _count(args, "reverse-stepi")
    _history(session, "reverse-stepi")
    return _moved(session, session.machine.reverse_step(count))


@command("reverse-continue", aliases=("rc",), usage="reverse-continue",
         help="go back to the latest earlier breakpoint, watchpoint or caught exception (or the beginning)",
         group="control")
def cmd_reverse_continue(session, args):
    if args:
        raise CommandError("usage: reverse-continue")
    _history(session, "reverse-continue")
    return _moved(session, session.machine.reverse_continue())


def _back_to_entry(session, entry: int, rsp: int, return_address: int):
    """Reverse-continues to the entry of the current call of the function at
    ``entry`` (the stack at ``rsp`` or above, holding ``return_address``); the
    stop, and whether it is that entry."""
    machine = session.machine
    if machine.reg("rip") == entry:
        return None, True
    machine.breakpoints.add_temporary(entry)
    try:
        while True:
            stop = machine.reverse_continue()
            if stop.kind is not StopKind.BREAKPOINT or stop.address != entry:
                return stop, False
            at = machine.reg("rsp")
            if at >= rsp and int.from_bytes(machine.read_virtual(at, 8), "little") == return_address:
                return stop, True
    finally:
        machine.breakpoints.remove_temporary(entry)


def _function(session, name: str):
    machine = session.machine
    rip = machine.reg("rip")
    symbol = machine.symbols.containing(rip)
    if symbol is None:
        raise CommandError(f"{name}: no function holds {rip:#x}")
    return symbol


def _return_address(session, name: str) -> int:
    from ...inspect.hw.bt import backtrace

    machine = session.machine
    trace = backtrace(machine, symbols=machine.symbols, symbolize=machine.symbolize, max_depth=2)
    if len(trace.frames) < 2:
        raise CommandError(f"{name}: no caller frame to go back to")
    return trace.frames[1].pc


@command("reverse-finish", usage="reverse-finish",
         help="go back to the call of the current function (the call instruction in the caller)", group="control")
def cmd_reverse_finish(session, args):
    if args:
        raise CommandError("usage: reverse-finish")
    _history(session, "reverse-finish")
    machine = session.machine
    symbol = _function(session, "reverse-finish")
    stop, found = _back_to_entry(session, symbol.address, machine.reg("rsp"), _return_address(session, "reverse-finish"))
    if not found:
        return _moved(session, stop)
    return _moved(session, machine.reverse_step(1), f"run back to the call of {symbol.name}")


def _frame_of(machine):
    return machine.symbols.containing(machine.reg("rip")), machine.reg("rsp")


def _mnemonic(machine, rip: int) -> str:
    from ...inspect.hw.dis import disassemble

    listing = disassemble(machine, rip, 1, rip=rip)
    return listing.instructions[0].mnemonic if listing.instructions else ""


def _out_of_call(session, stop, here, rsp: int):
    """From the last instruction of a call or an interrupt handler (a ``ret`` or
    ``iretq`` reached by going back), back to just before the call or the
    delivery; the stop there, or None (``session.last_stop``: where it stopped
    instead)."""
    machine = session.machine
    if _mnemonic(machine, machine.reg("rip")).startswith("iret"):
        deliveries = [e for e in machine.exception_log if e.new_rsp in (rsp, rsp - 8) and e.icount <= machine.icount]
        if deliveries:
            return machine.goto(max(deliveries[-1].icount - 1, machine.history.start))
    if here is None:
        session.last_stop = stop
        return None
    back, found = _back_to_entry(session, here.address, rsp, int.from_bytes(machine.read_virtual(rsp, 8), "little"))
    if not found:
        session.last_stop = back
        return None
    return machine.reverse_step(1)


@command("reverse-next", aliases=("rn",), usage="reverse-next",
         help="go back to the start of the previous source line of this function, stepping back over calls",
         group="control")
def cmd_reverse_next(session, args):
    if args:
        raise CommandError("usage: reverse-next")
    history = _history(session, "reverse-next")
    machine = session.machine
    function, rsp0 = _frame_of(machine)
    current = _location(session, machine.reg("rip"))
    previous, start_of_previous = None, None
    while True:
        if session.interrupted.is_set():
            break
        stop = machine.reverse_step(1)
        if stop.kind is StopKind.HISTORY_START:
            if start_of_previous is None:
                return _moved(session, stop)
            break
        here, rsp = _frame_of(machine)
        last = _mnemonic(machine, machine.reg("rip"))
        if rsp < rsp0 and (last == "ret" or last.startswith("iret")):
            # the end of a call (or an interrupt) made from this line: back to where it was made
            stop = _out_of_call(session, stop, here, rsp)
            if stop is None:
                return _moved(session, session.last_stop)
            here = _frame_of(machine)[0]
        if here != function:
            break  # back past this function's start (the caller), or elsewhere: stop here
        line = _location(session, machine.reg("rip"))
        if line is None:
            continue
        if previous is None:
            if line != current:
                previous, start_of_previous = line, machine.icount
            continue
        if line != previous:
            break
        start_of_previous = machine.icount
    if start_of_previous is not None:
        stop = history.goto(start_of_previous)
    return _moved(session, stop)


@command("goto", usage="goto ICOUNT", help="take the machine to an instruction count of its recorded history",
         group="control")
def cmd_goto(session, args):
    if not args or len(args.split()) != 1:
        raise CommandError("usage: goto ICOUNT")
    target = parse_int(args)
    _history(session, "goto")
    return _moved(session, session.machine.goto(target))


@command("when", usage="when", help="the current instruction count and where it is in the recorded history",
         group="control", moves=False)
def cmd_when(session, args):
    if args:
        raise CommandError("usage: when")
    machine = session.machine
    history = machine.history
    if not history.enabled:
        return f"instruction {machine.icount} (no history recorded)"
    now = machine.icount
    end = max(history.end, now)
    points = [s.icount for s in history.checkpoints]
    k = max(i for i, at in enumerate(points) if at <= now) if points[0] <= now else 0
    where = "the present" if now >= history.end else f"in the past: goto {history.end} returns to the present"
    return (f"instruction {now} of {history.start}-{end}, checkpoint {k} (at instruction {points[k]}); {where}")


def _bytes(data: bytes) -> str:
    text = data.hex(" ")
    if len(data) in (1, 2, 4, 8):
        text += f" ({int.from_bytes(data, 'little'):#x})"
    return text


@command("last", usage="last ADDRESS [LENGTH] [--all]",
         help=f"the last write to a range before now (--all: the last {LAST_ALL}, newest first)", group="control",
         moves=False)
def cmd_last(session, args):
    words = session.split(args)
    every = "--all" in words
    words = [w for w in words if w != "--all"]
    if not 1 <= len(words) <= 2:
        raise CommandError("usage: last ADDRESS [LENGTH] [--all]")
    machine = session.machine
    address = parse_address(words[0], machine)
    length = parse_int(words[1]) if len(words) > 1 else 8
    if not 1 <= length <= 4096:
        raise CommandError(f"length {length} is out of range (1-4096 bytes)")
    history = _history(session, "last")
    writes = history.last_writes(address, length, LAST_ALL if every else 1)
    head = f"{address:#x} <{machine.symbolize(address)}> ({length} bytes), before instruction {machine.icount}:"
    if not writes:
        return f"{head} no write in the recorded history ({history.start}-{history.end})"
    lines = [head]
    for w in writes:
        lines.append(f"  instruction {w.icount}: {w.rip:#x} <{w.symbol}>" + (f" at {w.line}" if w.line else "")
                     + f", in {w.context.describe()}")
        lines.append(f"    old {_bytes(w.old)} -> new {_bytes(w.new)}")
    return "\n".join(lines)


@command("checkpoint", usage="checkpoint [NAME]", help="save the whole machine now as a numbered checkpoint",
         group="control", moves=False)
def cmd_checkpoint(session, args):
    machine = session.machine
    number = max(session.checkpoints, default=0) + 1
    where = machine.symbolize(machine.reg("rip"))
    session.checkpoints[number] = Checkpoint(number, args, machine.snapshot(), where)
    return f"checkpoint {number}" + (f" '{args}'" if args else "") + f" at instruction {machine.icount} <{where}>"


@command("restart", usage="restart ID", help="put the machine back to a checkpoint (info checkpoints lists them)",
         group="control")
def cmd_restart(session, args):
    if not args or len(args.split()) != 1:
        raise CommandError("usage: restart ID")
    number = parse_int(args)
    checkpoint = session.checkpoints.get(number)
    if checkpoint is None:
        known = ", ".join(str(n) for n in sorted(session.checkpoints)) or "none (take one with 'checkpoint')"
        raise CommandError(f"no checkpoint {number} (checkpoints: {known})")
    machine = session.machine
    machine.restore(checkpoint.state)
    stop = Stop(StopKind.STEP, machine.reg("rip"), machine.icount, message=f"restarted checkpoint {number}")
    return _moved(session, stop)


def checkpoints_view(session) -> str:
    """``info checkpoints``: the history's automatic checkpoints and the session's explicit ones."""
    machine = session.machine
    history = machine.history
    lines = []
    if history.enabled:
        lines.append(f"history: instructions {history.start}-{history.end}, now {machine.icount}; "
                     f"a checkpoint every {history.interval} instructions, "
                     f"{history.memory() >> 10} KiB of {history.budget >> 20} MiB")
        lines.append("automatic checkpoints (instruction counts): "
                     + ", ".join(str(s.icount) for s in history.checkpoints))
    else:
        lines.append("no history recorded")
    if session.checkpoints:
        lines.append("checkpoints:")
        for c in session.checkpoints.values():
            lines.append(f"  {c.id}  instruction {c.state.icount}  <{c.where}>" + (f"  '{c.name}'" if c.name else ""))
    else:
        lines.append("no explicit checkpoints (take one with 'checkpoint')")
    return "\n".join(lines)
