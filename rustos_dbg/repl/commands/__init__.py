"""The REPL's commands, one module per group; importing this registers them all."""

from . import (  # noqa: F401
    asynctasks, control, gdbserver, guest, inspectors, invariants, meta, qemu, stepping, syscalls, threads, timetravel,
    values, verdicts,
)
