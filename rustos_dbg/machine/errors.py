"""Errors of the emulator that reach the user as one line.

Every error here has a message fit to print after ``error: `` and nothing
else; the CLI and the REPL print ``str(error)`` and never a traceback.
"""


class RustosDbgError(Exception):
    """Base class: an error with a one-line, user-facing message."""


class KernelImageError(RustosDbgError):
    """The kernel file is missing, unreadable or not a bootable RustOS ELF."""


class GuestMemoryError(RustosDbgError):
    """A guest address is not mapped (virtual) or outside RAM (physical)."""

    def __init__(self, message: str, address: int) -> None:
        super().__init__(message)
        self.address = address


class SymbolError(RustosDbgError):
    """A symbol name is not in the kernel's symbol table."""


class DiskImageError(RustosDbgError):
    """The disk image is missing, unreadable or not whole sectors."""


class InitrdError(RustosDbgError):
    """The ramdisk file is missing, unreadable or too big for the machine's RAM."""
