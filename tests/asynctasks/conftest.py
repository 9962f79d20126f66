"""Fixtures of the async-task tests; puts this folder on ``sys.path`` for ``async_helpers``
(the suite imports test folders with ``--import-mode=importlib``)."""

import os
import sys

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


@pytest.fixture
def at_prompt(rustos_machine):
    """A fresh machine at ``rustos> ``."""
    return rustos_machine
