"""MonitorJob: a monitor command on its own thread, abandoned on request."""

from __future__ import annotations

import threading

import pytest

from rustos_dbg.gdb.monitorjob import ABORTED_TEXT, MonitorJob


def test_abort_ends_a_busy_command_and_its_thread():
    started = threading.Event()
    threads = []

    def busy(command):
        threads.append(threading.current_thread())
        started.set()
        n = 0
        while True:  # pure Python: ends only by the abort's exception
            n += 1

    job = MonitorJob(busy)
    threading.Timer(0.0, lambda: (started.wait(10), job.abort())).start()
    assert job.run("spin") == ABORTED_TEXT
    threads[0].join(timeout=10)
    assert not threads[0].is_alive()


def test_a_finished_command_answers_and_errors_come_back():
    def answer(command):
        if command == "bad":
            raise ValueError("bad command")
        return f"ran {command}"

    job = MonitorJob(answer)
    assert job.run("x") == "ran x"
    job.abort()  # nothing runs: no effect on the next command
    assert job.run("y") == "ran y"
    with pytest.raises(ValueError, match="bad command"):
        job.run("bad")
