"""Shared fixtures: those of the ``rustos_dbg.testing`` plugin, and ``kernel_elf``."""

from pathlib import Path

import pytest

pytest_plugins = ["rustos_dbg.testing"]


@pytest.fixture(scope="session")
def kernel_elf(rustos_elf) -> Path:
    """The kernel ELF (``$RUSTOS_ELF`` or build/rustos.elf, built when missing)."""
    return rustos_elf


LIMINE_SOURCES = ("tests/limine_kernel/src/main.rs", "tests/limine_kernel/linker.ld", "tests/limine_kernel/Cargo.toml",
                  "tests/limine_kernel/Cargo.lock")


@pytest.fixture(scope="session")
def limine_elf() -> Path:
    """The Limine test kernel (``$LIMINE_ELF`` or build/limine-test.elf), built with
    scripts/build-limine-kernel when missing or older than its sources."""
    import os
    import subprocess

    root = Path(__file__).resolve().parents[1]
    if os.environ.get("LIMINE_ELF"):
        return Path(os.environ["LIMINE_ELF"])
    elf = root / "build" / "limine-test.elf"
    newest = max((root / p).stat().st_mtime for p in LIMINE_SOURCES)
    if not elf.exists() or elf.stat().st_mtime < newest:
        done = subprocess.run([str(root / "scripts" / "build-limine-kernel")], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            pytest.fail(f"scripts/build-limine-kernel failed (status {done.returncode}): {last}", pytrace=False)
    return elf
