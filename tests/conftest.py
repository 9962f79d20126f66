"""Shared fixtures: those of the ``rustos_dbg.testing`` plugin, and ``kernel_elf``."""

from pathlib import Path

import pytest

pytest_plugins = ["rustos_dbg.testing"]


@pytest.fixture(scope="session")
def kernel_elf(rustos_elf) -> Path:
    """The kernel ELF (``$RUSTOS_ELF`` or build/rustos.elf, built when missing)."""
    return rustos_elf
