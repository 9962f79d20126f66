"""gdb's ``monitor`` callable (rustos_dbg.repl.monitor) on a real machine, without gdb:
inspection commands run, commands that move the machine are refused without moving it."""

from __future__ import annotations

import pytest

from rustos_dbg.machine import Machine
from rustos_dbg.repl import REGISTRY, CommandError, Session, commands  # noqa: F401  (registers them)
from rustos_dbg.repl.monitor import GdbMonitor
from rustos_dbg.repl.registry import Registry
from rustos_dbg.testing import PROMPT, run_to_serial

pytestmark = pytest.mark.emulator

#: The REPL commands that execute guest code or hand the machine over.
MOVING = {"continue", "stepi", "step", "next", "finish", "until", "gdbserver"}


@pytest.fixture(scope="module")
def monitor(kernel_elf):
    machine = Machine.boot(kernel_elf)
    run_to_serial(machine, PROMPT)  # the IDT is loaded
    gdb_monitor = GdbMonitor(Session(machine))

    def monitor(line):
        return "".join(gdb_monitor(line))   # its output, joined as gdb shows it

    monitor.session = gdb_monitor.session
    return monitor


def test_the_commands_that_move_the_machine_are_flagged():
    flagged = {c.name for c in REGISTRY.commands() if c.moves}
    assert MOVING <= flagged
    for cmd in REGISTRY.commands():
        if cmd.group in ("inspect", "kernel", "guest") or cmd.name in ("break", "watch", "catch", "where", "help"):
            assert not cmd.moves, cmd.name


def test_a_new_run_control_command_moves_unless_it_says_otherwise():
    registry = Registry()
    registry.command("goto", help="h", group="control")(lambda s, a: None)
    registry.command("mark", help="h", group="control", moves=False)(lambda s, a: None)
    registry.command("peek", help="h", group="inspect")(lambda s, a: None)
    assert [(c.name, c.moves) for c in registry.commands()] == [("goto", True), ("mark", False), ("peek", False)]


def test_every_moving_command_is_refused_without_moving(monitor):
    machine = monitor.session.machine
    where = (machine.reg("rip"), machine.icount, machine.regs())
    refused = 0
    for cmd in REGISTRY.commands():
        if not cmd.moves:
            continue
        for word in (cmd.name, *cmd.aliases):
            with pytest.raises(CommandError) as info:
                monitor(f"{word} 1")
            message = str(info.value)
            assert message.startswith(f"monitor {word}: the machine is gdb's; ") and "\n" not in message
            refused += 1
    assert refused >= len(MOVING)
    assert (machine.reg("rip"), machine.icount, machine.regs()) == where


@pytest.mark.parametrize("line, gdb_command", [
    ("stepi", "`stepi`"), ("si 3", "`stepi`"), ("next", "`next`"), ("c", "`continue`"),
    ("until kernel_main", "`advance LOCATION`"), ("finish", "`finish`"), ("gdbserver :1235", "`detach`"),
])
def test_the_refusal_names_what_to_use_in_gdb(monitor, line, gdb_command):
    with pytest.raises(CommandError, match=gdb_command):
        monitor(line)


def test_inspection_commands_run_and_bad_ones_are_one_line_errors(monitor):
    assert monitor("idt 14").split()[0] == "14"
    assert "rip" in monitor("regs")
    rip = monitor.session.machine.reg("rip")
    assert monitor("x/2gx $rip").startswith(f"{rip:#x}: ")  # gdb's x/FMT form reaches the command
    assert monitor("") == ""
    with pytest.raises(CommandError, match="unknown command 'frobnicate'"):
        monitor("frobnicate")
    with pytest.raises(CommandError) as info:
        monitor("idt banana")
    assert "\n" not in str(info.value)
