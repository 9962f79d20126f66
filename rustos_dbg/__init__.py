"""rustos-dbg: an emulated PC that runs RustOS, with inspectors, a REPL and a GDB stub.

``from rustos_dbg import Machine`` is the entry point for scripts and tests.
"""

from .machine import GuestMemoryError, KernelImageError, Machine, RustosDbgError, Stop, StopKind, SymbolError
from .inspect import invariants as _invariants  # noqa: F401 (installs Machine.check / Machine.bisect)

__all__ = ["Machine", "Stop", "StopKind", "RustosDbgError", "KernelImageError", "GuestMemoryError", "SymbolError"]
