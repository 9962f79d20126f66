"""The kernel's threads and processes as gdb threads (the model behind gdbstub's thread packets).

Contract:

* gdb thread id = the kernel's thread id (``Thread.tid``, which is also a
  process's pid: from 1, never reused; the boot thread "kernel", slot 0, is
  1). The live threads are the non-free slots of ``RUSTOS_THREADS``
  (docs/kernel-structures.md §14) in slot order; exited ones stay listed
  until their slot is reused, as the kernel's ``ps`` shows them.
* Before the table holds a thread (``thread::init`` registers the boot
  thread early in the boot), with a table whose magic is not ``THRD``, or for
  a kernel without the static or without DWARF, there is one thread, id 1:
  the CPU (:data:`NO_TABLE`).
* :func:`read_gdb_threads` returns :class:`GdbThread` models, made from the
  kernel inspectors' one model of a thread's registers and address space
  (:func:`~rustos_dbg.inspect.kernel.thread_context.thread_contexts`, which
  the REPL's ``thread N`` uses too): the thread on the CPU (the table's
  ``current`` slot) has no saved registers (the CPU holds them); every other
  one has the registers of its saved ``context`` (a ``TrapFrame``, §8) and
  its CR3.
  :func:`current_tid` reads only the ``current`` slot's id, at addresses
  found once (:func:`current_layout`): it is asked at every stop reply, so it
  stays cheap. :func:`table_bytes` reads the whole static in one physical
  read: the list depends on nothing else (the saved contexts are in the
  records, the running thread's registers are the CPU's), so equal bytes at
  the next stop mean the same list (gdb asks for it after every ``stepi``).
* Statics are read through the kernel inspectors' image reader (readable
  before paging maps the image); guest-memory errors and a missing static or
  type fall back to :data:`NO_TABLE`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from ..dwarf import DwarfError
from ..inspect.kernel.common import ImageReader, debug_info
from ..inspect.kernel.thread_context import thread_contexts
from ..machine.errors import GuestMemoryError, RustosDbgError
from ..x86.layout import IMAGE_WINDOW, KERNEL_BASE

__all__ = ["GdbThread", "CurrentLayout", "NO_TABLE", "read_gdb_threads", "current_layout",
           "current_tid", "table_bytes", "describe"]

#: The magic at the start of ``ThreadTable`` ("THRD" as a little-endian u32).
_THRD = int.from_bytes(b"THRD", "little")
_ERRORS = (DwarfError, GuestMemoryError, RustosDbgError, KeyError, IndexError, AttributeError)


@dataclass(frozen=True)
class GdbThread:
    """One kernel thread or process as gdb sees it."""

    tid: int                 #: gdb's thread id = the kernel's tid (pid)
    name: str
    state: str
    ring: int
    running: bool            #: on the CPU (its registers are the CPU's)
    cr3: int | None          #: its PML4 (physical); None for the single thread without a table
    saved: Mapping[str, int] = field(default_factory=dict)  #: its saved TrapFrame (empty while running)


#: What gdb sees before the thread table exists: one thread, the CPU.
NO_TABLE = (GdbThread(1, "cpu", "running", 0, True, None),)


def _table(machine):
    """The ``ThreadTable`` value (lazy: fields are read when asked), or None if its magic is wrong."""
    info = debug_info(machine.image)
    table = info.value(ImageReader(machine), "RUSTOS_THREADS")["data"]["value"]
    return table if table["magic"].int() == _THRD else None


def read_gdb_threads(machine) -> tuple[GdbThread, ...]:
    """The live threads, in slot order (see the module contract); :data:`NO_TABLE` without a table."""
    try:
        if _table(machine) is None:
            return NO_TABLE
        contexts = thread_contexts(machine, machine.image)
    except _ERRORS:
        return NO_TABLE
    threads = tuple(GdbThread(c.thread.tid, c.thread.name, c.thread.state, c.thread.ring, c.on_cpu, c.thread.cr3,
                              {} if c.on_cpu else c.values) for c in contexts)
    return threads or NO_TABLE


@dataclass(frozen=True)
class CurrentLayout:
    """Where the ``current`` slot index and the slots' ids are (from DWARF, once)."""

    current: int               #: address of ``ThreadTable.current`` (u32)
    slots: int                 #: address of ``threads[0]``
    stride: int                #: bytes per slot
    tid: int                   #: offset of ``tid`` (u64) in a slot
    count: int                 #: slots


def current_layout(machine) -> CurrentLayout | None:
    """The addresses :func:`current_tid` reads (None: no usable table)."""
    try:
        table = _table(machine)
        if table is None:
            return None
        slots = table["threads"]
        if not KERNEL_BASE <= table.address < KERNEL_BASE + IMAGE_WINDOW:
            return None
        return CurrentLayout(table["current"].address, slots.address, slots.type.element.size,
                             slots[0]["tid"].address - slots.address, len(slots))
    except _ERRORS:
        return None


def current_tid(machine, layout: CurrentLayout | None = None) -> int:
    """The gdb id of the thread on the CPU (1 without a table); ``layout`` (from
    :func:`current_layout`) saves the DWARF lookups: two small reads then."""
    layout = layout or current_layout(machine)
    if layout is None:
        return 1
    # The static is in the kernel image, loaded at its virtual address minus KERNEL_BASE
    # (docs/kernel-structures.md §1): read it physically, without a page walk.
    read = lambda address, n: machine.read_physical(address - KERNEL_BASE, n)
    try:
        slot = int.from_bytes(read(layout.current, 4), "little")
        if slot >= layout.count:
            return 1
        tid = int.from_bytes(read(layout.slots + slot * layout.stride + layout.tid, 8), "little")
    except GuestMemoryError:
        return 1
    return tid or 1


def table_bytes(machine) -> bytes | None:
    """The raw bytes of the ``RUSTOS_THREADS`` static (None: no such sized static in
    the kernel image, or unreadable), read physically like :func:`current_tid`'s."""
    sym = machine.symbols.find("RUSTOS_THREADS")
    if sym is None or not sym.size or not KERNEL_BASE <= sym.address < KERNEL_BASE + IMAGE_WINDOW:
        return None
    try:
        return bytes(machine.read_physical(sym.address - KERNEL_BASE, sym.size))
    except GuestMemoryError:
        return None


def describe(thread: GdbThread) -> str:
    """gdb's extra info for ``thread`` (``info threads`` shows it in parentheses): name, state, ring."""
    return f"{thread.name}, {thread.state}, ring {thread.ring}"
