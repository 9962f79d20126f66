"""Shared fixtures: the kernel ELF, built once per session when missing."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest_plugins = ["rustos_dbg.testing"]


@pytest.fixture(scope="session")
def kernel_elf() -> Path:
    """Path of build/rustos.elf (RUSTOS_ELF overrides), built when missing."""
    path = Path(os.environ.get("RUSTOS_ELF", ROOT / "build" / "rustos.elf"))
    if not path.exists():
        subprocess.run([str(ROOT / "scripts" / "build-kernel")], check=True, stdout=subprocess.DEVNULL)
    return path
