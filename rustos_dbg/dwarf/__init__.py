"""DWARF of the kernel ELF: statics and types by Rust name, and typed guest values.

Contract:

* :func:`load` (``path``) returns the :class:`DebugInfo` of an ELF. The DIEs
  are read once (one pass, :mod:`.index`) and the result is cached per
  (real path, mtime, size): a rebuilt kernel is re-read, an unchanged one is
  not. A missing file raises ``FileNotFoundError``.
* ``info.variable("RUSTOS_HEAP")`` -> :class:`Variable` (qualified name,
  address, :class:`Type`); ``info.type("rustos::heap::KernelHeap")`` ->
  :class:`Type` (see :mod:`.types` for names, kinds, members, variants);
  ``info.variables_at(addr)`` -> statics at an address (vtables).
* ``info.value(reader, "RUSTOS_HEAP")`` -> :class:`Value`, a lazily read
  typed view over a ``GuestReader`` (:mod:`.value`): ``v["data"]["value"]``,
  ``v["size"].int()``, ``v["next"].deref()``, ``v["heads"][3]``.

Unknown names raise :class:`DwarfError`; guest reads raise
``GuestMemoryError``. Nothing here writes guest memory.
"""

from __future__ import annotations

import threading
from pathlib import Path

from .index import build_index
from .debuginfo import DebugInfo, Variable
from .types import DwarfError, Member, Type, Variant, normalize, split_path
from .value import Value
from ..kernelfile import default_elf

__all__ = ["load", "default_elf", "DebugInfo", "DwarfError", "Member", "Type", "Variable", "Variant",
           "Value", "normalize", "split_path"]

_CACHE: dict[tuple, DebugInfo] = {}
_LOCK = threading.Lock()


def load(path: str | Path | None = None) -> DebugInfo:
    """The debug info of the ELF at ``path`` (default :func:`default_elf`), cached by path+mtime."""
    real = Path(path if path is not None else default_elf()).resolve()
    st = real.stat()
    key = (str(real), st.st_mtime_ns, st.st_size)
    with _LOCK:
        info = _CACHE.get(key)
        if info is None:
            for old in [k for k in _CACHE if k[0] == key[0]]:
                del _CACHE[old]
            info = _CACHE[key] = DebugInfo(build_index(real), real)
        return info
