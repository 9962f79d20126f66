"""Which registers and which address space a thread or process has: its context.

Contract: :func:`thread_context` (reader, dwarf, tid) finds the live slot of
``RUSTOS_THREADS`` whose ``tid`` (the pid ``threads``/``ps`` print) is ``tid``
and returns a frozen :class:`ThreadContext`:

* a thread that is off the CPU: the registers the scheduler saved in its
  record (``context``, a ``TrapFrame``: every switch happens in trap context
  and copies the interrupted frame there, docs/kernel-structures.md §14),
  decoded member by member through the record's DWARF type (no offsets are
  written here), and the record's ``cr3``; ``left_by`` is the vector of the
  trap that took it off the CPU (the timer for a preempted one, ``int 0x81``
  for a yield or sleep, ``int 0x80`` for a system call that blocked);
* the running thread (the table's ``current`` slot): the CPU's own registers,
  read from ``reader``, and the CPU's CR3 (the record's saved context is stale
  while it runs); ``on_cpu`` is True and ``left_by`` None.

An unknown or free ``tid`` raises :class:`NoSuchThread` (one line, listing the
live pids). :func:`thread_contexts` returns every live thread's context.
Both take any reader (the machine, a selection's reader, a gdb target) and
the kernel's DWARF (a ``KernelImage``, a ``DebugInfo`` or an ELF path), so
the REPL's ``thread N`` and a gdb stub's ``Hg`` share this one answer.
View: :func:`context_view` (text); JSON through :func:`to_json`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from ...machine.errors import RustosDbgError
from ...x86.vectors import vector_name
from .common import to_json
from .threads import Thread, live_slots, table_value, thread_row

__all__ = ["ThreadContext", "NoSuchThread", "thread_context", "thread_contexts", "context_view",
           "NOT_REGISTERS", "KERNEL_VECTORS", "to_json"]

#: ``TrapFrame`` members that are not CPU registers (the stub's pushes).
NOT_REGISTERS = frozenset({"vector", "error_code"})

#: The kernel's own software-interrupt vectors (docs/kernel-structures.md, "System calls").
KERNEL_VECTORS = {0x80: "int 0x80 system call", 0x81: "int 0x81 yield"}

#: Registers of the running thread, read from the CPU (the same names as a saved ``TrapFrame``).
CPU_REGISTERS = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11",
                 "r12", "r13", "r14", "r15", "rip", "rflags", "cs", "ss")


class NoSuchThread(RustosDbgError, LookupError):
    """No live thread or process has that id."""


@dataclass(frozen=True)
class ThreadContext:
    """A thread's registers and address space (see the module contract)."""

    thread: Thread                          #: its row of the table (pid, name, state, ring...)
    on_cpu: bool                            #: the running thread: the registers are the CPU's
    cr3: int                                #: its PML4 (physical): the CPU's CR3 when on the CPU
    registers: tuple[tuple[str, int], ...]  #: name -> value, rip, rsp, rbp, rax...
    left_by: Optional[int] = None           #: vector of the trap that took it off the CPU
    error_code: Optional[int] = None        #: that trap's error code (0 for most)

    @property
    def values(self) -> dict[str, int]:
        """The registers as a dictionary."""
        return dict(self.registers)

    def __getitem__(self, name: str) -> int:
        """One register's value."""
        return self.values[name]

    @property
    def user(self) -> bool:
        """True when its registers are in ring 3 (CS's RPL is 3)."""
        return self.values.get("cs", 0) & 3 == 3


def _saved(slot) -> tuple[tuple[tuple[str, int], ...], int, int]:
    context = slot["context"]
    registers = tuple((name, context[name].int()) for name in context.fields() if name not in NOT_REGISTERS)
    return registers, context["vector"].int(), context["error_code"].int()


def _context(reader, i: int, slot, current: int, symbols) -> ThreadContext:
    row = thread_row(i, slot, current, symbols)
    if i == current:
        registers = tuple((name, int(reader.reg(name))) for name in CPU_REGISTERS)
        return ThreadContext(row, True, int(reader.reg("cr3")) & ~0xFFF, registers)
    registers, vector, error = _saved(slot)
    return ThreadContext(row, False, row.cr3, registers, vector, error)


def thread_contexts(reader, dwarf=None) -> tuple[ThreadContext, ...]:
    """Every live thread's context, in slot order."""
    _, table = table_value(reader, dwarf)
    current, symbols = table["current"].int(), getattr(dwarf, "symbols", None)
    return tuple(_context(reader, i, slot, current, symbols) for i, slot in live_slots(table))


def thread_context(reader, dwarf, tid: int) -> ThreadContext:
    """The context of the thread or process with id ``tid`` (see the module contract)."""
    _, table = table_value(reader, dwarf)
    current, symbols = table["current"].int(), getattr(dwarf, "symbols", None)
    pids = []
    for i, slot in live_slots(table):
        if slot["tid"].int() == tid:
            return _context(reader, i, slot, current, symbols)
        pids.append(slot["tid"].int())
    raise NoSuchThread(f"no thread or process with id {tid} (live: {', '.join(map(str, pids)) or 'none'})")


def left_by_text(vector: Optional[int]) -> str:
    """How a thread left the CPU, from its saved trap's vector."""
    if vector is None:
        return "on the CPU"
    return KERNEL_VECTORS.get(vector) or f"vector {vector} ({vector_name(vector & 0xFF)})"


def context_view(ctx: ThreadContext, symbolize: Optional[Callable[[int], str]] = None) -> str:
    """One line naming the thread and where its registers come from, then rip/rsp/rbp and its CR3."""
    t = ctx.thread
    source = "the CPU's registers" if ctx.on_cpu else f"saved context (left the CPU by {left_by_text(ctx.left_by)})"
    rip = ctx.values.get("rip", 0)
    name = symbolize(rip) if symbolize is not None else None
    where = f" <{name}>" if name and not name.startswith("0x") else ""
    return (f"thread {t.tid} {t.name} ({t.state}, ring {t.ring}): {source}\n"
            f"  rip {rip:#x}{where}  rsp {ctx.values.get('rsp', 0):#x}  rbp {ctx.values.get('rbp', 0):#x}  "
            f"cs {ctx.values.get('cs', 0):#x}  CR3 {ctx.cr3:#x}")
