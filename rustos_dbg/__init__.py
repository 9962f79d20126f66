"""rustos-dbg: an emulated PC that runs RustOS, with inspectors, a REPL and a GDB stub.

``from rustos_dbg import Machine`` is the entry point for scripts and tests.
"""

import importlib

from .machine import GuestMemoryError, KernelImageError, Machine, RustosDbgError, Stop, StopKind, SymbolError
from .machine import checking as _checking
from .machine import panics as _panics

# Machine.check / Machine.bisect import the invariants (and the inspectors) when first used;
# a caught panic imports its decoder when first decoded.
_checking.install_loader(lambda: importlib.import_module(".inspect.invariants", __name__))
_panics.install_loader(lambda: importlib.import_module(".inspect.kernel.panic", __name__))

__all__ = ["Machine", "Stop", "StopKind", "RustosDbgError", "KernelImageError", "GuestMemoryError", "SymbolError"]
