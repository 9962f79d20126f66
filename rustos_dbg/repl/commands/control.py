"""Execution control: break, watch, catch, continue, stepi, step, next, finish,
until, and typing into the guest."""

from __future__ import annotations

from ...machine.stops import StopKind
from ...machine.watchpoints import WatchKind
from ..expr import parse_address, parse_int
from ..registry import CommandError, command
from ..report import describe_stop

#: Names accepted by ``catch`` besides vector numbers.
CATCH_NAMES = {"de": 0, "db": 1, "nmi": 2, "bp": 3, "of": 4, "br": 5, "ud": 6, "nm": 7, "df": 8,
               "ts": 10, "np": 11, "ss": 12, "gp": 13, "pf": 14, "mf": 16, "ac": 17, "mc": 18, "xm": 19}
STEP_LIMIT = 1_000_000


def _run(session, **kwargs):
    """Runs the machine (Ctrl-C stops it: see ``Session.execute``); the stop is remembered."""
    stop = session.machine.run(**kwargs)
    session.last_stop = stop
    return stop


def _report(session, stop) -> str:
    return describe_stop(session.machine, stop)


@command("break", aliases=("b",), usage="break LOCATION", help="stop when execution reaches an address or symbol", group="control", moves=False)
def cmd_break(session, args):
    address = parse_address(args, session.machine)
    session.machine.breakpoints.add(address)
    return f"breakpoint at {address:#x} <{session.machine.symbolize(address)}>"


@command("delete", aliases=("d",), usage="delete [LOCATION]", help="remove one breakpoint, or all", group="control", moves=False)
def cmd_delete(session, args):
    bps = session.machine.breakpoints
    if not args:
        for address in bps.addresses():
            while bps.remove(address):
                pass
        return "all breakpoints removed"
    address = parse_address(args, session.machine)
    if not bps.remove(address):
        raise CommandError(f"no breakpoint at {address:#x}")
    return f"breakpoint at {address:#x} removed"


def _watch(session, args, kind):
    words = session.split(args)
    if not words:
        raise CommandError("usage: watch ADDRESS [LENGTH]")
    address = parse_address(words[0], session.machine)
    length = parse_int(words[1]) if len(words) > 1 else 8
    session.machine.add_watchpoint(address, length, kind)
    return f"{kind.name.lower()} watchpoint on {address:#x} ({length} bytes) <{session.machine.symbolize(address)}>"


@command("watch", usage="watch ADDRESS [LENGTH]", help="stop after an instruction writes the range", group="control", moves=False)
def cmd_watch(session, args):
    return _watch(session, args, WatchKind.WRITE)


@command("unwatch", usage="unwatch ADDRESS", help="remove the watchpoints at an address", group="control", moves=False)
def cmd_unwatch(session, args):
    machine = session.machine
    address = parse_address(args, machine)
    removed = [k for a, n, k in machine.watchpoints.list() if a == address and machine.remove_watchpoint(a, n, k)]
    if not removed:
        raise CommandError(f"no watchpoint at {address:#x}")
    return f"removed {len(removed)} watchpoint(s) at {address:#x}"


@command("rwatch", usage="rwatch ADDRESS [LENGTH]", help="stop after an instruction reads the range", group="control", moves=False)
def cmd_rwatch(session, args):
    return _watch(session, args, WatchKind.READ)


@command("awatch", usage="awatch ADDRESS [LENGTH]", help="stop after an instruction reads or writes the range", group="control", moves=False)
def cmd_awatch(session, args):
    return _watch(session, args, WatchKind.ACCESS)


@command("catch", usage="catch [VECTOR|pf|df|gp|ud|...|triple]", help="stop when an exception is delivered (no argument: list)", group="control", moves=False)
def cmd_catch(session, args):
    machine = session.machine
    if not args:
        return "catching: " + (", ".join(str(v) for v in sorted(machine.catch)) or "nothing") + " (triple faults always stop)"
    word = args.lower()
    if word == "triple":
        return "triple faults always stop the machine"
    vector = CATCH_NAMES.get(word)
    if vector is None:
        vector = parse_int(word)
    if not 0 <= vector <= 255:
        raise CommandError(f"vector {vector} is out of range (0-255)")
    machine.catch.add(vector)
    return f"catching vector {vector}"


@command("uncatch", usage="uncatch [VECTOR|NAME]", help="stop catching one vector, or all", group="control", moves=False)
def cmd_uncatch(session, args):
    if not args:
        session.machine.catch.clear()
        return "catching nothing"
    vector = CATCH_NAMES.get(args.lower())
    session.machine.catch.discard(parse_int(args) if vector is None else vector)
    return "ok"


@command("continue", aliases=("c", "cont"), usage="continue", help="run until the next stop (Ctrl-C interrupts)", group="control")
def cmd_continue(session, args):
    return _report(session, _run(session))


