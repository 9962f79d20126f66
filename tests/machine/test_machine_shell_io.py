"""The shell through the PS/2 keyboard and VGA screen, and through COM1."""

import re

import pytest

from rustos_dbg.testing import PROMPT, run_to_serial

pytestmark = pytest.mark.emulator

COMMANDS = ("help", "echo", "clear", "info", "color", "page", "heap", "tasks",
            "uptime", "reboot", "halt", "panic", "wasm", "fault")
IRQ1_KEYBOARD, IRQ4_COM1 = 33, 36


def listed_commands(text: str) -> set[str]:
    """Command names of a `help` listing (after `commands:`, lines of one or two cells
    `NAME ARGS`, cells two or more spaces apart)."""
    assert "commands:" in text, text[-1500:]
    listing = text[text.index("commands:"):]
    return {name for name in COMMANDS if re.search(rf"(?:^ | {{2}}){name}(?: |\r?$)", listing, re.M)}


def irqs(machine, vector: int, since: int) -> int:
    return sum(1 for e in machine.exception_log[since:] if e.vector == vector)


def test_help_typed_on_the_keyboard_shows_on_screen_and_serial(rustos_machine):
    machine = rustos_machine
    log = len(machine.exception_log)
    machine.send_keys("help\n")
    output = run_to_serial(machine, PROMPT)
    screen = machine.screen_text()
    assert "rustos> help" in screen and "rustos> help" in machine.serial_output
    assert listed_commands(screen) == set(COMMANDS), screen
    assert listed_commands(output) == set(COMMANDS), output
    assert irqs(machine, IRQ1_KEYBOARD, log) >= len("help\n")  # a make and a break code per key
    assert irqs(machine, IRQ4_COM1, log) == 0


def test_help_sent_on_com1_shows_on_serial_and_screen(rustos_machine):
    machine = rustos_machine
    log = len(machine.exception_log)
    before = len(machine.serial_output)
    machine.send_serial(b"help\n")
    assert machine.run_until_serial(PROMPT, timeout=60) is None
    output = machine.serial_output[before:]
    assert output.startswith("help"), output  # the shell echoes the line
    assert listed_commands(output) == set(COMMANDS), output
    assert listed_commands(machine.screen_text()) == set(COMMANDS), machine.screen_text()
    assert irqs(machine, IRQ4_COM1, log) >= 1
    assert irqs(machine, IRQ1_KEYBOARD, log) == 0


def test_unknown_command_is_one_error_line(rustos_machine):
    machine = rustos_machine
    machine.send_keys("frobnicate now\n")
    output = run_to_serial(machine, PROMPT)
    assert [line for line in output.splitlines() if "error" in line] == ["error: unknown command 'frobnicate' (type `help`)"]
    machine.send_serial("echo still-alive\n")
    assert re.search(r"^still-alive\r?$", run_to_serial(machine, PROMPT), re.M)


def test_help_name_says_what_one_command_does(rustos_machine):
    machine = rustos_machine
    before = len(machine.serial_output)
    machine.send_serial(b"help draw\nhelp nope\n")
    assert machine.run_until_serial("help nope", timeout=60) is None
    assert machine.run_until_serial(PROMPT, timeout=60) is None
    output = machine.serial_output[before:].replace("\r", "")
    assert "  draw rect|line|circle|clear ...\n    draw on the framebuffer" in output, output
    assert "error: help: unknown command 'nope' (type `help`)\n" in output
