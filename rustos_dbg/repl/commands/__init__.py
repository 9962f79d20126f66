"""The REPL's commands, one module per group; importing this registers them all."""

from . import control, gdbserver, guest, inspectors, invariants, meta, qemu, stepping, syscalls, timetravel  # noqa: F401