@command("stepi", aliases=("si",), usage="stepi [N]", help="execute N instructions (default 1)", group="control")
def cmd_stepi(session, args):
    count = parse_int(args) if args else 1
    if count < 1:
        raise CommandError("stepi needs a count of at least 1")
    stop = None
    for _ in range(count):
        stop = session.machine.step()
        if stop.kind is not StopKind.STEP or session.interrupted.is_set():
            break
    session.last_stop = stop
    return _report(session, stop)


def _location(session, rip):
    from ...dwarf.lines import line_table

    return line_table(session.machine.image).lookup(rip)


def _is_call(machine, rip) -> int:
    """The length of the call instruction at ``rip``, or 0."""
    from ...inspect.hw.dis import disassemble

    listing = disassemble(machine, rip, 1, rip=rip)
    insn = listing.instructions[0] if listing.instructions else None
    return insn.size if insn is not None and insn.mnemonic == "call" else 0


def _step_line(session, over: bool):
    machine = session.machine
    start = _location(session, machine.reg("rip"))
    function = machine.symbols.containing(machine.reg("rip"))
    for _ in range(STEP_LIMIT):
        rip = machine.reg("rip")
        size = _is_call(machine, rip) if over else 0
        if size:
            stop = _finish_to(session, rip + size, machine.reg("rsp"))
        else:
            stop = machine.step()
        if stop.kind not in (StopKind.STEP, StopKind.BREAKPOINT) or (stop.kind is StopKind.BREAKPOINT and stop.address != rip + size):
            return stop
        if session.interrupted.is_set():
            return stop
        here = _location(session, machine.reg("rip"))
        if here is not None and (here != start or machine.symbols.containing(machine.reg("rip")) != function):
            return stop
    raise CommandError(f"no new source line after {STEP_LIMIT} instructions")


def _finish_to(session, return_address: int, rsp: int):
    """Runs until ``return_address`` is reached with the stack above ``rsp``."""
    machine = session.machine
    machine.breakpoints.add(return_address)
    try:
        while True:
            stop = _run(session)
            # Back at the return address with the stack no deeper than at the call
            # (a deeper hit is a recursive call returning there).
            if stop.kind is not StopKind.BREAKPOINT or stop.address != return_address or machine.reg("rsp") >= rsp:
                return stop
    finally:
        machine.breakpoints.remove(return_address)


@command("step", aliases=("s",), usage="step", help="run to the next source line, entering calls", group="control")
def cmd_step(session, args):
    stop = _step_line(session, over=False)
    session.last_stop = stop
    return _report(session, stop) + _line_suffix(session)


@command("next", aliases=("n",), usage="next", help="run to the next source line, stepping over calls", group="control")
def cmd_next(session, args):
    stop = _step_line(session, over=True)
    session.last_stop = stop
    return _report(session, stop) + _line_suffix(session)


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
    return f"run till exit from {trace.frames[0].symbol}\n" + _report(session, stop)


@command("until", aliases=("u",), usage="until LOCATION", help="run until an address or symbol is reached", group="control")
def cmd_until(session, args):
    if not args:
        return cmd_next(session, args)
    return _report(session, _run(session, until=parse_address(args, session.machine)))


def _text_arg(session, args) -> str:
    words = session.split(args)
    if len(words) != 1:
        raise CommandError('usage: type "TEXT" (escapes like \\n are understood)')
    return words[0].encode().decode("unicode_escape")


@command("type", usage='type "TEXT"', help="type text on the PS/2 keyboard (\\n is Enter)", group="guest")
def cmd_type(session, args):
    text = _text_arg(session, args)
    session.machine.send_keys(text)
    return f"typed {len(text)} characters"


@command("serial", usage='serial "TEXT"', help="send text to COM1", group="guest")
def cmd_serial(session, args):
    text = _text_arg(session, args)
    session.machine.send_serial(text)
    return f"sent {len(text)} bytes to COM1"


@command("key", usage="key CHORD", help="press a key chord on the keyboard (up, ctrl+c, enter, ...)", group="guest")
def cmd_key(session, args):
    if not args:
        raise CommandError("usage: key CHORD")
    try:
        session.machine.press(args)
    except (KeyError, ValueError) as e:
        raise CommandError(f"unknown key '{args}'") from e
    return f"pressed {args}"


@command("screen", usage="screen", help="the VGA text screen", group="guest")
def cmd_screen(session, args):
    return session.machine.screen_text()


@command("output", usage="output [N]", help="the last N lines (default 20) of serial output", group="guest")
def cmd_output(session, args):
    n = parse_int(args) if args else 20
    return "\n".join(session.machine.serial_output.splitlines()[-n:])


@command("where", usage="where", help="the current location and instruction", group="control", moves=False)
def cmd_where(session, args):
    from ..report import instruction_at

    machine = session.machine
    text = instruction_at(machine, machine.reg("rip")) + f"  (after {machine.icount} instructions)"
    return text + _line_suffix(session)
