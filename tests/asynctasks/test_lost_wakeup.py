"""The walk-through "a task that never wakes" end to end: `fault lostwake` spawns three nappers
while serial input streams in; two wake and finish, the timer drops the third's waker. `check
every` stops at the lost wake-up; `tasks`, `task N` and `bt` show where it waits and that nothing
can wake it."""

import re
import struct

import pytest

from async_helpers import source_line
from rustos_dbg.inspect.kernel.asynctasks import read_async_tasks
from rustos_dbg.machine import Machine
from rustos_dbg.repl import Session
from rustos_dbg.repl.app import prompt_text
from rustos_dbg.testing import PROMPT, run_to_serial

pytestmark = pytest.mark.emulator

NAPPER = source_line("lostwake.rs", "nap(ms, lose).await")
NAP = source_line("lostwake.rs", "sleep.await")
LOAD = "echo " + "load " * 40


@pytest.fixture(scope="module")
def walk(kernel_elf):
    """The run of the walk-through: (session, first napper id, lost id, model while it still
    slept, the `continue` output)."""
    m = Machine.boot(kernel_elf)
    run_to_serial(m, PROMPT)
    s = Session(m)
    m.send_serial("fault lostwake\n")
    out = run_to_serial(m, PROMPT)
    found = re.search(r"fault lostwake: tasks (\d+)-(\d+) nap; the timer will drop task (\d+)'s waker", out)
    assert found, out
    first, lost = int(found.group(1)), int(found.group(2))
    assert int(found.group(3)) == lost
    m.send_serial(LOAD + "\n")  # the serial and shell tasks work while the nappers sleep
    run_to_serial(m, "napper: woke after")
    sleeping = read_async_tasks(m, m.image)
    assert s.execute("check every 1000000") == "checks every 1000000 instructions"
    stopped = s.execute("continue")
    s.execute("check every off")
    return s, first, lost, sleeping, stopped


def _ticks(m) -> int:
    return struct.unpack("<Q", m.read_virtual(m.symbols.find("RUSTOS_TICKS").address, 8))[0]


def test_before_its_deadline_the_timer_holds_the_sleepers_waker(walk):
    s, first, lost, sleeping, _ = walk
    napper = sleeping.task(lost)
    assert napper.task.state_name == "waiting" and not napper.lost
    (holder,) = napper.holders
    assert re.fullmatch(r"rustos::time::SLEEPERS\[\d+\]", holder.holder)
    assert struct.unpack("<Q", s.machine.read_virtual(holder.data, 8))[0] == lost  # its TaskWaker


def test_check_every_stops_at_the_lost_wake_up(walk):
    s, first, lost, sleeping, stopped = walk
    deadline = dict(sleeping.task(lost).awaits[-1].fields)["deadline"]
    assert (f"check every 1000000: wakers: FAILED: lost wake-up: nothing can wake task {lost} (napper), "
            f"waiting in lostwake::napper (src/lostwake.rs:{NAPPER}) -> lostwake::nap (src/lostwake.rs:{NAP}) "
            f"-> time::Sleep (deadline {deadline})") in stopped, stopped
    assert _ticks(s.machine) >= deadline
    # Nothing else failed on the way: the checks ran every million instructions while tasks came and went.
    assert stopped.count("FAILED") == 1


def test_the_others_were_created_and_finished(walk):
    s, first, lost, _, _ = walk
    m = s.machine
    model = read_async_tasks(m, m.image)
    assert [t.id for t in model.tasks if t.name == "napper"] == [lost]
    assert set(range(first, lost)).isdisjoint(t.id for t in model.tasks)
    assert model.executor.next_id == lost + 1 and model.executor.ok, model.executor.problems
    assert m.serial_output.count("napper: woke after") == lost - first
    for k in range(1, lost - first + 1):
        assert re.search(rf"napper: woke after {10 * k} ms", m.serial_output), m.serial_output[-400:]
    assert LOAD.split()[1] in m.serial_output  # the load was echoed meanwhile


def test_tasks_and_task_n_show_where_it_waits_and_that_nothing_can_wake_it(walk):
    s, first, lost, sleeping, _ = walk
    m = s.machine
    model = read_async_tasks(m, m.image)
    napper = model.task(lost)
    assert napper.lost and napper.holders == () and napper.refs == 1  # only the executor's cache
    text = s.execute("tasks")
    assert f"  lost wake-up: nothing can wake task {lost} (no waker for it is held anywhere" in text
    assert f"lost wake-ups: 1 (task {lost})" in text
    shown = s.execute(f"task {lost}").splitlines()
    deadline = dict(napper.awaits[-1].fields)["deadline"]
    levels = [line for line in shown if line.startswith("  #")]
    assert shown[1] == "async backtrace:"
    assert levels == [f"  #0  rustos::lostwake::napper (Suspend0) at src/lostwake.rs:{NAPPER}",
                      f"  #1  rustos::lostwake::nap (Suspend0) at src/lostwake.rs:{NAP}",
                      f"  #2  rustos::time::Sleep {{ deadline: {deadline} }}"]
    # nap keeps `start` (the tick it began at, used after the await): the tick its sleep was set from.
    kept = shown[shown.index(levels[1]) + 1]
    start = int(re.search(r"\bstart = (\d+)", kept).group(1))
    assert deadline - (lost - first + 1) * 10 - start in (0, 1)  # the last napper sleeps 30 ms = 30 ticks
    assert prompt_text(s) == f"(rustos-dbg task {lost} napper) "
    assert s.execute("bt").splitlines()[1:] == [line[2:] for line in levels]
    assert s.execute("check wakers").startswith(f"wakers: FAILED: lost wake-up: nothing can wake task {lost}")
