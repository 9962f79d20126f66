"""The deterministic profile: where the instructions went, the same on every run."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rustos_dbg.analysis.profile import Profiler

pytestmark = pytest.mark.emulator


def _folded(path) -> dict[str, int]:
    rows = {}
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        rows[stack] = int(count)
    return rows


def test_the_bench_workload_gets_its_share_and_every_instruction_is_charged(boot_machine):
    machine = boot_machine(cmdline="bench=3")
    profiler = Profiler(machine, interval=20_000)
    stop = profiler.run(timeout=300)
    profiler.finish()
    assert stop.kind.name == "KERNEL_EXIT"
    assert profiler.total == machine.icount  # charged from the entry (count 0) to the exit
    assert profiler.share("rustos_bench_workload") >= 0.9
    heaviest = profiler.folded().splitlines()[0]
    assert heaviest.split(" ")[0].endswith(";rustos_bench_workload")
    assert heaviest.startswith("kernel_entry;kernel_main;")  # outermost first


def test_the_cli_profile_is_the_same_file_on_every_run(rustos_elf, tmp_path):
    files = []
    for name in ("a.folded", "b.folded"):
        out = tmp_path / name
        done = subprocess.run([sys.executable, "-m", "rustos_dbg", "run", str(rustos_elf.resolve()), "--headless",
                               "--append", "bench=2", "--profile", str(out), "--profile-interval", "25000"],
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        files.append(out.read_bytes())
    assert files[0] == files[1]
    rows = _folded(tmp_path / "a.folded")
    total = sum(rows.values())
    bench = sum(c for s, c in rows.items() if "rustos_bench_workload" in s.split(";"))
    assert bench / total >= 0.85
    assert all(c % 25_000 == 0 for s, c in rows.items() if s.endswith(";rustos_bench_workload"))


@pytest.mark.parametrize("args, message", [
    (["--fast", "--profile", "p"], "--profile needs the deterministic mode"),
    (["--profile-interval", "10"], "--profile-interval needs --profile FILE"),
    (["--profile", "p", "--gdb", "127.0.0.1:0"], "--profile does not go with --gdb"),
    (["--profile", "p", "--profile-interval", "0"], "bad profile interval 0"),
    (["--coverage", "/no/such/dir/c.info"], "no such directory"),
])
def test_bad_profile_options_are_one_line(rustos_elf, tmp_path, args, message):
    done = subprocess.run([sys.executable, "-m", "rustos_dbg", "run", str(rustos_elf.resolve()), "--headless", *args],
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=120, cwd=tmp_path)
    err = done.stderr.decode()
    assert done.returncode == 2 and message in err and err.count("\n") == 1, err
