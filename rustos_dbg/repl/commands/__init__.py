"""The REPL's commands, one module per group; importing this registers them all."""

from . import control, gdbserver, inspectors, meta  # noqa: F401
