"""Execution control: break, delete, watch, rwatch, awatch, unwatch, catch
(vectors and ``panic``), uncatch, continue, run and set limit. Stepping is in
:mod:`.stepping`.

Breakpoints and watchpoints take ``if EXPR`` (the language of
:mod:`..expr`): the machine evaluates it at each hit and goes on silently when
it is false, so the run is the same as without the breakpoint. A watchpoint
on an address that is not mapped yet is pending until it is.
"""

from __future__ import annotations

import re

from ...machine.stops import StopKind
from ...machine.watchpoints import WatchKind
from ..expr import compile_expr, parse_address, parse_int
from ..registry import CommandError, command
from ..report import describe_stop
from ..runcontrol import Condition, Limits
from .syscalls import catch_syscall, caught_syscalls, uncatch_syscall

#: Names accepted by ``catch`` besides vector numbers.
CATCH_NAMES = {"de": 0, "db": 1, "nmi": 2, "bp": 3, "of": 4, "br": 5, "ud": 6, "nm": 7, "df": 8,
               "ts": 10, "np": 11, "ss": 12, "gp": 13, "pf": 14, "mf": 16, "ac": 17, "mc": 18, "xm": 19}

_IF = re.compile(r"(?:^|\s+)if(?:\s+|$)")


def run_machine(session, **kwargs):
    """Runs the machine within the command's budget (Ctrl-C stops it: see
    ``Session.execute``); the stop is remembered."""
    budget = session.budget
    max_instructions, timeout = kwargs.pop("max_instructions", None), kwargs.pop("timeout", None)
    if session.check_every and session.machine.counter is not None:
        from .invariants import run_checked

        m, start = session.machine, session.machine.icount
        done = lambda: budget.spent() or (max_instructions is not None and m.icount - start >= max_instructions)

        def chunk(n):
            if max_instructions is not None:
                n = min(n, max_instructions - (m.icount - start))
            return m.run(**kwargs, **budget.run_kwargs(n, timeout))

        stop = budget.limit_stop(run_checked(session, chunk, done))
    else:
        limits = budget.run_kwargs(max_instructions, timeout)
        stop = budget.limit_stop(session.machine.run(**kwargs, **limits))
    session.last_stop = stop
    return stop


def report(session, stop) -> str:
    """The stop report, with the error of a condition that could not be evaluated."""
    from .invariants import stop_checks

    text = describe_stop(session.reader(), stop)    # user addresses named by the running program
    condition = _condition_of(session, stop)
    if condition is not None and condition.error:
        text += f"\n  (stopped because the condition '{condition.text}' could not be evaluated: {condition.error})"
    return text + stop_checks(session)


def _condition_of(session, stop):
    machine = session.machine
    if stop.kind is StopKind.BREAKPOINT and stop.address is not None:
        return machine.breakpoints.condition(stop.address)
    if stop.kind is StopKind.WATCHPOINT:
        return next((w.condition for w in machine.watchpoints.watches() if w.address == stop.address), None)
    return None


def split_condition(session, args: str):
    """``LOCATION [if EXPR]``: the text before ``if``, and the compiled :class:`Condition` (or None)."""
    parts = _IF.split(args, maxsplit=1)
    if len(parts) == 1:
        return args, None
    if not parts[1].strip():
        raise CommandError("'if' needs a condition (e.g. if $rdi == 0)")
    return parts[0], Condition(compile_expr(parts[1], session.machine), session)


def _suffix(condition) -> str:
    return f" if {condition.text}" if condition is not None else ""


@command("break", aliases=("b",), usage="break LOCATION [if EXPR]",
         help="stop when execution reaches an address or symbol (and EXPR is non-zero)", group="control", moves=False)
def cmd_break(session, args):
    where, condition = split_condition(session, args)
    machine = session.machine
    address = parse_address(where, machine)
    if address in machine.breakpoints.addresses():
        machine.breakpoints.set_condition(address, condition)
    else:
        machine.breakpoints.add(address, condition=condition)
    return f"breakpoint at {address:#x} <{machine.symbolize(address)}>{_suffix(condition)}"


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
    text, condition = split_condition(session, args)
    words = session.split(text)
    if not words:
        raise CommandError(f"usage: {WATCH_USAGE[kind]}")
    machine = session.machine
    address = parse_address(words[0], machine)
    length = parse_int(words[1]) if len(words) > 1 else 8
    if not 1 <= length <= 4096:
        raise CommandError(f"watch length {length} is out of range (1-4096 bytes)")
    armed = machine.add_watchpoint(address, length, kind, condition=condition)
    text = (f"{kind.name.lower()} watchpoint on {address:#x} ({length} bytes) "
            f"<{machine.symbolize(address)}>{_suffix(condition)}")
    return text if armed else text + ": pending (not mapped yet; armed when it is)"


WATCH_USAGE = {WatchKind.WRITE: "watch ADDRESS [LENGTH] [if EXPR]", WatchKind.READ: "rwatch ADDRESS [LENGTH] [if EXPR]",
               WatchKind.ACCESS: "awatch ADDRESS [LENGTH] [if EXPR]"}


@command("watch", usage=WATCH_USAGE[WatchKind.WRITE],
         help="stop after an instruction writes the range (pending until it is mapped)", group="control", moves=False)
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


@command("rwatch", usage=WATCH_USAGE[WatchKind.READ], help="stop after an instruction reads the range", group="control", moves=False)
def cmd_rwatch(session, args):
    return _watch(session, args, WatchKind.READ)


