"""Fixtures of the REPL acceptance tests: a Session on a fresh machine at the shell prompt."""

import pytest

from rustos_dbg.repl import Session


@pytest.fixture
def session(rustos_machine):
    """A text-mode Session on a fresh deterministic machine at ``rustos> ``."""
    return Session(rustos_machine)
