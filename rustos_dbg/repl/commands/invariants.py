"""Kernel invariants in the REPL: ``check``, ``bisect`` and ``locks``.

Contract: ``check [NAME...]`` runs the invariants now (all by default) and
prints one line each (``NAME: ok`` or ``NAME: FAILED: what, where, why``);
``check on|off`` runs them at every stop (their failures are added to the
stop report; all but ``stubs``, which re-executes the history: see
``EVERY_STOP``); ``check every N|off`` runs those every N instructions of a run
(the run goes in chunks of N, so it is the same run), stopping at the first
failure. ``bisect NAME`` finds the first instruction of the recorded history
at which NAME fails and leaves the machine there; under gdb's ``monitor``
it reports the instruction without moving the machine (the remote protocol
cannot refresh gdb's view after a monitor command). ``locks`` lists the
kernel's locks (:mod:`rustos_dbg.inspect.kernel.locks`) with, for a held one,
its holder (from the recorded history: the write that took it) and the CPU
when it spins on it; the machine stays where it is. ``locks --unsafe on``
tracks every lock word (``Machine.track_locks``,
:mod:`rustos_dbg.machine.locktrack`): the first lock taken both with
interrupts on and in an IRQ handler stops the run; ``locks --unsafe`` lists
the IRQ-unsafe locks found, each with both acquisition sites;
``locks --unsafe off`` stops tracking.
"""

from __future__ import annotations

from dataclasses import replace

from ...inspect import invariants
from ...inspect.kernel import locks as locks_view
from ...machine.hang import lock_holder, spin_loop_operands
from ...machine.stops import StopKind
from ..expr import parse_int
from ..registry import CommandError, command


def failures(machine) -> list[str]:
    """The lines of the invariants of :data:`~rustos_dbg.inspect.invariants.EVERY_STOP`
    that fail now (empty when all pass)."""
    return [invariants.format_result(r) for r in machine.check(invariants.EVERY_STOP) if not r.ok]


def stop_checks(session) -> str:
    """What ``check on`` adds to a stop report: the failing invariants, or that all pass."""
    if not getattr(session, "check_at_stops", False):
        return ""
    bad = failures(session.machine)
    return "\n" + ("\n".join(f"check {line}" for line in bad) if bad else f"check: all {len(invariants.EVERY_STOP)} ok")


def run_checked(session, run, done):
    """Runs ``run(max_instructions)`` in chunks of ``check every N`` instructions,
    checking after each; a failure ends the run with an INTERRUPTED stop naming it.
    ``done()`` tells whether a limit stop is the command's own (its end)."""
    every = session.check_every
    machine = session.machine
    while True:
        stop = run(every)
        if stop.kind is not StopKind.INSTRUCTION_LIMIT or done():
            return stop
        bad = failures(machine)
        if bad:
            return replace(stop, kind=StopKind.INTERRUPTED, message=f"check every {every}: " + "; ".join(bad))


@command("check", usage="check [NAME...] | check on|off | check every N|off",
         help="kernel invariants (heap, executor, idt, tss, paging, irqlocks, stubs): now, at every stop, or every N instructions",
         group="inspect")
def cmd_check(session, args):
    words = session.split(args)
    if words in (["on"], ["off"]):
        session.check_at_stops = words[0] == "on"
        return f"checks at every stop: {words[0]}"
    if words and words[0] == "every":
        if len(words) != 2:
            raise CommandError("usage: check every N|off")
        if words[1] == "off":
            session.check_every = None
            return "checks every N instructions: off"
        n = parse_int(words[1])
        if n < 1:
            raise CommandError(f"check every needs a positive number of instructions, not {words[1]}")
        if session.machine.counter is None:
            raise CommandError("check every N needs the deterministic mode (the fast mode counts no instructions)")
        session.check_every = n
        return f"checks every {n} instructions"
    results = session.machine.check(words or None)
    if session.json:
        return invariants.to_json(results)
    return invariants.format_results(results)


@command("bisect", usage="bisect NAME",
         help="the first instruction of the history at which invariant NAME fails (the machine goes there)",
         group="inspect")
def cmd_bisect(session, args):
    words = session.split(args)
    if len(words) != 1:
        raise CommandError(f"usage: bisect NAME (one of: {', '.join(invariants.INVARIANTS)})")
    under_gdb = getattr(session, "under_gdb", False)
    report = session.machine.bisect(words[0], move=not under_gdb)
    if session.json:
        return invariants.to_json(report)
    text = invariants.format_bisect(report)
    if under_gdb:
        text += f"\n  (gdb's machine was not moved: it is still at instruction {session.machine.icount})"
    return text


def _with_holders(machine, model):
    spun = set(spin_loop_operands(machine))
    isr = machine.devices.pic.isr
    where = f"in IRQ {(isr & -isr).bit_length() - 1}" if isr else "in thread context"
    result = []
    for k in model.locks:
        holder, spinners = None, ()
        if k.held and machine.history.enabled:
            taken = lock_holder(machine, k.word)
            if taken is not None:
                w, interrupts = taken
                ago = machine.icount - w.icount
                holder = locks_view.Holder(w.icount, w.rip, w.symbol, w.line, w.context.describe(), interrupts,
                                           ago, ago / 1e6)
        if k.word in spun:
            rip = machine.reg("rip")
            spinners = (f"the CPU at {rip:#x} <{machine.symbolize(rip)}> {where}",)
        result.append(replace(k, holder=holder, spinners=spinners))
    return replace(model, locks=tuple(result))


def _unsafe(session, args: list[str]) -> str:
    """``locks --unsafe [on|off]``."""
    from ...inspect.kernel.verdicts import irq_unsafe_view

    m = session.machine
    tracker = m.lock_tracker
    if args == ["on"]:
        model = locks_view.read_locks(m, m.image)
        n = m.track_locks({k.word: k.name for k in model.locks})
        return (f"tracking {n} locks: the first one taken both with interrupts on and in an interrupt "
                "handler stops the run")
    if args == ["off"]:
        m.track_locks(None)
        return "lock tracking: off"
    if args:
        raise CommandError("usage: locks [--unsafe [on|off]]")
    if not tracker.unsafe:
        return ("no IRQ-unsafe lock seen" + (" yet (tracking)" if tracker.enabled else
                                              " (tracking is off: locks --unsafe on)"))
    return "\n".join(irq_unsafe_view(v, m.symbolize, m.source_line) for v in tracker.unsafe)


@command("locks", usage="locks [--unsafe [on|off]]",
         help="the kernel's locks: state, holder (from the history), spinners; --unsafe: IRQ-unsafe locks",
         group="inspect")
def cmd_locks(session, args):
    words = args.split()
    if words[:1] == ["--unsafe"]:
        return _unsafe(session, words[1:])
    if args:
        raise CommandError("usage: locks [--unsafe [on|off]]")
    m = session.machine
    model = _with_holders(m, locks_view.read_locks(m, m.image))
    return locks_view.to_json(model) if session.json else locks_view.locks_view(model)