@command("awatch", usage=WATCH_USAGE[WatchKind.ACCESS], help="stop after an instruction reads or writes the range",
         group="control", moves=False)
def cmd_awatch(session, args):
    return _watch(session, args, WatchKind.ACCESS)


def caught(machine) -> str:
    """What stops the run besides breakpoints: the caught vectors and panics."""
    parts = [str(v) for v in sorted(machine.catch)] + (["panic"] if machine.catch_panic else [])
    return ", ".join(parts) or "nothing"


@command("catch", usage="catch [VECTOR|pf|df|gp|ud|...|panic|triple] | catch syscall [N|NAME]...",
         help="stop when an exception is delivered, in the kernel's panic handler, or when a system call "
              "is entered from ring 3 (no argument: list)",
         group="control", moves=False)
def cmd_catch(session, args):
    machine = session.machine
    if not args:
        return ("catching: " + caught(machine)
                + " (triple faults always stop); system calls: " + caught_syscalls(session))
    word = args.lower()
    if word.split()[0] == "syscall":
        return catch_syscall(session, args.split(None, 1)[1] if " " in args.strip() else "")
    if word == "triple":
        return "triple faults always stop the machine"
    if word == "panic":
        machine.catch_panic = True
        return "catching panics (a stop at the panic handler's entry, with the PanicInfo decoded)"
    vector = CATCH_NAMES.get(word)
    if vector is None:
        vector = parse_int(word)
    if not 0 <= vector <= 255:
        raise CommandError(f"vector {vector} is out of range (0-255)")
    machine.catch.add(vector)
    return f"catching vector {vector}"


@command("uncatch", usage="uncatch [VECTOR|NAME|panic] | uncatch syscall [N|NAME]...",
         help="stop catching one vector or panics, or all (or system calls)", group="control", moves=False)
def cmd_uncatch(session, args):
    if args.strip().lower().split()[:1] == ["syscall"]:
        return uncatch_syscall(session, args.split(None, 1)[1] if " " in args.strip() else "")
    if not args:
        session.machine.catch.clear()
        session.machine.catch_panic = False
        return "catching nothing"
    if args.lower() == "panic":
        session.machine.catch_panic = False
        return "ok"
    vector = CATCH_NAMES.get(args.lower())
    session.machine.catch.discard(parse_int(args) if vector is None else vector)
    return "ok"


@command("why", usage="why", help="why the machine last stopped: the stop report (a panic's location, message and backtrace)",
         group="control", moves=False)
def cmd_why(session, args):
    stop = session.machine.last_stop
    if stop is None:
        return "the machine has not run yet"
    return describe_stop(session.machine, stop)


@command("continue", aliases=("c", "cont"), usage="continue", help="run until the next stop (Ctrl-C interrupts)", group="control")
def cmd_continue(session, args):
    return report(session, run_machine(session))


@command("run", aliases=("r",), usage="run",
         help="reboot the same kernel and command line, keep breakpoints, watchpoints and catches, and continue",
         group="control")
def cmd_run(session, args):
    if args:
        raise CommandError("usage: run (the command line is the one the session started with)")
    session.restart()
    m = session.machine
    bps, watches = len(m.breakpoints.addresses()), len(m.watchpoints)
    head = (f"rebooted {m.image.path} (command line '{m.cmdline}', {m.ram_bytes >> 20} MiB, {m.mode}); "
            f"kept {bps} breakpoint(s), {watches} watchpoint(s), catching " + caught(m))
    return head + "\n" + report(session, run_machine(session))


def _limit_value(word: str, parse):
    if word == "none":
        return None
    value = parse(word)
    if value <= 0:
        raise CommandError(f"a limit must be positive (or none), not {word}")
    return value


def _seconds(word: str) -> float:
    try:
        return float(word)
    except ValueError:
        raise CommandError(f"malformed number of seconds '{word}'") from None


def _hang_timeout(session, words) -> str:
    if len(words) != 1:
        raise CommandError("usage: set hang-timeout MS|off")
    hang = session.machine.hang
    if words[0] == "off":
        hang.timeout_ns = None
        return "hang detection: off"
    ms = parse_int(words[0])
    if ms < 1:
        raise CommandError(f"the hang timeout must be at least 1 ms, not {words[0]}")
    hang.timeout_ns = ms * 1_000_000
    return f"hang detection: a stop after {ms} virtual ms without progress"


@command("set", usage="set limit [instructions N|none] [seconds S|none] | set hang-timeout MS|off",
         help="how far one command may run the guest (batch runs start at 100000000 instructions, 60 s); "
              "the hang detection's timeout (100 virtual ms)",
         group="control", moves=False)
def cmd_set(session, args):
    words = session.split(args)
    if words and words[0] == "hang-timeout":
        return _hang_timeout(session, words[1:])
    if not words or words[0] != "limit" or len(words) % 2 == 0:
        raise CommandError("usage: set limit [instructions N|none] [seconds S|none]")
    limits = session.limits
    for what, value in zip(words[1::2], words[2::2]):
        if what == "instructions":
            limits = Limits(_limit_value(value, parse_int), limits.seconds)
        elif what == "seconds":
            limits = Limits(limits.instructions, _limit_value(value, _seconds))
        else:
            raise CommandError(f"unknown limit '{what}' (instructions or seconds)")
    session.limits = limits
    note = "" if session.machine.counter is not None or limits.instructions is None else \
        " (the fast mode counts no instructions: only seconds apply)"
    return f"limit per command: {limits.describe()}{note}"
