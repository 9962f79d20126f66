"""System calls: ``syscalls [N]`` (the strace-like log) and the ``catch syscall`` /
``uncatch syscall`` forms of ``catch`` (:mod:`.control` hands them here).

Names and argument kinds are the kernel's (``RUSTOS_SYSCALLS``, through
:mod:`rustos_dbg.inspect.kernel.syscalls`); the machine records every call
from ring 3 (``machine.syscalls``), so the log covers the run from the boot.
"""

from __future__ import annotations

from ...inspect.kernel import syscalls as sc
from ..expr import parse_int
from ..registry import CommandError, command


def _table(session):
    try:
        return sc.read_syscall_table(session.machine, session.machine.image)
    except Exception as e:
        raise CommandError(f"cannot read the kernel's system-call table (RUSTOS_SYSCALLS): {e}") from None


def _names(session, numbers) -> str:
    names = {s.number: s.name for s in _table(session)}
    return ", ".join(f"{names[n]} ({n})" if n in names else str(n) for n in sorted(numbers))


def catch_syscall(session, args: str) -> str:
    """``catch syscall [N|NAME]...``: stop when such a call (any, without one) is entered from ring 3."""
    trace = session.machine.syscalls
    words = session.split(args)
    if not words:
        trace.catch_all = True
        return "catching every system call"
    table = _table(session)
    numbers = []
    for word in words:
        try:
            numbers.append(sc.syscall_number(table, word))
        except ValueError as e:
            raise CommandError(str(e)) from None
    trace.catch.update(numbers)
    return "catching system calls: " + _names(session, trace.catch)


def uncatch_syscall(session, args: str) -> str:
    """``uncatch syscall [N|NAME]...``: stop catching those calls (all, without one)."""
    trace = session.machine.syscalls
    words = session.split(args)
    if not words:
        trace.catch.clear()
        trace.catch_all = False
        return "catching no system call"
    table = _table(session)
    for word in words:
        try:
            trace.catch.discard(sc.syscall_number(table, word))
        except ValueError as e:
            raise CommandError(str(e)) from None
    return "ok"


def caught_syscalls(session) -> str:
    """What ``catch`` lists for system calls."""
    trace = session.machine.syscalls
    if trace.catch_all:
        return "every system call"
    return _names(session, trace.catch) if trace.catch else "no system call"


@command("syscalls", usage="syscalls [N]",
         help="the system calls from ring 3 (like strace): process, call, decoded arguments, result (last N, default 20)",
         group="kernel", moves=False)
def cmd_syscalls(session, args):
    last = parse_int(args) if args.strip() else 20
    if last < 0:
        raise CommandError("N must not be negative")
    log = sc.read_syscall_log(session.machine, session.machine.image, last=last)
    return sc.to_json(log) if session.json else sc.syscalls_view(log)
