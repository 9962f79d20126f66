"""Invariant of the page tables: no page both writable and executable (W^X).

Contract: ``check_paging(machine)`` lists the present leaf mappings under the
current CR3 (:func:`rustos_dbg.x86.mappings.iter_mappings`, runs of equal
permissions merged) that are writable and executable at once, each with the
range and what it is (the symbol at its start). Before paging is on it is
``ok`` with the note ``paging off``.
"""

from __future__ import annotations

from ...x86.mappings import iter_mappings
from ..hw.common import PhysCache, paging_mode
from .model import CheckResult

_CR0_PG = 1 << 31


def check_paging(machine) -> CheckResult:
    """W^X over the current address space (see the module)."""
    if not machine.reg("cr0") & _CR0_PG:
        return CheckResult("paging", note="paging off")
    problems = []
    read = PhysCache(machine.read_physical)
    for leaf in iter_mappings(read, machine.reg("cr3"), paging_mode(machine)):
        if leaf.permissions.writable and leaf.permissions.executable:
            problems.append(f"{leaf.vaddr:#x}-{leaf.end:#x} ({machine.symbolize(leaf.vaddr)}) is writable "
                            f"and executable")
    return CheckResult("paging", tuple(problems))
