"""Determinism from the command line: a recorded session replays exactly."""

import json
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.emulator


def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "rustos_dbg", "run", *args], capture_output=True, timeout=120, **kw)


def test_recorded_session_replays_to_the_same_instruction(rustos_elf, tmp_path):
    recording = tmp_path / "session.json"
    proc = subprocess.Popen([sys.executable, "-m", "rustos_dbg", "run", str(rustos_elf), "--headless",
                             "--record", str(recording)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    # Input arrives at host-time-dependent moments: that is what the recording pins down.
    for line, pause in ((b"help\n", 0.3), (b"uptime\n", 0.4), (b"fault triple\n", 0.0)):
        proc.stdin.write(line)
        proc.stdin.flush()
        time.sleep(pause)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, err.decode()
    assert err.count(b"triple fault at") == 1  # the line once, then the chain
    inputs = json.loads(recording.read_text())["inputs"]
    assert [bytes.fromhex(i["data"]) for i in inputs] and b"".join(bytes.fromhex(i["data"]) for i in inputs) == b"help\nuptime\nfault triple\n"
    replay = _cli(str(rustos_elf), "--headless", "--replay", str(recording), stdin=subprocess.DEVNULL)
    assert replay.returncode == 3
    assert replay.stdout == out                         # identical serial output, uptime included
    assert replay.stderr.splitlines()[0] == err.splitlines()[0]   # the triple fault, same instruction count
    assert b"after " in err.splitlines()[0]


def test_replay_of_a_bad_file_is_one_error_line(rustos_elf, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = _cli(str(rustos_elf), "--headless", "--replay", str(bad))
    assert result.returncode == 2
    assert result.stderr.decode().count("\n") == 1 and "is not a rustos-dbg recording" in result.stderr.decode()
