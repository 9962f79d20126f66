"""The tasks inspector against the kernel's own `tasks` command.

The kernel takes its snapshot while the shell task runs the command, so in the
printed table the shell is ``running``. At the kernel's snapshot (a breakpoint
on ``commands::tasks``) every field must agree. At the prompt that task has
gone back to waiting: its state may differ, and a wake-up during its poll could
add wakes (and re-queue it); everything else - ids, names, the other tasks'
states, every task's polls (the printing poll already counted), the other
tasks' wakes and the ready queue - must be equal.
"""

import json
import struct

import pytest

from rustos_dbg.inspect.kernel import future_type, read_tasks, tasks_view, to_json

pytestmark = pytest.mark.emulator

FUTURES = {"keyboard": "rustos::keyboard::keyboard_task::{async_fn_env#0}",
           "serial": "rustos::keyboard::serial_task::{async_fn_env#0}",
           "shell": "rustos::shell::shell_task::{async_fn_env#0}"}


def test_tasks_at_the_kernels_snapshot(shell):
    stop = shell.stops["tasks@call"]
    ex, rows = stop.tasks, stop.printed["tasks"]
    got = [{"id": t.id, "name": t.name, "state": t.state_name, "polls": t.polls, "wakes": t.wakes}
           for t in ex.tasks]
    assert got == rows
    assert list(ex.ready) == stop.printed["ready"]
    (running,) = [t for t in ex.tasks if t.state_name == "running"]
    assert running.name == "shell" and ex.current == running.id
    assert ex.ok, ex.problems


def test_tasks_at_the_prompt(shell):
    stop = shell.stops["tasks"]
    ex, rows = stop.tasks, stop.printed["tasks"]
    assert [t.id for t in ex.tasks] == [r["id"] for r in rows]
    running = set()
    for row in rows:
        task = ex.task(row["id"])
        assert task.name == row["name"]
        assert task.polls == row["polls"]
        if row["state"] == "running":
            running.add(task.id)
            assert task.state_name in ("waiting", "ready", "running")
            assert task.wakes >= row["wakes"]
        else:
            assert (task.state_name, task.wakes) == (row["state"], row["wakes"])
    assert running == {ex.task(3).id} and ex.task(3).name == "shell"
    assert [i for i in ex.ready if i not in running] == stop.printed["ready"]
    assert ex.live == len(ex.tasks) == 3 and ex.next_id == 4
    assert ex.ok, ex.problems


def test_queued_flags_follow_the_ready_queue(shell):
    for stop in shell.stops.values():
        ex = stop.tasks
        assert all(t.queued == (t.id in ex.ready) for t in ex.tasks)
        assert all(t.state_name != "ready" or t.queued for t in ex.tasks)


def test_future_types_from_dwarf(shell):
    ex = shell.stops["tasks"].tasks
    assert {t.name: t.future_type for t in ex.tasks} == FUTURES
    assert {t.future_source for t in ex.tasks} == {"dwarf"}
    assert all(t.future_data >= 0x4444_4444_0000 for t in ex.tasks)  # boxed in the heap


class NoVtableVariables:
    """The DWARF, minus the vtable statics: forces the symbol fallback."""

    def __init__(self, info):
        self.info = info

    def variables_at(self, address):
        return []

    def symbolize(self, address):
        return self.info.symbolize(address)


def test_future_type_symbol_fallback(shell):
    ex = shell.stops["tasks"].tasks
    shell_task = ex.task(3)
    name, source = future_type(NoVtableVariables(shell.info), shell.machine, shell_task.future_vtable)
    assert source == "symbol"
    assert name == "rustos::shell::shell_task::{closure#0}"  # from drop_in_place::<...>
    assert future_type(NoVtableVariables(shell.info), shell.machine, 0xDEAD_BEEF_000) == (None, None)


def test_view_and_json(shell):
    ex = shell.stops["tasks@call"].tasks
    text = tasks_view(ex)
    for t in ex.tasks:
        assert t.name in text and t.future_type in text
    assert "running" in text and "ready queue (0 of 64" in text
    data = json.loads(to_json(ex))
    assert [t["name"] for t in data["tasks"]] == ["keyboard", "serial", "shell"]
    assert data["ready"] == [] and data["ok"] is True


def test_bad_name_pointer_is_a_problem_not_an_error(shell, patch):
    slot_type = shell.info.type("rustos::task::executor::TaskSlot")
    executor = shell.info.type("rustos::task::executor::Executor")
    slot0 = shell.info.variable("RUSTOS_EXECUTOR").address + 8 + executor.member("tasks").offset
    with patch(slot0 + slot_type.member("name_ptr").offset, struct.pack("<Q", 0xDEAD_BEEF_000)):
        ex = read_tasks(shell.machine, shell.info)
    assert ex.tasks[0].name is None
    assert any(p.where == "task slot 0" and "name unreadable" in p.reason for p in ex.problems)
    assert "?" in tasks_view(ex)
