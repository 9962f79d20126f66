"""The REPL's commands, one module per group; importing this registers them all."""

from . import control, gdbserver, guest, inspectors, invariants, meta, stepping, timetravel  # noqa: F401
