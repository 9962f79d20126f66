"""Deterministic mode: the same kernel, command line and inputs give the same run."""

import pytest

from rustos_dbg import StopKind
from rustos_dbg.testing import PROMPT, run_to_serial

pytestmark = pytest.mark.emulator


def trace(machine):
    return [(e.icount, e.vector, e.rip) for e in machine.exception_log]


def test_kernel_suite_runs_identically_twice(boot_machine):
    runs = []
    for _ in range(2):
        machine = boot_machine("test")
        stop = machine.run(timeout=120)
        assert (stop.kind, stop.exit_code) == (StopKind.KERNEL_EXIT, 33), stop.describe()
        runs.append((stop.icount, stop.rip, machine.serial_output, trace(machine)))
    assert runs[0][0] > 0 and "passed, 0 failed" in runs[0][2]
    assert runs[0][0] == runs[1][0]
    assert runs[0][2] == runs[1][2]
    assert runs[0] == runs[1]


def test_kernel_suite_does_not_depend_on_how_the_run_is_sliced(boot_machine):
    whole = boot_machine("test")
    stop = whole.run(timeout=120)
    sliced = boot_machine("test")
    while (part := sliced.run(max_instructions=99_991, timeout=120)).kind is StopKind.INSTRUCTION_LIMIT:
        pass
    assert (part.kind, part.exit_code) == (stop.kind, stop.exit_code) == (StopKind.KERNEL_EXIT, 33)
    assert part.icount == stop.icount
    assert sliced.serial_output == whole.serial_output


def shell_session(boot_machine):
    machine = boot_machine()
    run_to_serial(machine, PROMPT)
    at_prompt = machine.icount
    machine.send_serial(b"tasks\n")
    tasks = run_to_serial(machine, PROMPT)
    machine.send_serial(b"uptime\n")
    uptime = run_to_serial(machine, PROMPT)
    assert "tasks:" in tasks and "uptime:" in uptime, tasks + uptime
    return at_prompt, machine.icount, machine.serial_output, trace(machine), machine.screen_text()


def test_shell_session_runs_identically_twice(boot_machine):
    first, second = shell_session(boot_machine), shell_session(boot_machine)
    assert first[0] == second[0] and first[1] == second[1]
    assert first[2] == second[2]
    assert first == second
