"""Translated code that must not go stale: programs loaded into reused frames, and
address spaces that map other code at the same virtual addresses.

Unicorn keeps translated blocks by physical page, but notices a write to one
only when it goes through the virtual address the code ran at. A kernel that
loads a program writes its frames through its own mapping of physical
memory, so a frame that held another program's code would run that code
again. And the deterministic clock decodes each block once per (virtual
address, size): two processes with different code at the same addresses
would share the decoding.

Contract: :class:`CodeCache` (machine) keeps both right, on real x86 terms (a
CPU needs no flush for either):

* every page a block is first decoded from is watched
  (:meth:`~.dirty.TrackedRam.watch_code`): its first write stops the engine
  at the next block, and before the next slice the machine drops all
  translated code and the clock's decodings (:meth:`after_slice`);
* every ``mov cr3, r64`` in the kernel's executable segments has a code hook:
  before a new address space takes effect, the clock forgets its decodings of
  lower-half (user) addresses; in the fast mode, which keeps no decodings but
  cannot watch pages either (it sees no block being decoded), the translated
  code is dropped at each switch instead.

Without dirty-page tracking (see :mod:`.dirty`) code pages are not watched:
a frame reused for new code can then run stale code in the deterministic mode.
"""

from __future__ import annotations

import ctypes
import re

from unicorn import UC_HOOK_CODE

from .blockcode import UC_PROT_EXEC, vmem_translate

PAGE = 4096
_USER_TOP = 1 << 47                       #: the lower half: user addresses
_MOV_CR3 = re.compile(rb"\x0f\x22[\xd8-\xdf]", re.DOTALL)   # MOV CR3, r64 (0F 22 /3, mod = 11)
_EXECUTABLE = 0x1                          #: PF_X


def mov_cr3_sites(segments) -> list[int]:
    """Addresses where a ``mov cr3, r64`` may start in executable ``segments``
    (a REX prefix before it starts the instruction there instead)."""
    sites = []
    for seg in segments:
        if not seg.flags & _EXECUTABLE:
            continue
        for match in _MOV_CR3.finditer(seg.data):
            at = match.start()
            rex = at > 0 and 0x40 <= seg.data[at - 1] <= 0x4F
            sites.append(seg.vaddr + at - 1 if rex else seg.vaddr + at)
    return sites


class CodeCache:
    """Keeps a machine's translated and decoded code in step with guest memory."""

    def __init__(self, machine) -> None:
        """Hooks the kernel's CR3 writes and, in the deterministic mode, the clock's new blocks."""
        self._m = machine
        self._paddr = ctypes.c_uint64()
        counter = machine.clock.counter
        ram = machine.memory.tracked
        if counter is not None and ram is not None:
            ram.stop_on_code_write(counter.limit_address)
            counter.new_block_observers.append(self._watch)
        self._hooks = [machine.uc.hook_add(UC_HOOK_CODE, self._on_cr3_write, None, site, site)
                       for site in mov_cr3_sites(machine.image.segments)]

    def _watch(self, pc: int, size: int) -> None:
        """A block was decoded from [pc, pc + size): watch the pages it lies on
        (translated by Unicorn's MMU, as the code was fetched)."""
        tracked, uch, paddr = self._m.memory.tracked, self._m.uc._uch, self._paddr
        for page in range(pc & ~(PAGE - 1), pc + size, PAGE):
            if vmem_translate(uch, page, UC_PROT_EXEC, ctypes.byref(paddr)) == 0:
                tracked.watch_code(paddr.value // PAGE)

    def _on_cr3_write(self, uc, _address, _size, _data) -> None:
        counter = self._m.clock.counter
        if counter is not None:
            counter.forget_range(0, _USER_TOP)
        else:
            uc.ctl_flush_tb()

    def after_slice(self) -> None:
        """Drops translated code and decodings when a watched code page was written."""
        m = self._m
        ram = m.memory.tracked
        if ram is not None and ram.code_written():
            m.uc.ctl_flush_tb()
            if m.clock.counter is not None:
                m.clock.counter.forget_code()
