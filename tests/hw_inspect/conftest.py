"""Fixtures: a booted RustOS machine at the shell prompt (shared, read-only)."""

from __future__ import annotations

import pytest

from .hw_helpers import boot_to_prompt


@pytest.fixture(scope="session")
def machine(kernel_elf):
    """A machine at the shell prompt; tests must not change its state (shell
    commands that only print are fine)."""
    return boot_to_prompt(kernel_elf)
