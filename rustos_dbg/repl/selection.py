"""The REPL's one selection: a kernel thread or process, an async task, or a frame.

Contract: a session holds at most one :class:`Selection` (``session.selection``;
``None`` means the CPU as it is now). ``thread N``, ``task N`` and ``frame N``
each replace it; ``thread``/``task``/``frame`` with ``none`` clear it, and so does any
command that moves the machine (what a selection names may be stale after it).
While one is set, the inspectors that read "the registers and memory of where
you are" (``regs``, ``bt``, ``x``, ``dis``, ``walk``) read through
:class:`SelectedReader`: the selection's registers instead of the CPU's, and
virtual memory through the selection's CR3. Everything else (RAM, symbols,
devices) is the machine's. The prompt shows the selection's label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional


@dataclass(frozen=True)
class Selection:
    """What the inspectors look at instead of the CPU.

    ``kind`` is ``thread``, ``task`` or ``frame``; ``ident`` the number the user
    typed; ``label`` the prompt's text (e.g. ``thread 3 spin``). ``registers``
    overrides CPU registers by name (rip, rsp, rbp, ...; a name absent here reads
    the CPU's); ``cr3`` selects the address space (``None``: the current one).
    ``detail`` is the kind's own model (the thread record, the task, the frame).
    """

    kind: str
    ident: int
    label: str
    registers: Mapping[str, int] = field(default_factory=dict)
    cr3: Optional[int] = None
    detail: Any = None


class SelectedReader:
    """A GuestReader seen through a selection; anything else is the machine's."""

    def __init__(self, machine, selection: Selection) -> None:
        """Reads ``machine`` with ``selection``'s registers and address space."""
        self._machine = machine
        self.selection = selection

    def reg(self, name: str):
        """The selection's value of a register, else the CPU's (``cr3``: the selection's)."""
        if name == "cr3" and self.selection.cr3 is not None:
            return self.selection.cr3
        if name in self.selection.registers:
            return self.selection.registers[name]
        return self._machine.reg(name)

    def regs(self) -> dict[str, int]:
        """The CPU's register dictionary with the selection's values put over it."""
        values = dict(self._machine.regs())
        values.update({k: v for k, v in self.selection.registers.items() if k in values})
        return values

    def walk(self, vaddr: int, cr3: Optional[int] = None):
        """The page walk of ``vaddr`` in the selection's address space."""
        return self._machine.memory.walk(vaddr, self.reg("cr3") if cr3 is None else cr3)

    def read_virtual(self, addr: int, n: int) -> bytes:
        """Virtual memory through the selection's CR3 (the machine's reader when it has none)."""
        if self.selection.cr3 is None:
            return self._machine.read_virtual(addr, n)
        return self._machine.memory.read_virtual_in(self.selection.cr3, addr, n)

    def __getattr__(self, name: str):
        return getattr(self._machine, name)


def reader_for(session):
    """What an inspector reads: the machine, or the machine seen through the selection."""
    if session.selection is None:
        return session.machine
    return SelectedReader(session.machine, session.selection)


def prompt_label(session) -> str:
    """The selection's prompt label, or ``""``."""
    return "" if session.selection is None else session.selection.label
