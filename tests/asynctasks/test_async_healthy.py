"""A healthy shell: every task's await points (with their source lines) and who holds its waker."""

import json
import re
import struct

import pytest

from async_helpers import source_line
from rustos_dbg.inspect.kernel.asynctasks import read_async_tasks
from rustos_dbg.repl import CommandError, Session

pytestmark = pytest.mark.emulator

HOLDERS = {"keyboard": "rustos::keyboard::SCANCODES.waker", "serial": "rustos::keyboard::SERIAL_RX.waker",
           "shell": "rustos::keyboard::KEY_WAKER"}


def test_the_shell_waits_on_the_keyboard_at_its_await_lines(at_prompt):
    m = at_prompt
    model = read_async_tasks(m, m.image)
    shell = next(t for t in model.tasks if t.name == "shell")
    top, inner, leaf = shell.awaits
    assert (top.function, top.state, top.line) == (
        "rustos::shell::shell_task", "Suspend0", source_line("shell/mod.rs", "keyboard::next_key().await"))
    assert top.file.endswith("src/shell/mod.rs")
    assert (inner.function, inner.state, inner.line) == (
        "rustos::keyboard::next_key", "Suspend0", source_line("keyboard.rs", ".await", after="pub async fn next_key"))
    assert leaf.state is None and leaf.type_name.startswith("futures_util::future::poll_fn::PollFn<rustos::keyboard::next_key")
    # Each level is the awaitee inside the one before it (rustc puts it in the suspended state's bytes).
    assert top.address == shell.task.future_data < inner.address < top.address + 0x100


def test_each_task_s_waker_is_held_by_its_input_queue(at_prompt, kernel_elf):
    m = at_prompt
    model = read_async_tasks(m, m.image)
    assert {t.name: [w.holder for w in t.holders] for t in model.tasks} == {k: [v] for k, v in HOLDERS.items()}
    for t in model.tasks:
        (waker,) = t.holders
        # The waker's data is the executor's TaskWaker { id } of that task; its Arc counts the cache and this clone.
        assert struct.unpack("<Q", m.read_virtual(waker.data, 8))[0] == t.id
        assert struct.unpack("<Q", m.read_virtual(waker.data - 16, 8))[0] == t.refs == 2
        assert t.cached == f"rustos::task::executor::OWNED.wakers[{t.task.slot}]"
        assert not t.lost
    assert model.lost == () and model.stray == ()


def test_tasks_check_and_json_say_so(at_prompt):
    s = Session(at_prompt)
    text = s.execute("tasks")
    assert text.startswith("executor: 3 live of 32 slots")
    line = source_line("shell/mod.rs", "keyboard::next_key().await")
    assert f"task 3 (shell) waiting: shell::shell_task (shell/mod.rs:{line}) -> keyboard::next_key (" in text
    assert "    its waker is held by rustos::keyboard::KEY_WAKER" in text.splitlines()
    assert "lost wake-up" not in text
    assert s.execute("check wakers") == "wakers: ok"
    s.json = True
    shell = json.loads(s.execute("task 3"))
    assert (shell["id"], shell["name"], shell["lost"]) == (3, "shell", False)
    assert shell["holders"][0]["holder"] == "rustos::keyboard::KEY_WAKER"


def test_task_selects_bt_shows_the_async_backtrace_and_a_step_clears_it(at_prompt):
    from rustos_dbg.repl.app import prompt_text

    s = Session(at_prompt)
    shown = s.execute("task 3")
    assert shown.startswith("task 3 (shell): waiting, polls 1")
    assert prompt_text(s) == "(rustos-dbg task 3 shell) "
    bt = s.execute("bt").splitlines()
    line = source_line("shell/mod.rs", "keyboard::next_key().await")
    assert bt[:2] == ["async backtrace of task 3 (shell), waiting:",
                      f"#0  rustos::shell::shell_task (Suspend0) at shell/mod.rs:{line}"]
    assert bt[2].startswith("#1  rustos::keyboard::next_key (Suspend0) at src/keyboard.rs:")
    assert s.execute("task").startswith("task 3 (shell)")
    s.execute("stepi")
    assert s.selection is None
    assert s.execute("bt").startswith("#0  0x")  # the frame-pointer backtrace again
    s.execute("task 1")
    assert s.execute("task none") == "no task selected" and s.selection is None


@pytest.mark.parametrize("line, message", [
    ("task 99", "no task 99 (live task ids: 1, 2, 3)"),
    ("task x", "task: 'x' is not a task id (usage: task N|none)"),
    ("task 1 2", "usage: task [N|none]"),
    ("task", "no task selected (usage: task N, N from the id column of `tasks`)"),
])
def test_bad_task_input_is_one_line(at_prompt, line, message):
    with pytest.raises(CommandError) as info:
        Session(at_prompt).execute(line)
    assert str(info.value) == message


def test_a_future_whose_type_the_dwarf_lacks_is_one_line(at_prompt):
    m = at_prompt
    s = Session(m)
    model = read_async_tasks(m, m.image)
    shell = model.task(3)
    from rustos_dbg import dwarf

    slot = dwarf.load(m.image).value(m, "RUSTOS_EXECUTOR")["data"]["value"]["tasks"][shell.task.slot]
    field = slot["future_vtable"].address
    saved = m.read_virtual(field, 8)
    try:
        m.write_virtual(field, struct.pack("<Q", m.symbols.find("RUSTOS_TICKS").address))  # no vtable there
        text = s.execute("task 3")
        assert "async backtrace:\n  no DWARF for this future's type" in text
        assert "task 3 (shell) waiting: no DWARF for this future's type" in s.execute("tasks")
    finally:
        m.write_virtual(field, saved)
    assert "no DWARF" not in s.execute("task 3")


def test_info_locals_and_p_show_what_a_selected_task_keeps_across_its_await(at_prompt):
    at_prompt.send_keys("echo")  # typed, not entered: the shell's line buffer holds it
    at_prompt.run(max_instructions=3_000_000)
    session = Session(at_prompt)
    shell = next(t for t in read_async_tasks(at_prompt, at_prompt.image).tasks if t.task.name == "shell")
    session.execute(f"task {shell.task.id}")
    kept = session.execute("info locals")
    assert 'line = "echo"' in kept and "shell_task" in kept
    assert session.execute("p line") == 'line = "echo"'
    assert session.execute("p line.vec.len") == "line.vec.len = 4"
    assert "suspended future" in session.execute("info args")
    session.json = True
    rows = json.loads(session.execute("info locals"))["locals"]
    assert {"name": "line", "value": "echo"}.items() <= next(r for r in rows if r["name"] == "line").items()
    session.json = False
    session.execute("task none")
    # The task's kept `line` is no longer in scope (`p line` would now find the function rustos::fb::line).
    assert not re.search(r"^line = ", session.execute("info locals"), re.M)
    assert session.execute("p line") != 'line = "echo"'
