"""`help` lists every registered command with its usage; `help CMD` explains one;
aliases run the same commands."""

import pytest

from rustos_dbg.repl import REGISTRY, CommandError
from rustos_dbg.repl import commands  # noqa: F401  (registers the commands at collection time)

from .repl_helpers import elf_function, run, stop_icount

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(180)]


def test_help_lists_every_command_with_its_usage_and_help(session):
    text = run(session, "help")
    lines = text.splitlines()
    registered = REGISTRY.commands()
    assert len(registered) >= 30
    for cmd in registered:
        matching = [line for line in lines if line.startswith(f"  {cmd.usage} ") and line.rstrip().endswith(cmd.help)]
        assert len(matching) == 1, (cmd.name, cmd.usage)
    for name in ("break", "continue", "stepi", "finish", "next", "until", "watch", "catch", "type", "walk",
                 "idt", "tss", "bt", "maps", "heap", "tasks", "x", "help"):
        assert REGISTRY.find(name) is not None and REGISTRY.find(name).name == name
    for title in ("execution:", "hardware inspectors:", "kernel inspectors:", "general:"):
        assert title in lines


@pytest.mark.parametrize("name", sorted(c.name for c in REGISTRY.commands()))
def test_help_for_one_command_shows_usage_then_help(session, name):
    cmd = REGISTRY.find(name)
    text = run(session, f"help {name}")
    first, second = text.split("\n")
    assert first.startswith(f"usage: {cmd.usage}")
    for alias in cmd.aliases:
        assert alias in first
        assert run(session, f"help {alias}") == text
    assert second == cmd.help


def test_help_walk(session):
    assert run(session, "help walk") == (
        "usage: walk VADDR [user] [--pid N]\n"
        "the page walk of an address: entries, flags, permissions, or the #PF it raises "
        "(--pid N: in that process's address space)")
    with pytest.raises(CommandError, match="unknown command 'nosuch'"):
        session.execute("help nosuch")


def test_aliases_b_c_si(session, rustos_elf):
    machine = session.machine
    address, _ = elf_function(rustos_elf, "rustos::shell::commands::tasks")
    assert run(session, "b rustos::shell::commands::tasks") == f"breakpoint at {address:#x} <rustos::shell::commands::tasks>"
    assert run(session, "info breakpoints") == f"{address:#x} <rustos::shell::commands::tasks>"
    run(session, 'serial "tasks\\n"')
    report = run(session, "c")
    assert report.startswith(f"breakpoint at {address:#x}") and machine.reg("rip") == address
    icount = machine.icount
    assert stop_icount(run(session, "si")) == icount + 1 == machine.icount
    assert machine.reg("rip") == address + 1                      # past `push rbp`
    assert run(session, "d") == "all breakpoints removed"
    assert run(session, "backtrace").startswith("#0 ")
    assert run(session, "h walk") == run(session, "help walk")
