"""Bad input: one line "error: ..." each, and the session goes on (in-process
and through the real CLI in batch mode)."""

import os
import subprocess
import sys
import time

import pytest

from rustos_dbg.repl import CommandError

from .repl_helpers import ROOT, error_lines, run, run_cli

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(180)]

# (command line, a word the one-line message must contain)
BAD_LINES = [
    ("frobnicate", "unknown command 'frobnicate'"),
    ("walk 12z", "malformed number '12z'"),
    ("x/4gx zz", "'zz'"),
    ("x/4gx 0xdeadbeef000", "0xdeadbeef000"),
    ("break nosuch_symbol", "nosuch_symbol"),
    ("idt 300", "300"),
    ('type "abc', "quot"),
    ("x/4qx 0", "bad format"),
    ("walk $nosuchreg", "$nosuchreg"),
    ("catch 999", "999"),
    ("json maybe", "json on|off"),
    ("help nosuch", "nosuch"),
]


@pytest.mark.parametrize("line,needle", BAD_LINES, ids=[b[0] for b in BAD_LINES])
def test_bad_input_is_one_line_and_the_session_goes_on(session, line, needle):
    with pytest.raises(CommandError) as info:
        session.execute(line)
    message = str(info.value)
    assert "\n" not in message and message.strip() == message and message
    assert needle in message, message
    assert run(session, "sym kernel_main").startswith("kernel_main at 0x")
    assert run(session, "idt 14").startswith(" 14 #PF page fault")


def test_batch_mode_prints_one_error_line_per_bad_command_and_goes_on(rustos_elf):
    lines = [line for line, _ in BAD_LINES]
    done = run_cli(rustos_elf, *lines, "sym kernel_main")
    errors = error_lines(done.stderr)
    assert "Traceback" not in done.stderr
    assert len(errors) == len(lines), done.stderr
    for (line, needle), error in zip(BAD_LINES, errors):
        assert error.startswith("error: ") and needle in error, (line, error)
    assert "kernel_main at 0x" in done.stdout     # the command after them still ran
    assert done.returncode == 1


def test_batch_mode_exits_0_when_every_command_succeeds(rustos_elf):
    done = run_cli(rustos_elf, "sym kernel_main", "where")
    assert (done.returncode, error_lines(done.stderr)) == (0, [])
    assert "<pvh_start32>" in done.stdout and "(after 0 instructions)" in done.stdout


@pytest.mark.parametrize("argv,needle", [
    (["debug", "/etc/hostname", "-ex", "where"], "not an ELF"),
    (["debug", "/no/such/kernel.elf", "-ex", "where"], "/no/such/kernel.elf"),
    (["debug", "ELF", "-x", "/no/such/commands.txt"], "cannot read command file"),
    (["debug", "ELF", "--ram", "1", "-ex", "where"], "RAM size"),
    (["debug", "ELF", "--no-such-option"], "--no-such-option"),
], ids=["not-elf", "missing-elf", "missing-script", "tiny-ram", "bad-option"])
def test_bad_command_line_is_status_2_with_one_line(rustos_elf, argv, needle):
    argv = [str(rustos_elf) if a == "ELF" else a for a in argv]
    done = subprocess.run([sys.executable, "-m", "rustos_dbg", *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2, (done.stdout, done.stderr)
    errors = error_lines(done.stderr)
    assert len(errors) == 1 and errors[0].startswith("rustos-dbg: error: ") and needle in errors[0], done.stderr


# --- product bugs -----------------------------------------------------------------------

@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
def test_idt_vector_beyond_the_idt_limit_is_an_error_line(rustos_elf, json_output):
    # at the entry IDTR is the BIOS's {base 0, limit 0x3ff}: 64 gates of 16 bytes, vector 200 is beyond
    done = run_cli(rustos_elf, "idt 200", "sym kernel_main", json_output=json_output)
    assert "Traceback" not in done.stderr, done.stderr
    errors = error_lines(done.stderr)
    assert len(errors) == 1 and errors[0].startswith("error: ") and "200" in errors[0], done.stderr
    assert "kernel_main at 0x" in done.stdout   # the next command still runs
    assert done.returncode == 1


@pytest.mark.parametrize("count", ["0", "-1"])
def test_stepi_with_a_count_below_one_does_not_crash(session, rustos_elf, count):
    before = session.machine.icount
    try:
        session.execute(f"stepi {count}")
    except CommandError:
        pass                                  # an error line is fine; a crash is not
    assert session.machine.icount == before   # and nothing ran
    done = run_cli(rustos_elf, f"stepi {count}", "sym kernel_main")
    assert "Traceback" not in done.stderr, done.stderr
    assert "kernel_main at 0x" in done.stdout


def test_ctrl_c_during_stepi_stops_the_guest_not_the_debugger(rustos_elf, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    env = dict(os.environ, HOME=str(tmp_path), TERM="dumb")   # the history file goes to tmp_path
    child = pexpect.spawn(sys.executable, ["-m", "rustos_dbg", "debug", str(rustos_elf)], cwd=str(ROOT),
                          env=env, encoding="utf-8", timeout=60, dimensions=(40, 200))
    try:
        child.expect_exact("(rustos-dbg)")
        child.sendline("stepi 50000000")        # minutes of single steps
        time.sleep(1.0)
        child.sendintr()
        assert child.expect_exact(["(rustos-dbg)", pexpect.EOF]) == 0, repr(child.before)
        child.sendline("sym kernel_main")
        child.expect_exact("kernel_main at 0x")
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
