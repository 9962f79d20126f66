"""Determinism with a burst of serial input: the same run, instruction for
instruction, however it is sliced (breakpoints, single steps) while the UART's
receiver is full and host bytes wait for room."""

import pytest

from rustos_dbg import StopKind
from rustos_dbg.testing import PROMPT

pytestmark = pytest.mark.emulator

LINES = b"".join(f"echo line{i:02d}\n".encode() for i in range(40))
RUN = 3_000_000


def _trace(machine):
    return [(e.icount, e.vector, e.rip) for e in machine.exception_log]


def _finish(machine, end):
    while (stop := machine.run(max_instructions=end - machine.icount, timeout=120)).kind is not StopKind.INSTRUCTION_LIMIT:
        assert stop.kind in (StopKind.BREAKPOINT, StopKind.STEP), stop.describe()
    assert machine.icount == end
    return _trace(machine), machine.serial_output, machine.snapshot().digests()


def _at_prompt(boot_machine):
    machine = boot_machine()
    assert machine.run_until_serial(PROMPT, timeout=60) is None
    machine.send_serial(LINES)
    return machine


def test_piped_burst_runs_alike_with_breakpoints_and_steps(boot_machine):
    machine = _at_prompt(boot_machine)
    end = machine.icount + RUN
    plain = _finish(machine, end)
    assert "line05" in plain[1]

    stepped = _at_prompt(boot_machine)
    for name in ("rustos::shell::commands::execute", "trap_common"):
        stepped.breakpoints.add(stepped.resolve(name))
    for _ in range(200):   # single steps now and then, breakpoints all along
        assert stepped.step().kind in (StopKind.STEP, StopKind.BREAKPOINT)
        stop = stepped.run(max_instructions=7_919, timeout=60)
        assert stop.kind in (StopKind.INSTRUCTION_LIMIT, StopKind.BREAKPOINT), stop.describe()
    assert _finish(stepped, end) == plain


def test_piped_burst_does_not_depend_on_how_the_run_is_sliced(boot_machine):
    machine = _at_prompt(boot_machine)
    end = machine.icount + RUN
    plain = _finish(machine, end)
    sliced = _at_prompt(boot_machine)
    while sliced.icount < end:
        stop = sliced.run(max_instructions=min(997, end - sliced.icount), timeout=60)
        assert stop.kind is StopKind.INSTRUCTION_LIMIT, stop.describe()
    assert _finish(sliced, end) == plain
