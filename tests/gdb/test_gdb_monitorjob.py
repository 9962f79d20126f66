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


def test_pieces_stream_as_they_are_made_and_closing_early_abandons_the_command():
    made = []
    release = threading.Event()

    def listing(command):
        for i in range(1000):
            made.append(i)
            if i == 1:
                release.wait(10)
            yield f"line {i}\n"

    job = MonitorJob(listing)
    stream = job.stream("dis")
    assert next(stream) == "line 0\n"        # before the command has made line 2
    assert len(made) <= 2
    release.set()
    assert next(stream) == "line 1\n"
    stream.close()                            # a consumer that has seen enough
    assert len(made) < 1000                    # the command stopped, it did not run to the end
    assert job.run("dis").startswith("line 0\nline 1\n")


def test_abort_of_a_streaming_command_ends_its_stream_with_the_note():
    started = threading.Event()

    def endless(command):
        started.set()
        while True:
            yield "x\n"

    job = MonitorJob(endless)
    threading.Timer(0.0, lambda: (started.wait(10), job.abort())).start()
    out = "".join(job.stream("spin"))
    assert out.endswith(ABORTED_TEXT) and set(out[: -len(ABORTED_TEXT)].split()) <= {"x"}
