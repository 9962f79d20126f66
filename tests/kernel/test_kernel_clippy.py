"""clippy enforces the kernel's unsafe discipline (docs/kernel-layers.md): the crate
roots deny ``clippy::undocumented_unsafe_blocks`` and ``clippy::missing_safety_doc``,
and scripts/lint-kernel runs clippy over the kernel as it is built."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = ROOT / "scripts" / "lint-kernel"
NO_CLIPPY = 3


def lint(manifest: Path) -> subprocess.CompletedProcess:
    env = {"CARGO_TARGET_DIR": str(ROOT / "kernel" / "target" / "clippy")}
    proc = subprocess.run([str(LINT), str(manifest)], capture_output=True, text=True, timeout=1200,
                          env={**__import__("os").environ, **env}, stdin=subprocess.DEVNULL)
    if proc.returncode == NO_CLIPPY:
        pytest.skip(proc.stderr.strip())
    return proc


def test_the_kernel_passes_clippy():
    proc = lint(ROOT / "kernel" / "Cargo.toml")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Finished" in proc.stderr


def test_clippy_rejects_an_unsafe_block_without_a_safety_comment(tmp_path):
    copy = tmp_path / "kernel"
    shutil.copytree(ROOT / "kernel", copy, ignore=shutil.ignore_patterns("target"))
    cpu = copy / "src" / "cpu.rs"
    lines = cpu.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if "// SAFETY:" in line)
    assert "unsafe" in "".join(lines[at:at + 3])
    cpu.write_text("".join(lines[:at] + lines[at + 1:]))
    proc = lint(copy / "Cargo.toml")
    assert proc.returncode != 0
    assert "unsafe block missing a safety comment" in proc.stderr and "src/cpu.rs" in proc.stderr, proc.stderr[-3000:]
