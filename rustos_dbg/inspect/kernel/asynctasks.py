"""Every task's await points and wakers: what it waits for, and whether anything can wake it.

Contract: :func:`read_async_tasks` (reader, dwarf) reads the executor
(:func:`.tasks.read_tasks`), then for each live task

* its async backtrace (:mod:`.awaits`): the concrete type of its boxed
  ``dyn Future`` is the one whose vtable the task slot holds (the DWARF
  variable at the vtable address, ``<T as Future>::{vtable}``, whose
  ``{vtable_type}`` has ``DW_AT_containing_type`` T; else the symbol of the
  vtable's ``drop_in_place::<T>``), and its state machine is decoded level by
  level; a type the DWARF lacks gives ``await_error`` "no DWARF for this
  future's type";
* the wakers that wake it (:mod:`.wakers`), found in every static whose
  DWARF type can hold a ``Waker`` and in every task's future: a waker is the
  task's when its ``data`` is the executor's ``TaskWaker`` for that task (the
  ``Arc`` the executor caches in ``OWNED.wakers[slot]``; a clone has the same
  ``data``; a waker with the same vtable and unknown ``data`` is identified by
  the ``TaskWaker``'s ``id``). The executor's own cache is reported apart
  (``cached``): it is how the executor makes the ``Context`` of each poll,
  and it wakes nobody by itself. ``refs`` is the ``Arc``'s strong count (the
  cache's one included): clones the scan cannot see (a local of a running
  poll, an unscanned heap object) show up as ``refs - 1 > len(holders)``.

A task is ``lost`` when it is waiting, not queued, and no waker for it is
held outside the cache (and its strong count agrees: 1). Wakers naming no
live task are ``stray`` (left behind by a finished task). Bad guest data
never raises; an unreadable ``RUSTOS_EXECUTOR`` does (as in ``tasks``).
Views: :func:`async_tasks_view` (the ``tasks`` table, then one summary line
per task), :func:`task_view` (one task: state, backtrace, holders) and
:func:`summary`; JSON (``tasks --json``, via ``to_json``) has the executor
under ``executor``, each task's record under ``task`` with ``id``, ``name``,
``state_name`` and ``lost`` beside it, and ``ready`` and ``ok`` at the top.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...dwarf import DwarfError, Value
from .awaits import AwaitLevel, async_backtrace, backtrace_lines, future_die
from .common import ImageReader, debug_info, try_u64
from .tasks import Executor, Task, read_tasks, tasks_view
from .wakers import WakerRef, find_wakers, waker_statics

__all__ = ["TaskAsync", "AsyncTasks", "read_async_tasks", "async_tasks_view", "task_view", "summary",
           "waits_in", "backtrace_lines"]

CACHE = "rustos::task::executor::OWNED"
TASK_WAKER = "rustos::task::executor::TaskWaker"
ARC_INNER = f"alloc::sync::ArcInner<{TASK_WAKER}>"
NO_DWARF = "no DWARF for this future's type"


@dataclass(frozen=True)
class TaskAsync:
    """One task: its executor record, where it is suspended, and who can wake it."""

    task: Task
    awaits: tuple[AwaitLevel, ...]
    await_error: str | None
    holders: tuple[WakerRef, ...]
    cached: str | None
    refs: int | None

    JSON_EXTRA = ("id", "name", "state_name", "lost")

    @property
    def id(self) -> int:
        """The task's id."""
        return self.task.id

    @property
    def name(self) -> str | None:
        """The task's name."""
        return self.task.name

    @property
    def state_name(self) -> str:
        """``ready``, ``running`` or ``waiting``."""
        return self.task.state_name

    @property
    def lost(self) -> bool:
        """Waiting, not queued, and nothing outside the executor's cache can wake it."""
        t = self.task
        if t.state_name != "waiting" or t.queued or self.holders:
            return False
        return self.refs is None or self.refs <= 1


@dataclass(frozen=True)
class AsyncTasks:
    """The executor and every task's await points and wakers."""

    executor: Executor
    tasks: tuple[TaskAsync, ...]
    stray: tuple[WakerRef, ...]

    JSON_EXTRA = ("ready", "ok")

    @property
    def ready(self) -> tuple[int, ...]:
        """The ready queue's ids, oldest first (the executor's)."""
        return self.executor.ready

    @property
    def ok(self) -> bool:
        """The executor is consistent and no task is lost."""
        return self.executor.ok and not self.lost

    def task(self, task_id: int) -> TaskAsync | None:
        """The live task with ``task_id``, or None."""
        return next((t for t in self.tasks if t.id == task_id), None)

    @property
    def lost(self) -> tuple[TaskAsync, ...]:
        """The tasks nothing can wake."""
        return tuple(t for t in self.tasks if t.lost)


def _waker_id_reader(info, reader):
    """(TaskWaker id offset, strong-count offset from data) from DWARF, with the std layout as fallback."""
    id_offset, strong_back = 0, 16
    try:
        waker = info.find_type(TASK_WAKER)
        if waker is not None:
            id_offset = waker.member("id").offset
        inner = info.find_type(ARC_INNER)
        if inner is not None:
            strong_back = inner.member("data").offset - inner.member("strong").offset
    except DwarfError:
        pass
    return id_offset, strong_back


