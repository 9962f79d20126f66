"""The executor (``RUSTOS_EXECUTOR``): tasks, their futures' types, the ready queue.

Contract: :func:`read_tasks` (reader, dwarf) reads ``IrqMutex<Executor>``
(address, ``data`` offset and the table and queue sizes from DWARF) and parses
the ``Executor`` with its layout (``executor_layout`` of
:mod:`rustos_dbg.structs.kernel`, docs/kernel-structures.md §11) into a frozen
:class:`Executor`:
every non-free slot as a :class:`Task` (id, name read from guest memory,
state, whether its id is in the ready queue, polls, wakes, and the type of
its boxed future), and the ready queue's ids oldest first
(``slots[(head + i) % capacity]``). The future's type comes from the DWARF
variable at the vtable address (``<T as core::future::future::Future>::{vtable}``:
its type's ``DW_AT_containing_type``, else the name), else from the symbol of
the vtable's first word (``core::ptr::drop_in_place::<T>``); ``future_source``
says which (``dwarf``, ``symbol`` or None). Unreadable names or vtables and
contradictions (ids, states, ``live``, ``current``, the queue) become
``problems``; only an unreadable ``RUSTOS_EXECUTOR`` raises.
Views: :func:`tasks_view` (text) and :func:`to_json`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .common import (Problem, debug_info, kernel_part, locked_static, magic_problem, to_json, try_bytes,
                     try_u64)
from ...dwarf import split_path
from ...structs import kernel as layouts

__all__ = ["Task", "Executor", "read_tasks", "future_type", "vtable_variable", "tasks_view", "to_json", "STATE_NAMES"]

STATE_NAMES = {int(state): name for state, name in layouts.TASK_STATE_NAMES.items()}
MAX_NAME = 256
_DROP = re.compile(r"^core::ptr::drop_in_place(?:::)?<(.*)>$")


@dataclass(frozen=True)
class Task:
    """One live slot of the task table."""

    slot: int
    id: int
    state: int
    state_name: str
    name: str | None
    queued: bool
    polls: int
    wakes: int
    woken_while_running: bool
    future_data: int
    future_vtable: int
    future_type: str | None
    future_source: str | None


@dataclass(frozen=True)
class Executor:
    """The executor at one stop."""

    address: int
    locked: bool
    capacity: int
    live: int
    next_id: int
    current: int
    total_polls: int
    tasks: tuple[Task, ...]
    ready: tuple[int, ...]
    ready_head: int
    ready_capacity: int
    problems: tuple[Problem, ...]

    JSON_EXTRA = ("ok",)

    @property
    def ok(self) -> bool:
        return not self.problems

    def task(self, task_id: int) -> Task | None:
        """The live task with ``task_id``, or None."""
        return next((t for t in self.tasks if t.id == task_id), None)


def _vtable_subject(name: str) -> str | None:
    """``<T as Trait>::{vtable}`` -> ``T``."""
    parts = split_path(name)
    if len(parts) < 2 or not parts[0].startswith("<") or not parts[0].endswith(">"):
        return None
    inner, depth = parts[0][1:-1], 0
    for i in range(len(inner) - 1, -1, -1):  # the last top-level " as "
        ch = inner[i]
        if ch in ">)]}":
            depth += 1
        elif ch in "<([{":
            depth -= 1
        elif depth == 0 and inner.startswith(" as ", i):
            return inner[:i]
    return None


def vtable_variable(info, vtable: int):
    """The DWARF variable ``<T as Trait>::{vtable}`` at address ``vtable``, or None."""
    return next((var for var in info.variables_at(vtable) if var.name.endswith("::{vtable}")), None)


def future_type(info, reader, vtable: int) -> tuple[str | None, str | None]:
    """(type name, ``dwarf``/``symbol``) of the ``dyn Future`` whose vtable is at ``vtable``."""
    var = vtable_variable(info, vtable)
    if var is not None:
        holder = var.type.containing_type if var.type is not None else None
        name = holder.name if holder is not None else _vtable_subject(var.name)
        if name:
            return name, "dwarf"
    drop = try_u64(reader, vtable)
    symbol = info.symbolize(drop) if drop else None
    if symbol:
        match = _DROP.match(symbol)
        return (match.group(1) if match else symbol), "symbol"
    return None, None


def _read_name(reader, ptr: int, length: int) -> str | None:
    if length == 0:
        return ""
    data = try_bytes(reader, ptr, min(length, MAX_NAME)) if length <= MAX_NAME else None
    return None if data is None else data.decode("utf-8", "replace")


def _queue(ring) -> tuple[tuple[int, ...], int, int, list[Problem]]:
    problems = magic_problem("ready queue", ring, "RING")
    slots = ring.slots
    n = len(slots)
    capacity, head, length = ring.capacity, ring.head, ring.len
    if capacity != n:
        problems.append(Problem("ready queue", f"capacity {capacity} but {n} slots"))
    if head >= n or length > n:
        problems.append(Problem("ready queue", f"head {head} / len {length} out of range for {n} slots"))
    ids = tuple(slots[(head + i) % n] for i in range(min(length, n))) if n else ()
    return ids, head, capacity, problems


def _task_problems(ex: "Executor", states: dict[int, int]) -> list[Problem]:
    out = []
    if ex.live != len(ex.tasks):
        out.append(Problem("executor", f"live says {ex.live} but {len(ex.tasks)} slots are in use"))
    seen: dict[int, int] = {}
    for t in ex.tasks:
        where = f"task slot {t.slot}"
        if t.id in seen:
            out.append(Problem(where, f"id {t.id} is also in slot {seen[t.id]}"))
        seen[t.id] = t.slot
        if t.state not in STATE_NAMES:
            out.append(Problem(where, f"unknown state {t.state}"))
        if t.id == 0 or t.id >= ex.next_id:
            out.append(Problem(where, f"id {t.id} is not below next_id {ex.next_id}"))
        if t.name is None:
            out.append(Problem(where, "name unreadable"))
        if t.future_type is None:
            out.append(Problem(where, f"future vtable {t.future_vtable:#x} names no type"))
        queued = ex.ready.count(t.id)
        if t.state == 1 and queued != 1:
            out.append(Problem(where, f"ready, but queued {queued} times"))
        if t.state == 2 and ex.current != t.id:
            out.append(Problem(where, f"running, but current is {ex.current}"))
    for task_id in ex.ready:
        if states.get(task_id) not in (1, 2):  # a running task may be re-queued by a wake-up
            out.append(Problem("ready queue", f"id {task_id} is queued but not a ready task"))
    if ex.current and states.get(ex.current) != 2:
        out.append(Problem("executor", f"current is {ex.current}, which is not running"))
    return out


def read_tasks(reader, dwarf=None) -> Executor:
    """Decodes ``RUSTOS_EXECUTOR`` from guest memory (see the module contract)."""
    info = debug_info(dwarf)
    mutex, locked, value = locked_static(reader, info, "RUSTOS_EXECUTOR")
    typ = value.type  # Executor: the generic sizes of this build
    layout = layouts.executor_layout(typ.member("tasks").type.count,
                                     typ.member("ready").type.member("slots").type.count)
    ex = kernel_part(value, layout)
    ready, head, ring_capacity, problems = _queue(ex.ready)
    problems = magic_problem("executor", ex, "EXEC") + problems
    queued = set(ready)
    tasks = []
    for i, slot in enumerate(ex.tasks):
        if slot.state == layouts.TaskState.FREE:
            continue
        ftype, source = future_type(info, reader, slot.future_vtable)
        tasks.append(Task(i, slot.id, slot.state, STATE_NAMES.get(slot.state, f"?{slot.state}"),
                          _read_name(reader, slot.name_ptr, slot.name_len), slot.id in queued, slot.polls,
                          slot.wakes, bool(slot.woken_while_running), slot.future_data, slot.future_vtable,
                          ftype, source))
    model = Executor(mutex.address, locked, ex.capacity, ex.live, ex.next_id, ex.current, ex.total_polls,
                     tuple(tasks), ready, head, ring_capacity, ())
    states = {t.id: t.state for t in tasks}
    return replace(model, problems=tuple(problems + _task_problems(model, states)))


def tasks_view(ex: Executor) -> str:
    """Compact text: the executor line, one line per task, the ready queue, problems."""
    lines = [f"executor: {len(ex.tasks)} live of {ex.capacity} slots, next id {ex.next_id}, "
             f"current {ex.current or '-'}, total polls {ex.total_polls}, lock {'HELD' if ex.locked else 'free'}"]
    width = max([4] + [len(t.name or "?") for t in ex.tasks])
    lines.append(f"  slot   id  {'name':<{width}}  state    queued  {'polls':>6} {'wakes':>6}  future")
    for t in ex.tasks:
        flag = "*" if t.woken_while_running else " "
        future = t.future_type or f"? (vtable {t.future_vtable:#x})"
        lines.append(f"  {t.slot:>4} {t.id:>4}  {t.name if t.name is not None else '?':<{width}}  "
                     f"{t.state_name:<8}{flag}{'yes' if t.queued else '-':<7} {t.polls:>6} {t.wakes:>6}  {future}")
    queue = " ".join(str(i) for i in ex.ready) or "-"
    lines.append(f"ready queue ({len(ex.ready)} of {ex.ready_capacity}, head {ex.ready_head}): {queue}")
    if ex.problems:
        lines.append(f"check: {len(ex.problems)} problem(s)")
        lines += [f"  - {p}" for p in ex.problems[:8]]
    return "\n".join(lines)
