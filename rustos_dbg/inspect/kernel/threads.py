"""The thread table (``RUSTOS_THREADS``): kernel threads and user processes.

Contract: :func:`read_threads` (reader, dwarf) reads ``IrqMutex<ThreadTable>``
(docs/kernel-structures.md §14) through its DWARF type and returns a frozen
:class:`ThreadTable`: the slot on the CPU, the switch count, and every
non-free slot as a :class:`Thread` (id, name, state, ring, ticks, its address
space's PML4, and where it was when it last left the CPU: the saved
``context.rip``, ``cs`` and ``rsp``, with the symbol when ``dwarf`` is the machine's
image: the kernel's, or for user code its program's, see ``user_programs``; and its kernel stack's guard page and top). The running thread's saved context is stale (the CPU holds it):
``where`` is None for it. A kernel without the table raises, as any missing
static does. Views: :func:`threads_view` (text) and :func:`to_json`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .common import debug_info, locked_static, to_json

__all__ = ["Thread", "ThreadTable", "read_threads", "table_value", "live_slots", "thread_row", "threads_view", "to_json", "STATE_NAMES"]

#: ``state`` values (thread/table.rs).
STATE_NAMES = {0: "free", 1: "ready", 2: "running", 3: "sleeping", 4: "exited"}


@dataclass(frozen=True)
class Thread:
    """One live slot of the thread table."""

    slot: int
    tid: int
    name: str
    state: str
    ring: int
    ticks: int
    cr3: int                 #: its PML4 (physical)
    rip: int | None          #: where it left the CPU (None while it runs)
    cs: int | None
    where: str | None        #: ``rip`` symbolized (kernel code), when known
    stack_guard: int = 0     #: its kernel stack's guard page (0: the boot stack)
    stack_top: int = 0       #: the top of its kernel stack
    rsp: int | None = None   #: the saved ``context.rsp`` (None while it runs)


@dataclass(frozen=True)
class ThreadTable:
    """The scheduler's table."""

    address: int
    current: int             #: the slot on the CPU
    switches: int
    threads: tuple[Thread, ...]


def _name(value) -> str:
    raw = bytes(value.ints()) if hasattr(value, "ints") else value.raw()
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def table_value(reader, dwarf=None):
    """(the ``IrqMutex`` static, the ``ThreadTable`` value): ``RUSTOS_THREADS`` loaded in one read."""
    mutex, _, table = locked_static(reader, debug_info(dwarf), "RUSTOS_THREADS")
    return mutex, table


def live_slots(table):
    """(index, slot value) of every non-free slot of a loaded ``ThreadTable`` value."""
    for i, slot in enumerate(table["threads"]):
        if slot["state"].int() != 0:
            yield i, slot


def thread_row(i: int, slot, current: int, symbols=None) -> Thread:
    """The :class:`Thread` model of slot ``i`` (``current``: the slot on the CPU)."""
    state = slot["state"].int()
    running = i == current
    rip = None if running else slot["context"]["rip"].int()
    cs = None if running else slot["context"]["cs"].int()
    where = symbols.symbolize(rip) if symbols is not None and rip is not None and rip >> 63 else None
    return Thread(i, slot["tid"].int(), _name(slot["name"]), STATE_NAMES.get(state, f"?{state}"),
                  slot["ring"].int(), slot["ticks"].int(), slot["cr3"].int(), rip, cs, where,
                  slot["stack_guard"].int(), slot["stack_top"].int(),
                  None if running else slot["context"]["rsp"].int())


def read_threads(reader, dwarf=None) -> ThreadTable:
    """Decodes ``RUSTOS_THREADS`` from guest memory (see the module contract)."""
    mutex, table = table_value(reader, dwarf)
    symbols = getattr(dwarf, "symbols", None)
    current = table["current"].int()
    threads = tuple(thread_row(i, slot, current, symbols) for i, slot in live_slots(table))
    if hasattr(dwarf, "derived"):          # the machine's image: name user code by its program too
        threads = tuple(_user_where(reader, dwarf, t) for t in threads)
    return ThreadTable(mutex.address, current, table["switches"].int(), threads)


def _user_where(reader, image, t: Thread) -> Thread:
    """``t`` with ``where`` set from its program's symbols when it left the CPU in user code."""
    if t.rip is None or t.rip >> 47 or t.where is not None:
        return t
    from .user_programs import space_symbols   # it reads this table: imported here, not at the top

    name = space_symbols(reader, image, t.cr3).symbolize(t.rip)
    return t if name.startswith("0x") else replace(t, where=name)


def threads_view(table: ThreadTable) -> str:
    """A header, then one row per thread: pid first, its name, state, ring, ticks,
    address space and where it left the CPU."""
    lines = [f"threads: {len(table.threads)} live, slot {table.current} on the CPU, {table.switches} switches",
             f"  {'PID':>4} {'NAME':<16} {'STATE':<9} {'RING':>4} {'TICKS':>7}  {'CR3':>10}  LEFT THE CPU AT"]
    for t in table.threads:
        if t.rip is None:
            left = "(on the CPU)"
        else:
            left = f"{t.rip:#x}" + (f" <{t.where}>" if t.where else "")
            left += f" (ring {t.cs & 3})" if t.cs is not None and t.cs & 3 else ""
        lines.append(f"  {t.tid:>4} {t.name:<16} {t.state:<9} {t.ring:>4} {t.ticks:>7}  {t.cr3:>#10x}  {left}")
    return "\n".join(lines)
