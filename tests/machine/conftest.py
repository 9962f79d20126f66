"""Fixtures of the machine tests."""

import pytest

from rustos_dbg import Machine
from rustos_dbg.testing import PROMPT


@pytest.fixture
def history_machine(rustos_elf):
    """A machine recording its history from the boot (a checkpoint every 1M instructions), at the prompt."""
    m = Machine.boot(rustos_elf, history=True)
    m.history.interval = 1_000_000
    assert m.run_until_serial(PROMPT, timeout=60) is None
    return m
