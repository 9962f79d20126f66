"""Failure bundles: a failing test's run reopened at the failure, from one data file."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.emulator

FAILING_TEST = '''
def test_uptime_then_a_wrong_assertion(rustos_machine):
    rustos_machine.send_keys("uptime\\n")
    rustos_machine.run(max_instructions=3_000_000)
    rustos_machine.send_serial("echo bundled\\r")
    rustos_machine.run(max_instructions=3_000_000)
    assert "never printed" in rustos_machine.serial_output
'''


def _debug(*args):
    return subprocess.run([sys.executable, "-m", "rustos_dbg", "debug", *map(str, args)],
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=300)


def test_a_failing_test_leaves_a_bundle_that_reopens_at_the_failure(rustos_elf, tmp_path):
    (tmp_path / "test_failing.py").write_text(FAILING_TEST)
    bundles = tmp_path / "bundles"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "rustos_dbg.testing", "-p", "no:cacheprovider",
                          "test_failing.py", "--rustos-bundles", str(bundles)], capture_output=True, timeout=300,
                         cwd=tmp_path, env={**os.environ, "RUSTOS_ELF": str(rustos_elf.resolve())})
    out = run.stdout.decode()
    assert run.returncode == 1, out[-3000:]
    [bundle] = bundles.iterdir()
    assert f"reopen at the failure: rustos-dbg debug --bundle {bundle}" in out
    data = json.loads(bundle.read_text())
    assert data["test"] == "test_failing.py::test_uptime_then_a_wrong_assertion"
    assert [bytes.fromhex(i["data"]) for i in data["inputs"]] == [b"uptime\n", b"echo bundled\r"]
    reopened = _debug("--bundle", bundle, "-ex", "when", "-ex", "output 2")
    text = reopened.stdout.decode()
    assert reopened.returncode == 0, reopened.stderr.decode()
    assert f"replayed to instruction {data['icount']}" in text and "matches the bundle's checkpoint" in text
    assert f"instruction {data['icount']} of 0-{data['icount']}" in text  # the history spans the run: time travel works
    assert "bundled" in text.split("the present", 1)[1]


def test_bad_bundles_are_one_line(rustos_elf, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    done = _debug("--bundle", bad)
    assert done.returncode == 2 and done.stderr.decode().count("\n") == 1 and "not a rustos-dbg bundle" in done.stderr.decode()
    good = {"format": "rustos-dbg bundle 1", "elf": str(rustos_elf.resolve()), "elf_sha256": "0" * 64, "cmdline": "",
            "ram_mb": 128, "disk": None, "inputs": [], "icount": 10, "report": "", "test": None, "digests": {},
            "created": ""}
    other = tmp_path / "other.json"
    other.write_text(json.dumps(good))
    done = _debug("--bundle", other)
    assert done.returncode == 2 and "is not the kernel the bundle ran" in done.stderr.decode()
    assert done.stderr.decode().count("\n") == 1
