"""Piped serial input (issue 9, defect 1): every line piped into `rustos-dbg run --headless`
is answered, as QEMU answers it, and the run replays exactly from its recording."""

import json
import re
import subprocess
import sys

import pytest
from qemu import run_qemu

LINES = 60
PIPED = b"".join(b"echo line-%d\n" % i for i in range(1, LINES + 1)) + b"halt\n"
ANSWERS = [f"line-{i}" for i in range(1, LINES + 1)]
EXIT_HALTED = 4


def answers(output: str) -> list[str]:
    """The lines the shell printed for the echo commands (not the echoed input lines)."""
    return re.findall(r"^(line-\d+)\r?$", output, re.M)


def rustos_dbg_headless(*args, stdin: bytes) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rustos_dbg", "run", *map(str, args), "--headless"],
                          input=stdin, capture_output=True, timeout=300)


@pytest.mark.emulator
def test_sixty_piped_echo_lines_are_all_answered_in_the_emulator(rustos_elf):
    done = rustos_dbg_headless(rustos_elf, "--timeout", "240", stdin=PIPED)
    out, err = done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    assert done.returncode == EXIT_HALTED, (done.returncode, err[-2000:])
    assert answers(out) == ANSWERS, out[-3000:]
    assert "halting the CPU" in out and "Traceback" not in err


@pytest.mark.qemu
def test_sixty_piped_echo_lines_are_all_answered_in_qemu(kernel_elf):
    run = run_qemu(kernel_elf, stdin=PIPED, until=r"halting the CPU", timeout=120)
    assert answers(run.output) == ANSWERS, run.output[-3000:]


@pytest.mark.emulator
def test_piped_input_replays_to_the_same_instruction(rustos_elf, tmp_path):
    recording = tmp_path / "piped.json"
    first = rustos_dbg_headless(rustos_elf, "--record", recording, "--timeout", "240", stdin=PIPED)
    assert first.returncode == EXIT_HALTED, first.stderr[-2000:]
    inputs = json.loads(recording.read_text())["inputs"]
    assert b"".join(bytes.fromhex(i["data"]) for i in inputs) == PIPED
    replay = rustos_dbg_headless(rustos_elf, "--replay", recording, "--timeout", "240", stdin=b"")
    assert replay.returncode == EXIT_HALTED, replay.stderr[-2000:]
    assert replay.stdout == first.stdout
    assert answers(replay.stdout.decode()) == ANSWERS
    halted = first.stderr.decode().splitlines()[0]
    assert "after " in halted and replay.stderr.decode().splitlines()[0] == halted  # same instruction count
