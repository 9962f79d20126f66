"""QEMU's isa-debug-exit device (``-device isa-debug-exit,iobase=0xf4,iosize=0x04``).

A guest write of value ``v`` (any width, any of the ports 0xF4-0xF7) asks
to end the emulation with exit code ``(v << 1) | 1``, as QEMU's
``exit((val << 1) | 1)`` does: ``code`` keeps that full value, ``status``
the low 8 bits a shell would see, and ``exited`` becomes True for the
machine to check after the instruction.  The first write wins.  Reads return
0, as in QEMU.  Conventional kernel codes: 0x10 success -> 33, 0x11 failure
-> 35.

State: ``exited``, ``value`` and ``code`` (``state_fields``), captured by
the inherited ``snapshot()`` and put back by ``restore()``, so going back in
time before the exit request forgets it.
"""

from __future__ import annotations

from typing import Callable

from .base import Device

DEBUG_EXIT_PORT = 0xF4


def exit_code(value: int) -> int:
    """The process exit code QEMU derives from a written value."""
    return (value << 1) | 1


class DebugExit(Device):
    """Records the exit request of the guest."""

    name = "debug_exit"
    access_sizes = (1, 2, 4)
    state_fields = ("exited", "value", "code")

    def __init__(self, base: int = DEBUG_EXIT_PORT, iosize: int = 4,
                 on_exit: Callable[[int], None] | None = None) -> None:
        """Own ``iosize`` ports from ``base``; ``on_exit(code)`` is optional."""
        super().__init__()
        self.ports = tuple(range(base, base + iosize))
        self.on_exit = on_exit
        self.exited = False
        self.value: int | None = None
        self.code: int | None = None

    @property
    def status(self) -> int | None:
        """The exit status a host process would report (code & 0xff)."""
        return None if self.code is None else self.code & 0xFF

    def read(self, port: int, size: int) -> int:
        """Reads return 0 (QEMU's debug_exit_read)."""
        return 0

    def write(self, port: int, size: int, value: int) -> None:
        """Record the exit request (the first one wins)."""
        if self.exited:
            return
        self.exited, self.value, self.code = True, value, exit_code(value)
        if self.on_exit is not None:
            self.on_exit(self.code)
