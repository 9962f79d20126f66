"""Kernel invariants: checks of the kernel's and the CPU's structures at a stop.

Contract: :data:`INVARIANTS` names each check (``heap``, ``executor``,
``wakers``, ``idt``, ``tss``, ``paging``, ``irqlocks``, ``stubs``) with a one-line description; :func:`run_checks`
(machine, names=None) runs the named ones (all by default, in that order)
and returns a tuple of :class:`~.model.CheckResult`. A check never raises on
bad guest data: it reports it (an unreadable root structure is a problem
too). :data:`EVERY_STOP` names the ones cheap enough for every stop (all but
``stubs``, which re-executes the history). Views: :func:`~.model.format_results` (one line each: ``NAME: ok`` or
``NAME: FAILED: what, where, why``) and :func:`~.model.to_json`.
:mod:`.bisect` finds the first instruction of the recorded history at which
a check fails.
"""

from __future__ import annotations

import sys

from ...machine import checking
from ...machine.errors import RustosDbgError
from ..kernel.common import NotThisKernel, debug_info, require
from .irqlocks import check_irq_locks
from .kernel import check_executor, check_heap, check_wakers
from .model import CheckResult, format_result, format_results, to_json
from .paging import check_paging
from .stubs import check_stubs
from .tables import check_idt, check_tss

__all__ = ["INVARIANTS", "CheckResult", "run_checks", "run_check", "format_result", "format_results", "to_json",
           "UnknownCheck", "EVERY_STOP", "bisect", "BisectReport", "format_bisect"]

#: name -> (check function, what it checks)
INVARIANTS = {
    "heap": (check_heap, "free lists and holes linked inside the heap, totals and counters agree"),
    "executor": (check_executor, "task ids, states and the ready queue agree"),
    "wakers": (check_wakers, "every waiting task has a waker held somewhere (no lost wake-up)"),
    "idt": (check_idt, "gates 0-47 present, handlers executable, IST slots nonzero and mapped"),
    "tss": (check_tss, "RSP0 and the IST stacks mapped, their guard pages unmapped"),
    "paging": (check_paging, "no page both writable and executable, every table frame used in the allocator"),
    "irqlocks": (check_irq_locks, "no lock taken both with interrupts on and in an IRQ handler (locks --unsafe on)"),
    "stubs": (check_stubs, "the latest IRQ returned with every register as it found it (re-executes the history)"),
}


#: The checks ``check on`` and ``check every N`` run: all but ``stubs``, which re-executes the history,
#: and ``irqlocks``, which judges the lock tracker's record of the run rather than a state.
EVERY_STOP = ("heap", "executor", "wakers", "idt", "tss", "paging")


class UnknownCheck(RustosDbgError):
    """A check name that is not in :data:`INVARIANTS`."""


def names_of(names) -> tuple[str, ...]:
    """``names`` (a name or several) validated (all of them for None or empty)."""
    if isinstance(names, str):
        names = [names]
    if not names:
        return tuple(INVARIANTS)
    unknown = [n for n in names if n not in INVARIANTS]
    if unknown:
        raise UnknownCheck(f"unknown check '{unknown[0]}' (checks: {', '.join(INVARIANTS)})")
    return tuple(names)


#: The RustOS static whose absence makes a check not apply (a kernel that is not RustOS).
REQUIRES = {"heap": "RUSTOS_HEAP", "executor": "RUSTOS_EXECUTOR", "wakers": "RUSTOS_EXECUTOR",
            "idt": "RUSTOS_IDT", "tss": "RUSTOS_TSS", "paging": "RUSTOS_FRAMES", "stubs": "RUSTOS_TRAP"}


def run_check(machine, name: str) -> CheckResult:
    """One check; a guest read that fails is reported as its problem; a check of a
    RustOS structure the kernel lacks is ok with a note saying so (it does not apply)."""
    func = INVARIANTS[name][0]
    try:
        if name in REQUIRES:
            require(debug_info(machine.image), REQUIRES[name])
        return func(machine)
    except NotThisKernel as e:
        return CheckResult(name, note=f"not checked: {e}")
    except RustosDbgError as e:
        return CheckResult(name, (f"cannot read: {e}",))


def run_checks(machine, names=None) -> tuple[CheckResult, ...]:
    """The named checks (all by default), in :data:`INVARIANTS` order for all."""
    return tuple(run_check(machine, name) for name in names_of(names))


from .bisect import BisectReport, bisect, format_bisect  # noqa: E402 (uses run_check)

checking.install(sys.modules[__name__])
