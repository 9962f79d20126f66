"""The REPL's commands, one module per group; importing this registers them all."""

from . import asynctasks, control, gdbserver, guest, inspectors, invariants, meta, qemu, stepping, threads, timetravel  # noqa: F401
