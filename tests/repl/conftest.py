"""Fixtures of the REPL acceptance tests: a Session on a fresh machine at the shell prompt."""

import pytest

from rustos_dbg.repl import Session


@pytest.fixture
def session(rustos_machine):
    """A text-mode Session on a fresh deterministic machine at ``rustos> ``, catching
    nothing (as ``rustos-dbg debug`` starts; the plugin's machine catches panics)."""
    rustos_machine.catch_panic = False
    return Session(rustos_machine)
