"""Inspectors of RustOS's own data structures, decoded with their layouts and the kernel's DWARF.

Each inspector has three stages: ``read_*(reader, dwarf)`` reads guest
memory through a :class:`~rustos_dbg.inspect.reader.GuestReader` and the
DWARF of the kernel ELF (``dwarf``: a ``rustos_dbg.dwarf.DebugInfo``, the
machine's ``KernelImage`` (``machine.image``) or an ELF path; it is required:
None raises a one-line ``DwarfError``) and returns a model
of frozen dataclasses; ``*_view(model)`` returns compact text; ``to_json(model)``
returns a JSON string. The kernel's own ``#[repr(C)]`` structures are parsed
from one read of their static with the ``construct`` layouts of
:mod:`rustos_dbg.structs.kernel` (docs/kernel-structures.md), each checked
field by field against the DWARF first; the DWARF gives each static's address,
the ``IrqMutex<T>`` data offset, the executor's table and queue sizes, and
everything the kernel takes from crates (the heap's ``linked_list_allocator``
fallback, found by member name) or the compiler (vtables). No other offsets
are written by hand.

* :mod:`.heap` - ``RUSTOS_HEAP``: stats, free lists, fallback holes, consistency check;
* :mod:`.tasks` - ``RUSTOS_EXECUTOR``: tasks, their futures' types, the ready queue;
* :mod:`.asynctasks` - each task's await points (:mod:`.awaits`) and who holds its waker
  (:mod:`.wakers`), lost wake-ups;
* :mod:`.frames` - ``RUSTOS_FRAMES``: counters, bitmap recount, free ranges;
* :mod:`.bootinfo` - ``RUSTOS_BOOT_INFO``: command line, memory map, offsets.
* :mod:`.ramdisk` - ``RUSTOS_RAMDISK``: the PVH module, its state and files;
* :mod:`.wasm` - ``RUSTOS_WASM``: WASM instances, fuel, memory, call stack named from the
  module's ``name`` section (:mod:`.wasmnames`);
* :mod:`.stacks` - every kernel stack (depth, high-water mark) and a stack overflow named;
* :mod:`.verdicts` - views of the heap sanitizer's errors and of IRQ-unsafe locks.

Inconsistent guest data never raises: it is reported as
:class:`~.common.Problem`\\ s in the model. Only an unreadable root static
raises ``GuestMemoryError``, and only a kernel whose structures no longer
match those layouts (or a missing ``dwarf``) raises ``DwarfError``.
"""

from .bootinfo import BootInfo, Region, bootinfo_view, read_bootinfo
from .common import Problem, to_json
from .frames import FreeRange, Frames, frames_view, read_frames
from .heap import Fallback, FreeList, Heap, HeapStats, Hole, heap_view, read_heap
from .heap_check import check_heap
from .tasks import Executor, Task, future_type, read_tasks, tasks_view

__all__ = ["Problem", "to_json",
           "read_heap", "heap_view", "check_heap", "Heap", "HeapStats", "FreeList", "Fallback", "Hole",
           "read_tasks", "tasks_view", "future_type", "Executor", "Task",
           "read_frames", "frames_view", "Frames", "FreeRange",
           "read_bootinfo", "bootinfo_view", "BootInfo", "Region"]
