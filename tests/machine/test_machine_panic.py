"""Kernel panics as a stop kind: ``Machine.run`` returns a PANIC stop with the location,
message and backtrace; the pytest plugin puts them in a failing test's report."""

import os
import subprocess
import sys
import textwrap

import pytest

from rustos_dbg import StopKind
from rustos_dbg.testing import run_to_serial, SerialNotSeen

pytestmark = pytest.mark.emulator


def _panic_line(elf) -> int:
    source = elf.parent.parent / "kernel" / "src" / "shell" / "commands.rs"
    return next(i for i, text in enumerate(source.read_text().splitlines(), 1)
                if 'panic!("panic requested from the shell")' in text)


def test_run_returns_a_panic_stop_with_location_message_and_backtrace(rustos_machine, rustos_elf):
    m = rustos_machine
    assert m.catch_panic   # the fixture's shell machine catches panics
    m.send_serial("panic\r")
    stop = m.run(max_instructions=50_000_000)
    assert stop.kind is StopKind.PANIC
    assert stop.rip == m.symbols.find("rust_begin_unwind").address == m.reg("rip")
    panic = stop.panic
    assert (panic.file, panic.line, panic.message) == (
        "kernel/src/shell/commands.rs", _panic_line(rustos_elf), "panic requested from the shell")
    symbols = [symbol for _, symbol in panic.backtrace]
    assert symbols[0].endswith("rust_begin_unwind") and any("panic_cmd" in s for s in symbols), symbols
    assert stop.describe().startswith(f"panic at kernel/src/shell/commands.rs:{panic.line}: panic requested")
    assert m.last_stop is stop
    # Resuming runs the handler (no second stop at its entry): the kernel prints and halts.
    with pytest.raises(SerialNotSeen, match="hang"):
        run_to_serial(m, "never printed", max_instructions=20_000_000)
    assert "KERNEL PANIC: panicked at src/shell/commands.rs" in m.serial_output


def test_the_message_is_formatted_from_its_arguments_as_the_kernel_formats_it(rustos_machine):
    m = rustos_machine
    m.send_serial("panic hello world\r")
    stop = m.run(max_instructions=50_000_000)
    assert stop.kind is StopKind.PANIC
    expected = "panic requested from the shell: hello world (11 bytes)"   # a &str and a usize argument
    assert stop.panic.message == expected
    m.run(max_instructions=20_000_000)
    assert expected in m.serial_output    # the kernel's own formatting of the same message


def test_a_machine_without_the_catch_runs_through_the_handler(boot_machine):
    m = boot_machine()
    assert not m.catch_panic
    run_to_serial(m, "rustos> ")
    m.send_serial("panic\r")
    stop = m.run(max_instructions=50_000_000)
    assert stop.kind is StopKind.HANG and "KERNEL PANIC" in m.serial_output


def test_a_failing_test_whose_machine_panicked_shows_the_panic_in_its_report(tmp_path, rustos_elf):
    test = tmp_path / "test_panics.py"
    test.write_text(textwrap.dedent("""
        from rustos_dbg.testing import run_to_serial

        def test_shell_panics(rustos_machine):
            rustos_machine.send_serial("panic\\r")
            run_to_serial(rustos_machine, "this never comes")
    """))
    env = dict(os.environ, RUSTOS_ELF=str(rustos_elf))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "rustos_dbg.testing", "-p", "no:cacheprovider",
                             str(test)], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    line = _panic_line(rustos_elf)
    assert "rustos panic" in out, out                               # the report's section
    assert out.count(f"panic at kernel/src/shell/commands.rs:{line}: panic requested from the shell") >= 2, out
    assert "in rustos::shell::commands::panic_cmd" in out, out     # with the backtrace
