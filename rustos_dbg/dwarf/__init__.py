"""DWARF of the kernel ELF: statics and types by Rust name, and typed guest values.

Contract:

* :func:`load` (``elf``) returns the :class:`DebugInfo` of the ELF it is
  given: a ``KernelImage`` (a machine's ``machine.image``) or the path of a
  kernel ELF (:mod:`.source`; there is no default kernel: ``None`` is a
  :class:`DwarfError`, a missing file a ``KernelImageError``). The DIEs are
  read in one pass (:mod:`.index`) from the image's one parse of the ELF, the
  first time they are needed, and the result is kept on the image: one parse
  per machine (and per unchanged kernel file), a rebuilt kernel is re-read.
  The built lookup is also cached on disk, keyed by the ELF's hash
  (:mod:`.cache`): a later process on the same kernel loads it instead of
  reading the DIEs.
* ``info.variable("RUSTOS_HEAP")`` -> :class:`Variable` (qualified name,
  address, :class:`Type`); ``info.type("rustos::heap::KernelHeap")`` ->
  :class:`Type` (see :mod:`.types` for names, kinds, members, variants);
  ``info.variables_at(addr)`` -> statics at an address (vtables).
* ``info.value(reader, "RUSTOS_HEAP")`` -> :class:`Value`, a lazily read
  typed view over a ``GuestReader`` (:mod:`.value`): ``v["data"]["value"]``,
  ``v["size"].int()``, ``v["next"].deref()``, ``v["heads"][3]``.

Unknown names raise :class:`DwarfError` (a ``RustosDbgError``: one line); guest reads raise
``GuestMemoryError``. Nothing here writes guest memory.
"""

from __future__ import annotations

from .cache import cached
from .index import build_index
from .debuginfo import DebugInfo, Variable
from .source import kernel_image
from .types import DwarfError, Member, Type, Variant, normalize, split_path
from .value import Value

__all__ = ["load", "DebugInfo", "DwarfError", "Member", "Type", "Variable", "Variant",
           "Value", "normalize", "split_path"]


def _indexed(image) -> DebugInfo:
    info = DebugInfo(build_index(image.elf, image.symbols), image.path)
    info.detach_symbols()  # the image has them; only what the DWARF says is cached
    return info


def _build(image) -> DebugInfo:
    info = cached(image, "debuginfo", _indexed)
    info.attach_symbols(image.symbols, image.path)
    return info


def load(elf) -> DebugInfo:
    """The debug info of ``elf`` (a ``KernelImage`` or a kernel ELF path), built once per image."""
    return kernel_image(elf).derived("dwarf", _build)
