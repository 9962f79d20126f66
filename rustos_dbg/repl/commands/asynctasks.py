"""``task N``: select an async task; ``bt`` then shows its async backtrace.

Contract: ``task N`` selects the live task whose id is N (the ``id`` column
of ``tasks``) as the session's one :class:`~..selection.Selection` (kind
``task``, label ``task N NAME``; it replaces a selected thread or frame) and
prints the task (:func:`~rustos_dbg.inspect.kernel.asynctasks.task_view`: state,
async backtrace with each await's source line, who holds its waker);
``task`` alone shows the selected one again, ``task none`` clears it. A
suspended future has no registers or stack of its own, so the selection
carries none: ``regs``, ``x``, ``dis`` and ``walk`` read the CPU as before,
while ``bt`` shows the task's async backtrace (:func:`async_bt`). An unknown
id, or a task gone since it was selected, is a one-line error naming the live
ids. Nothing here moves the machine, so ``monitor task N`` works under gdb.
"""

from __future__ import annotations

from ...inspect.kernel import asynctasks
from ...inspect.kernel.common import to_json
from ..expr import parse_int
from ..registry import CommandError, command
from ..selection import Selection


def _read(session):
    # The machine's own ELF (its one parse): its DWARF describes the structures in its memory.
    return asynctasks.read_async_tasks(session.machine, dwarf=session.machine.image)


def _find(session, task_id: int):
    model = _read(session)
    found = model.task(task_id)
    if found is None:
        live = ", ".join(str(t.id) for t in model.tasks) or "none"
        raise CommandError(f"no task {task_id} (live task ids: {live})")
    return found


def _show(session, found) -> str:
    return to_json(found) if session.json else asynctasks.task_view(found)


def async_bt(session) -> str:
    """``bt`` with a task selected: that task's async backtrace, read now."""
    found = _find(session, session.selection.ident)
    if session.json:
        return to_json(found.awaits)
    lines = [f"async backtrace of task {found.id} ({found.task.name}), {found.task.state_name}:"]
    if found.await_error:
        lines.append(f"  {found.await_error}")
    return "\n".join(lines + asynctasks.backtrace_lines(found.awaits))


@command("task", usage="task [N|none]", help="select async task N (the id of `tasks`): bt shows its async backtrace",
         group="kernel")
def cmd_task(session, args):
    words = session.split(args)
    if len(words) > 1:
        raise CommandError("usage: task [N|none]")
    if not words:
        if session.selection is None or session.selection.kind != "task":
            raise CommandError("no task selected (usage: task N, N from the id column of `tasks`)")
        return _show(session, _find(session, session.selection.ident))
    if words[0] == "none":
        if session.selection is not None and session.selection.kind == "task":
            session.selection = None
        return "no task selected"
    try:
        task_id = parse_int(words[0])
    except (CommandError, ValueError):
        raise CommandError(f"task: '{words[0]}' is not a task id (usage: task N|none)") from None
    found = _find(session, task_id)
    session.selection = Selection("task", task_id, f"task {task_id} {found.task.name}", detail=found)
    return _show(session, found)
