"""The IRQ-unsafe lock invariant: no lock taken both with interrupts on and in an IRQ handler.

Contract: :func:`check_irq_locks` (machine) reads the verdicts of the machine's
lock tracker (``machine.lock_tracker``, :mod:`rustos_dbg.machine.locktrack`,
turned on by ``locks --unsafe on`` or ``Machine.track_locks``): one problem
per IRQ-unsafe lock found since tracking began, with both acquisition sites.
Untracked, it passes with a note saying so. The tracker sees acquisitions as
they happen, so this check reports what was seen during the run, not a state
of guest memory (``bisect`` cannot find when it began: use the stop at first
sight).
"""

from __future__ import annotations

from .model import CheckResult


def check_irq_locks(machine) -> CheckResult:
    """Every IRQ-unsafe lock the tracker found (see the module)."""
    tracker = machine.lock_tracker
    if not tracker.enabled and not tracker.unsafe:
        return CheckResult("irqlocks", note="not tracked: locks --unsafe on")
    problems = tuple(
        f"{v.name} taken with interrupts on by {machine.symbolize(v.thread.site.rip)} (icount {v.thread.site.icount}) "
        f"and in an interrupt handler by {machine.symbolize(v.irq.site.rip)} (icount {v.irq.site.icount})"
        for v in tracker.unsafe)
    return CheckResult("irqlocks", problems)
