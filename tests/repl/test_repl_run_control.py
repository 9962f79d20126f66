"""Run control of the REPL: `step N`/`next N`, stepping where there is no line
information, the per-command limits of batch runs, and `run` (reboot, keeping
breakpoints, watchpoints and catches)."""

import re

import pytest

from rustos_dbg import Machine, StopKind
from rustos_dbg.repl import Session
from rustos_dbg.testing import PROMPT, run_to_serial

from .repl_helpers import elf_function, elf_symbol, error_lines, run, run_cli, stop_icount

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(240)]

HEAP_CMD = "rustos::shell::commands::heap_cmd"


def _at_heap_cmd(machine):
    """A session stopped at heap_cmd after typing `heap` (no breakpoint left)."""
    session = Session(machine)
    run(session, 'serial "heap\\n"')
    assert run(session, f"until {HEAP_CMD}").startswith("breakpoint at")
    return session


def _where(machine):
    return machine.reg("rip"), machine.reg("rsp"), machine.icount


@pytest.mark.parametrize("word", ["next", "step"])
def test_step_n_runs_n_lines_as_n_single_steps(rustos_machine, boot_machine, word):
    many = _at_heap_cmd(rustos_machine)
    one = boot_machine()
    run_to_serial(one, PROMPT)
    single = _at_heap_cmd(one)
    assert _where(many.machine) == _where(single.machine)
    report = run(many, f"{word} 3")
    lines = []
    for _ in range(3):
        text = run(single, word)
        lines.append(text.splitlines()[-1])
        assert re.search(r"\.rs:\d+$", lines[-1]), text
    assert _where(many.machine) == _where(single.machine)
    assert report.splitlines()[-1] == lines[-1]
    assert stop_icount(report) == single.machine.icount
    assert len(set(lines)) > 1 or word == "step", lines     # three lines, not one line three times


def test_step_and_next_without_line_information_execute_one_instruction(rustos_elf):
    machine = Machine.boot(rustos_elf)
    session = Session(machine)
    entry = machine.reg("rip")
    assert machine.symbolize(entry) == "pvh_start32"              # the ELF entry, assembly: no line table rows
    report = run(session, "next")
    assert report.startswith("no line information at pvh_start32: executed one instruction\n"), report
    assert machine.icount == 1 and machine.reg("rip") > entry
    report = run(session, "step 2")
    assert "no line information at pvh_start32+" in report and machine.icount == 3, report


def test_batch_until_an_address_never_reached_ends_at_the_limit(rustos_elf):
    done = run_cli(rustos_elf, "info limit", "set limit instructions 3000000", "until 0", "where",
                   "set limit instructions none", "info limit")
    assert (done.returncode, error_lines(done.stderr)) == (0, []), done.stderr
    out = done.stdout
    assert out.startswith("limit per command: 100000000 instructions, 60 s\n"), out   # the documented default
    stop = re.search(r"^instruction-limit at (0x[0-9a-f]+) after (\d+) instructions: the command's limit of "
                     r"3000000 instructions is reached \(set limit instructions N\|none changes it\)$", out, re.M)
    assert stop, out
    assert int(stop.group(2)) == 3_000_000                          # counted from the command's start (0)
    assert f"(after {stop.group(2)} instructions)" in out            # `where` ran next, at the same place
    assert out.rstrip().endswith("limit per command: 60 s"), out


def test_interactive_sessions_have_no_limit_and_bad_limits_are_errors(session):
    assert run(session, "info limit") == "limit per command: none"
    for bad, needle in [("set limit instructions 0", "positive"), ("set limit bananas 3", "unknown limit"),
                        ("set limit seconds x", "malformed"), ("set frob", "usage: set limit")]:
        with pytest.raises(Exception) as info:
            session.execute(bad)
        assert needle in str(info.value), (bad, info.value)


def test_run_reboots_the_same_image_and_keeps_the_debugger_settings(session, rustos_elf):
    old = session.machine
    main, _ = elf_symbol(rustos_elf, "kernel_main")
    ticks, _ = elf_symbol(rustos_elf, "RUSTOS_TICKS")
    heap_cmd, _ = elf_function(rustos_elf, HEAP_CMD)
    run(session, f"break {HEAP_CMD} if $rsi == 77")
    run(session, "break kernel_main")
    run(session, "watch RUSTOS_TICKS 8 if *RUSTOS_TICKS == 5")
    run(session, "catch pf")
    assert old.icount > 0 and PROMPT in old.serial_output

    report = run(session, "run")
    new = session.machine
    assert new is not old and new.image is old.image                 # the parsed ELF is reused
    assert (new.cmdline, new.ram_bytes, new.mode) == (old.cmdline, old.ram_bytes, old.mode)
    first, rest = report.split("\n", 1)
    assert first == (f"rebooted {old.image.path} (command line '{old.cmdline}', {old.ram_bytes >> 20} MiB, "
                     f"{old.mode}); kept 2 breakpoint(s), 1 watchpoint(s), catching 14"), first
    # it ran, as gdb's run does, to the first breakpoint: the same count as a fresh boot's
    fresh = Machine.boot(rustos_elf, cmdline=old.cmdline)
    expected = fresh.run(until="kernel_main")
    assert expected.kind is StopKind.BREAKPOINT
    assert rest.startswith(f"breakpoint at {main:#x} after {expected.icount} instructions"), rest
    assert new.serial_output == "" and new.icount == expected.icount
    assert run(session, "info breakpoints") == "\n".join(line for _, line in sorted([   # in address order
        (heap_cmd, f"{heap_cmd:#x} <{HEAP_CMD}>  if $rsi == 77"), (main, f"{main:#x} <kernel_main>")]))
    # (pending if the boot page tables do not map it yet: armed as soon as they do)
    watches = run(session, "info watchpoints")
    assert watches.startswith(f"write  {ticks:#x} (8 bytes) <RUSTOS_TICKS>  if *RUSTOS_TICKS == 5"), watches
    assert run(session, "info catch") == "catching: 14"
    # the kept watchpoint works on the new machine, with its condition
    report = run(session, "continue")
    assert report.startswith(f"watchpoint (write) on {ticks:#x}"), report
    assert "old 0x4 -> new 0x5" in report, report