def read_async_tasks(reader, dwarf=None) -> AsyncTasks:
    """Decodes the executor, each task's await points and the wakers (see the module)."""
    info = debug_info(dwarf)
    ex = read_tasks(reader, info)
    reader = ImageReader(reader)
    dies = {t.id: future_die(info, reader, t.future_vtable) for t in ex.tasks}
    roots = [(var.name, Value(var.type, var.address, reader)) for var in waker_statics(info)]
    roots += [(f"the future of task {t.id}", Value(dies[t.id], t.future_data, reader))
              for t in ex.tasks if dies[t.id] is not None and t.future_data]
    wakers = find_wakers(reader, info, roots)
    by_slot = {t.slot: t for t in ex.tasks}
    owner: dict[int, int] = {}   # data -> task id, from the executor's cache
    cached: dict[int, str] = {}  # task id -> where its cached waker is
    for w in wakers:
        if w.holder.startswith(f"{CACHE}.wakers["):
            slot = int(w.holder[len(CACHE) + 8:].split("]")[0])
            if slot in by_slot:
                owner[w.data] = by_slot[slot].id
                cached[by_slot[slot].id] = w.holder
    vtables = {w.vtable for w in wakers if w.data in owner}
    id_offset, strong_back = _waker_id_reader(info, reader)
    live = {t.id for t in ex.tasks}
    held: dict[int, list[WakerRef]] = {}
    stray = []
    for w in wakers:
        if w.holder.startswith(f"{CACHE}."):
            continue
        task_id = owner.get(w.data)
        if task_id is None and w.vtable in vtables:
            task_id = try_u64(reader, w.data + id_offset)
        if task_id in live:
            held.setdefault(task_id, []).append(w)
        else:
            stray.append(w)
    data_of = {v: k for k, v in owner.items()}
    out = []
    for t in ex.tasks:
        typ = dies[t.id]
        awaits, error = (), None
        if typ is None:
            error = NO_DWARF
        elif t.future_data:
            awaits = async_backtrace(reader, info, t.future_data, typ)
        data = data_of.get(t.id)
        refs = try_u64(reader, data - strong_back) if data else None
        out.append(TaskAsync(t, awaits, error, tuple(held.get(t.id, ())), cached.get(t.id), refs))
    return AsyncTasks(ex, tuple(out), tuple(stray))


def _short(name: str) -> str:
    """``rustos::shell::shell_task`` -> ``shell::shell_task``; generic arguments elided."""
    cut = name.find("<")
    head = name if cut < 0 else name[:cut] + "<..>"
    parts = head.split("::")
    keep = 3 if len(parts) > 2 and parts[-2].startswith("{") else 2
    return "::".join(parts[-keep:]) if parts[0] == "rustos" else head


def waits_in(ta: TaskAsync) -> str:
    """The async backtrace on one line: ``shell::shell_task (shell/mod.rs:32) -> ...``."""
    if ta.await_error:
        return ta.await_error
    steps = []
    for level in ta.awaits:
        if level.error:
            steps.append(f"{_short(level.function)}: {level.error}")
        elif level.state is None:
            fields = ", ".join(f"{k} {v}" for k, v in level.fields)
            steps.append(_short(level.type_name) + (f" ({fields})" if fields else ""))
        else:
            steps.append(f"{_short(level.function)} ({level.where or level.state})")
    return " -> ".join(steps) or "?"


def summary(ta: TaskAsync) -> list[str]:
    """What the task waits in and who holds its waker, or the lost wake-up (one or two lines)."""
    t = ta.task
    head = f"task {t.id} ({t.name}) {t.state_name}"
    lines = [f"{head}: {waits_in(ta)}"]
    if ta.holders:
        lines.append("  its waker is held by " + ", ".join(w.holder for w in ta.holders))
    elif ta.lost:
        lines.append(f"  lost wake-up: nothing can wake task {t.id} (no waker for it is held anywhere"
                     f"{'; its TaskWaker has only the executor cache reference' if ta.refs == 1 else ''})")
    elif t.state_name == "waiting" and ta.refs is not None and ta.refs > 1:
        lines.append(f"  {ta.refs - 1} clone(s) of its waker held where the scan does not look")
    return lines


def async_tasks_view(model: AsyncTasks) -> str:
    """The executor table (``tasks``), then what each task awaits and who can wake it."""
    lines = [tasks_view(model.executor), "await points and wakers:"]
    for ta in model.tasks:
        lines += ["  " + line for line in summary(ta)]
    if model.stray:
        lines.append("wakers for no live task: " + ", ".join(f"{w.holder} (data {w.data:#x})" for w in model.stray))
    lost = model.lost
    if lost:
        lines.append(f"lost wake-ups: {len(lost)} (task {', '.join(str(t.id) for t in lost)})")
    return "\n".join(lines)


def task_view(ta: TaskAsync) -> str:
    """One task: its record, the async backtrace (one level a line, each followed by the
    variables it keeps across its await), the wakers."""
    t = ta.task
    lines = [f"task {t.id} ({t.name}): {t.state_name}{', queued' if t.queued else ''}, "
             f"polls {t.polls}, wakes {t.wakes}, future {t.future_type or '?'} at {t.future_data:#x}"]
    lines.append("async backtrace:")
    if ta.await_error:
        lines.append(f"  {ta.await_error}")
    lines += ["  " + line for line in backtrace_lines(ta.awaits, captured=True)]
    if ta.holders:
        lines += [f"waker held by {w.holder} (at {w.address:#x})" for w in ta.holders]
    if ta.cached:
        lines.append(f"executor's waker cache: {ta.cached}" + (f", {ta.refs} reference(s)" if ta.refs is not None else ""))
    lines += summary(ta)[1:] if not ta.holders else []
    return "\n".join(lines)

