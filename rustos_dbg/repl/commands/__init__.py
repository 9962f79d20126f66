"""The REPL's commands, one module per group; importing this registers them all."""

from . import control, gdbserver, guest, inspectors, invariants, meta, qemu, stepping, timetravel, verdicts  # noqa: F401
