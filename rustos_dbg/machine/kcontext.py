"""Which kernel context is running: the trap handler and the executor's task.

Contract: :func:`context_probe` (machine) returns a function of no arguments
that reads, now, the trap vector whose handler is running (``RUSTOS_TRAP``:
the vector plus one, 0 outside handlers) and the id of the task the executor
is polling (``current`` of the ``Executor`` in ``RUSTOS_EXECUTOR``), as a
:class:`KernelContext`. The ``Executor`` is the kernel's own ``#[repr(C)]``
structure (:func:`~rustos_dbg.structs.kernel.executor_layout` gives the
field's offset); where it starts inside the static's lock is found by its
``EXEC`` magic, so no DWARF is needed (loading it takes seconds). Statics
the kernel lacks or unreadable addresses give None for that part; the probe
never raises. The executor's address is looked for until it is found (early
in the boot the kernel's mapping of it may not exist yet).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..structs.bitfields import byte_offsets
from ..structs.kernel import KernelMagic, executor_layout
from ..x86.vectors import vector_info


@dataclass(frozen=True)
class KernelContext:
    """The kernel's context at one instruction."""

    trap: int | None   #: the vector whose handler is running (None: none, or unknown)
    task: int | None   #: the id of the task being polled (None: none, or unknown)

    def describe(self) -> str:
        """E.g. ``task 2``, ``no task``, ``the IRQ0 handler (task 2 interrupted)``."""
        task = f"task {self.task}" if self.task else "no task"
        if self.trap is None:
            return task
        mnemonic = vector_info(self.trap).mnemonic if 0 <= self.trap <= 255 else ""
        handler = f"the {mnemonic or f'vector {self.trap}'} handler"
        return f"{handler} ({task} interrupted)" if self.task else handler


def _current_task_address(machine) -> int | None:
    """Where the executor's ``current`` lies: its header's magic inside the static, plus the field's offset."""
    symbol = machine.symbols.find("RUSTOS_EXECUTOR")
    if symbol is None or not symbol.size:
        return None
    try:
        data = machine.read_virtual(symbol.address, min(symbol.size, 64))
    except Exception:  # not mapped: unknown
        return None
    magic = struct.pack("<I", KernelMagic.EXEC)
    starts = [at for at in range(0, len(data) - 8, 8) if data[at:at + 4] == magic]
    return symbol.address + starts[0] + byte_offsets(executor_layout())["current"] if starts else None


def context_probe(machine):
    """A function giving the :class:`KernelContext` of ``machine`` now."""
    trap_at = machine.symbols.address_of("RUSTOS_TRAP")
    task_at: list[int | None] = [None]   # found once the kernel's mapping of it exists

    def read(addr: int | None) -> int | None:
        if addr is None:
            return None
        try:
            return struct.unpack("<Q", machine.read_virtual(addr, 8))[0]
        except Exception:  # not mapped (yet): unknown
            return None

    def probe() -> KernelContext:
        if task_at[0] is None:
            task_at[0] = _current_task_address(machine)
        trap = read(trap_at)
        return KernelContext(trap - 1 if trap else None, read(task_at[0]))

    return probe
