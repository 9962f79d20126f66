"""The REPL's commands, one module per group; importing this registers them all."""

from . import control, inspectors, meta  # noqa: F401
