"""Invariants of the CPU's tables: the IDT's gates and the TSS's stacks.

Contract: ``check_idt(machine)``: every gate of vectors 0-47 (exceptions
and the PIC's IRQs) present, its handler in an executable mapping, and each
IST index it names pointing to a nonzero, mapped, writable TSS slot.
``check_tss(machine)``: RSP0 and every nonzero IST slot mapped and writable
below the pointer, and each known stack's guard page unmapped. Both decode
with the hardware inspectors (:mod:`..hw.idt`, :mod:`..hw.tss`,
:mod:`..hw.pagewalk`); before the kernel loads its IDT or TSS they are ``ok``
with the note ``not loaded yet``.
"""

from __future__ import annotations

from ..hw import idt as idt_view
from ..hw import tss as tss_view
from ..hw.pagewalk import walk_address
from .model import CheckResult

#: The vectors RustOS fills: exceptions 0-31 and the PIC's IRQs 32-47.
USED_VECTORS = range(48)


def _access(machine, address: int, access: str) -> bool:
    report = walk_address(machine, address)
    return any(a.access == access and a.allowed for a in report.accesses)


def check_idt(machine) -> CheckResult:
    """The IDT's gates (see the module)."""
    table = idt_view.read_idt(machine, symbolize=machine.symbolize)
    if table.limit == 0 or table.base == 0:
        return CheckResult("idt", note="not loaded yet")
    tss = None
    problems: list[str] = []
    for vector in USED_VECTORS:
        gate = table.entry(vector)
        where = f"vector {vector} ({gate.vector_name if gate else '?'})"
        if gate is None or not gate.present:
            problems.append(f"{where}: gate not present")
            continue
        if not _access(machine, gate.handler, "execute"):
            problems.append(f"{where}: handler {gate.handler:#x} is not in executable memory")
        if gate.ist:
            tss = tss or tss_view.read_tss(machine, symbols=machine.symbols)
            slot = tss.ist[gate.ist - 1]
            if slot.pointer == 0:
                problems.append(f"{where}: IST{gate.ist} is 0 in the TSS")
            elif not _access(machine, slot.pointer - 8, "write"):
                problems.append(f"{where}: IST{gate.ist} {slot.pointer:#x} is not mapped writable")
    return CheckResult("idt", tuple(problems))


def check_tss(machine) -> CheckResult:
    """The TSS's stacks (see the module)."""
    selector = machine.reg("tr")[0]
    if selector == 0:
        return CheckResult("tss", note="not loaded yet")
    info = tss_view.read_tss(machine, symbols=machine.symbols)
    problems: list[str] = []
    for slot in (info.rsp[0], *info.ist):
        if slot.pointer == 0:
            if slot.slot == "RSP0":
                problems.append("RSP0 is 0")
            continue
        if not _access(machine, slot.pointer - 8, "write"):
            problems.append(f"{slot.slot} {slot.pointer:#x}: the stack below it is not mapped writable")
        if slot.guard_unmapped is False:
            problems.append(f"{slot.slot} {slot.pointer:#x}: the guard page of {slot.stack} "
                            f"({slot.stack_base:#x}) is mapped")
    return CheckResult("tss", tuple(problems))
