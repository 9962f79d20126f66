"""Hardware inspectors: x86-64 structures of a stopped guest, decoded.

Contract (as for all of :mod:`rustos_dbg.inspect`): each inspector reads raw
bytes and registers through a :class:`~rustos_dbg.inspect.reader.GuestReader`
(``Machine`` or ``BytesReader``), builds a model of frozen dataclasses, and
offers view functions returning text plus ``to_json(model) -> str``.
Nothing here prints, imports ``construct`` (layouts come from
:mod:`rustos_dbg.structs`) or touches Unicorn.  Names come from an optional
``symbolize(addr) -> str`` callable and/or a symbol table (``find``,
``containing``, iteration over symbols with name/address/size).

Modules and their entry points:

=============  ==========================================  ======================
command        model                                       view
=============  ==========================================  ======================
``idt``        :func:`.idt.read_idt` -> ``Idt``             ``format_idt``
``gdt``        :func:`.gdt.read_gdt` -> ``Gdt``             ``format_gdt``
``tss``        :func:`.tss.read_tss` -> ``TssInfo``         ``format_tss``
``walk``       :func:`.pagewalk.walk_address` -> ``WalkReport``  ``format_walk``
``maps``       :func:`.maps.read_maps` -> ``MemoryMap``     ``format_maps``
``regs``       :func:`.regs.read_regs` -> ``GeneralRegisters``  ``format_regs``
``sregs``      :func:`.regs.read_sregs` -> ``SegmentRegisters``  ``format_sregs``
``cregs``      :func:`.cregs.read_cregs` -> ``ControlRegisters``  ``format_cregs``
``x``          :func:`.memdump.read_memory` -> ``MemoryDump``  ``format_dump``
``dis``        :func:`.dis.disassemble` -> ``Disassembly``  ``format_disassembly``
``bt``         :func:`.bt.backtrace` -> ``Backtrace``       ``format_backtrace``
``faults``     :func:`.faults.decode_faults` -> ``FaultLog``  ``format_faults``
``devices``    :func:`.devices.decode_devices` -> ``DeviceReport``  ``format_devices``
``handoff``    :func:`.handoff.read_handoff` -> ``Handoff``  ``format_handoff``
=============  ==========================================  ======================
"""

from .common import to_json

__all__ = ["to_json", "bt", "common", "cregs", "devices", "dis", "faults", "gdt", "idt",
           "maps", "memdump", "pagewalk", "regs", "tss"]

from . import bt, common, cregs, devices, dis, faults, gdt, idt, maps, memdump, pagewalk, regs, tss  # noqa: E402
