"""Coverage as lcov: executed kernel lines marked, others listed with 0, genhtml accepts it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.emulator

KERNEL_SRC = Path(__file__).resolve().parents[2] / "kernel" / "src"


def _records(text: str) -> dict[str, dict[int, int]]:
    files: dict[str, dict[int, int]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("SF:"):
            current = files.setdefault(line[3:], {})
        elif line.startswith("DA:"):
            number, hit = line[3:].split(",")
            current[int(number)] = int(hit)
    return files


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


def test_coverage_of_the_bench_run_marks_what_ran_and_genhtml_accepts_it(rustos_elf, tmp_path):
    info = tmp_path / "bench.info"
    done = subprocess.run([sys.executable, "-m", "rustos_dbg", "run", str(rustos_elf.resolve()), "--headless",
                           "--append", "bench=1", "--coverage", str(info)],
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    files = _records(info.read_text())
    bench, fault = KERNEL_SRC / "bench.rs", KERNEL_SRC / "fault.rs"
    assert files[str(bench)][_line_of(bench, "sieve[m / 64] |= 1")] == 1
    assert files[str(bench)][_line_of(bench, "x ^= x << 13")] == 1
    # No fault is planted in a bench boot: fault.rs is listed, every line with 0.
    assert files[str(fault)] and not any(files[str(fault)].values())
    assert all(Path(name).is_file() for name in files)
    genhtml = shutil.which("genhtml")
    if genhtml is None:
        pytest.skip("genhtml (Debian's lcov) is not installed; scripts/test installs it")
    html = subprocess.run([genhtml, "-q", "-o", str(tmp_path / "html"), str(info)], capture_output=True, timeout=300)
    assert html.returncode == 0, html.stderr.decode()[-2000:]
    assert (tmp_path / "html" / "index.html").is_file()


def test_the_pytest_plugin_writes_one_tracefile_for_the_session(rustos_elf, tmp_path):
    (tmp_path / "test_boot.py").write_text(
        "def test_prompt(rustos_machine):\n"
        "    assert 'rustos> ' in rustos_machine.serial_output\n")
    info = tmp_path / "session.info"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "rustos_dbg.testing", "-p", "no:cacheprovider",
                           str(tmp_path / "test_boot.py"), "--rustos-coverage", str(info)],
                          capture_output=True, timeout=300, cwd=tmp_path, env={**_env(), "RUSTOS_ELF": str(rustos_elf.resolve())})
    assert done.returncode == 0, done.stdout.decode()[-2000:]
    files = _records(info.read_text())
    shell = next(name for name in files if name.endswith("kernel/src/main.rs"))
    assert any(files[shell].values()) and not all(files[shell].values())


def _env() -> dict:
    import os

    return dict(os.environ)
