"""Invariant of the interrupt stubs: an IRQ returns with every register as it found it.

Contract: ``check_stubs(machine)`` takes the latest hardware interrupt (PIC
vectors, delivered) of the exception log that returned before now, within the
recorded history, and compares the interrupted instruction's registers (the
general-purpose ones at the delivery, RIP and RSP from the log, RFLAGS from
the CPU-pushed frame) with those at the first instruction back at that RIP
and RSP after it (after ``iretq``). The trap stubs document that a handler
may change the registers through its ``TrapFrame``; RustOS's IRQ handlers
never do, so for an IRQ every difference is a bug in the save/restore path.
It re-executes the history (``Machine.goto``) and comes back: without a
history it is ``ok`` with the note ``no recorded history``; with no IRQ that
returned yet, ``ok`` with ``no IRQ returned yet``.
"""

from __future__ import annotations

from ...machine.delivery import Outcome, Source
from ...machine.stops import StopKind
from .model import CheckResult

GPRS = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")
_TRIES = 3  # the latest IRQs tried (the last one may still be in its handler)


def _registers(machine) -> dict[str, int]:
    return {name: machine.reg(name) for name in GPRS}


def _return_of(machine, entry, now: int):
    """Runs from the delivery to the first stop back at the interrupted RIP and RSP
    (before ``now``): the registers there and the icount, or None."""
    machine.goto(entry.icount)
    if machine.reg("rip") != entry.handler:
        # Delivered to a halted CPU: the state at that count is the halt, before the
        # interrupt's time came; run on to the delivery (no instruction in between).
        machine.run(until=entry.handler, max_instructions=1)
        if machine.reg("rip") != entry.handler or machine.icount != entry.icount:
            return None
    before = _registers(machine)
    before["rsp"] = entry.old_rsp
    before["rflags"] = int.from_bytes(machine.read_virtual(entry.new_rsp + 16, 8), "little")
    machine.step()  # into the stub: a breakpoint at the interrupted RIP would be skipped once from there
    while machine.icount < now:
        stop = machine.run(until=entry.rip, max_instructions=now - machine.icount)
        if stop.kind is StopKind.BREAKPOINT and stop.address == entry.rip and machine.reg("rsp") == entry.old_rsp:
            after = _registers(machine)
            after["rsp"], after["rflags"] = machine.reg("rsp"), machine.reg("rflags")
            return before, after, machine.icount
        if stop.kind not in (StopKind.BREAKPOINT, StopKind.WATCHPOINT, StopKind.EXCEPTION,
                             StopKind.INSTRUCTION_LIMIT):
            return None
    return None


def check_stubs(machine) -> CheckResult:
    """The latest returned IRQ (see the module)."""
    history = machine.history
    if not history.enabled:
        return CheckResult("stubs", note="no recorded history")
    now = machine.icount
    irqs = [e for e in machine.exception_log if e.source is Source.EXTERNAL and e.outcome is Outcome.DELIVERED
            and e.new_rsp is not None and history.start <= e.icount < now]
    try:
        for entry in reversed(irqs[-_TRIES:]):
            found = _return_of(machine, entry, now)
            if found is None:
                continue
            before, after, back = found
            changed = [f"{name} {before[name]:#x} -> {after[name]:#x}" for name in before if before[name] != after[name]]
            where = (f"{entry.vector_name} delivered at icount {entry.icount} to "
                     f"{machine.symbolize(entry.rip)}, returned at icount {back}")
            if changed:
                return CheckResult("stubs", (f"{where}: {', '.join(changed)}",))
            return CheckResult("stubs", note=f"{entry.vector_name} at icount {entry.icount}")
    finally:
        machine.goto(now)
    return CheckResult("stubs", note="no IRQ returned yet")
