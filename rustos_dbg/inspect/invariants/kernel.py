"""Invariants of the kernel's own structures: the heap, the executor and its wakers.

Contract: each ``check_*(machine)`` decodes with the existing inspector
(:mod:`rustos_dbg.inspect.kernel`) and returns a
:class:`~.model.CheckResult`. A structure whose lock is held may be caught
mid-update: then only what no update leaves inconsistent is judged (the heap:
the free lists' and holes' links; the executor: nothing), so that a check
run at every instruction fails only on real corruption.
"""

from __future__ import annotations

from ..kernel import read_heap, read_tasks
from ..kernel.asynctasks import read_async_tasks, waits_in
from .model import CheckResult

#: Problems an allocator update holding the lock leaves for a few instructions.
_TRANSIENT = ("totals", "counters")


def _heap_problem(p) -> str:
    """A heap :class:`~rustos_dbg.inspect.kernel.Problem` as ``what, where, why``."""
    if p.where.startswith("list") and p.via is not None and p.address is not None:
        return (f"free block {p.via:#x} header overwritten: its link {p.address:#x} (node {p.index} "
                f"of {p.where}) is {p.reason}")
    return str(p)


def check_heap(machine) -> CheckResult:
    """``RUSTOS_HEAP``: free lists, holes, totals and counters (see :mod:`..kernel.heap_check`)."""
    heap = read_heap(machine, machine.image)
    if heap.size == 0:
        return CheckResult("heap", note="not set up yet")
    problems = heap.problems
    note = None
    if heap.locked:
        problems = tuple(p for p in problems if p.where not in _TRANSIENT and "its count says" not in p.reason)
        note = "locked: links only"
    culprit = next(((p.via, 8) for p in problems if p.where.startswith("list") and p.via is not None), None)
    return CheckResult("heap", tuple(_heap_problem(p) for p in problems), note, culprit)


def check_executor(machine) -> CheckResult:
    """``RUSTOS_EXECUTOR``: task ids, states, the ready queue (see :mod:`..kernel.tasks`)."""
    executor = read_tasks(machine, machine.image)
    if executor.locked:
        return CheckResult("executor", note="locked: not checked")
    return CheckResult("executor", tuple(str(p) for p in executor.problems))


def check_wakers(machine) -> CheckResult:
    """Every waiting task has a waker held somewhere (see :mod:`..kernel.asynctasks`):
    a waiting, unqueued task with no waker for it outside the executor's cache
    (and no other reference to its ``TaskWaker``) is a lost wake-up."""
    model = read_async_tasks(machine, machine.image)
    if model.executor.locked:
        return CheckResult("wakers", note="executor locked: not checked")
    return CheckResult("wakers", tuple(f"lost wake-up: nothing can wake task {t.id} ({t.name}), waiting in "
                                       f"{waits_in(t)}" for t in model.lost))
