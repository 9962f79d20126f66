"""Fixtures of the GDB acceptance tests: a gdb factory and a served machine.

The project runs pytest with ``--import-mode=importlib``, which does not put
test folders on ``sys.path``: this adds this one, for ``gdb_mi_driver``, and
``tests/gdbstub`` for its raw protocol client (``gdbstub_fakes.RawClient``).
"""

import pathlib
import sys

import pytest

_HERE = str(pathlib.Path(__file__).resolve().parent)
for _path in (_HERE, str(pathlib.Path(_HERE).parent / "gdbstub")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from gdb_mi_driver import Gdb, served_machine  # noqa: E402


@pytest.fixture
def gdb_factory(kernel_elf):
    """``gdb_factory()`` starts a gdb on the kernel ELF; all are ended after the test."""
    started = []

    def start():
        gdb = Gdb(kernel_elf)
        started.append(gdb)
        return gdb

    yield start
    for gdb in started:
        gdb.exit()


@pytest.fixture
def served(kernel_elf):
    """``(machine, target, server)``: RustOS at its prompt, served on an ephemeral port."""
    with served_machine(kernel_elf) as parts:
        yield parts
