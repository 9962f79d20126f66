"""The REPL's one selection: a kernel thread or process, an async task, or a frame.

Contract: a session holds at most one :class:`Selection` (``session.selection``;
``None`` means the CPU as it is now). ``thread N``, ``task N`` and ``frame N``
each replace it; ``thread``/``task``/``frame`` with ``none`` clear it, and so does any
command that moves the machine (what a selection names may be stale after it).
The inspectors that read "the registers and memory of where you are"
(``regs``, ``bt``, ``x``, ``dis``, ``walk``, ``sym``) read through
:class:`SelectedReader`: while a selection is set, its registers instead of
the CPU's and virtual memory through its CR3; with none, the CPU's. Its
``symbols``/``symbolize`` name the kernel half with the kernel's symbols and
the user half with the symbols of the program that runs in the address space
in use (the selection's CR3, else the CPU's; see
:mod:`rustos_dbg.inspect.kernel.user_programs`). Everything else (RAM,
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


#: What no selection overrides.
_NOTHING = Selection("cpu", 0, "")


class SelectedReader:
    """A GuestReader seen through a selection (None: the CPU as it is); anything else is the machine's."""

    def __init__(self, machine, selection: Optional[Selection]) -> None:
        """Reads ``machine`` with ``selection``'s registers and address space."""
        self._machine = machine
        self.selection = selection if selection is not None else _NOTHING
        self._symbols = None

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

    @property
    def symbols(self):
        """The kernel's symbols and, for user addresses, the address space's program's."""
        if self._symbols is None:
            from ..inspect.kernel.user_programs import space_symbols

            self._symbols = space_symbols(self, self._machine.image)
        return self._symbols

    def symbolize(self, addr: int) -> str:
        """``symbol+0xoff`` for an address of either half (see :attr:`symbols`)."""
        return self.symbols.symbolize(addr)

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
    """What an inspector reads: the machine seen through the selection (or the CPU's state)."""
    return SelectedReader(session.machine, session.selection)


def prompt_label(session) -> str:
    """The selection's prompt label, or ``""``."""
    return "" if session.selection is None else session.selection.label
