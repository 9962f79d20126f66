"""The x86-64 facts every layer shares, declared once.

Contract: pure Python over :mod:`rustos_dbg.structs` (no Unicorn, no
emulator, no views). ``machine/``, ``inspect/`` and ``gdb/`` all import
from here; nothing here imports them.

* :mod:`.access`: the kinds of memory access (read, write, execute);
* :mod:`.paging`: the one 4-level (and 5-level) page walker, with the
  exception an access would raise (Intel SDM Vol. 3A §4.5-4.7);
* :mod:`.mappings`: every leaf mapping reachable from CR3;
* :mod:`.vectors`: the exception and interrupt vectors (mnemonic, name,
  class, error code, GDB signal; SDM Vol. 3A Table 6-1, 6-4, 6-5);
* :mod:`.msr`: the model-specific registers the debugger reads by name;
* :mod:`.layout`: RustOS's virtual address-space layout (docs/boot.md).
"""
