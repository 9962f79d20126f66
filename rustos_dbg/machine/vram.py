"""The standard VGA's video memory: 16 MiB of host memory that the guest sees at BAR0.

Contract: :class:`VideoMemory` owns the host buffer (a
:class:`~.dirty.TrackedRam` when the host can track writes, else an anonymous
mapping) and maps it into the engine at the physical address the PCI device
asks for (:meth:`map`; None unmaps it, as when memory decoding is off). The
device reads it by offset (:meth:`read`) whether mapped or not. Its state is
its contents, captured page by page like RAM (:mod:`.pages`): :meth:`snapshot`
/ :meth:`restore`; where it is mapped belongs to the PCI device's state.
"""

from __future__ import annotations

import ctypes
import mmap

from unicorn import UC_PROT_ALL

from .dirty import tracked_ram
from .pages import PageStore, RamState

#: QEMU's default for ``-device VGA`` (``vgamem_mb=16``).
VRAM_BYTES = 16 << 20


class VideoMemory:
    """The video memory of the standard VGA, mapped at its BAR."""

    def __init__(self, uc, size: int = VRAM_BYTES) -> None:
        """Host memory for ``size`` bytes, not mapped yet."""
        self.uc, self.size = uc, size
        self.tracked = tracked_ram(size)
        if self.tracked is not None:
            self.address = self.tracked.address
            self.tracked.keep_alive_with(uc)
        else:
            self._mmap = mmap.mmap(-1, size)
            self.address = ctypes.addressof(ctypes.c_char.from_buffer(self._mmap))
        #: Where the guest sees it (None: not mapped).
        self.base: int | None = None
        self._pages = PageStore(size, self.read, self.write, self.tracked)

    def map(self, base: int | None) -> bool:
        """Maps the memory at physical ``base`` (None: unmaps it); False when ``base``
        overlaps something mapped already (it then stays unmapped)."""
        if base == self.base:
            return True
        if self.base is not None:
            from unicorn.x86_const import UC_X86_REG_CR2

            cr2 = self.uc.reg_read(UC_X86_REG_CR2)  # the unmap's page walk may leave a #PF's CR2 behind
            self.uc.mem_unmap(self.base, self.size)
            self.uc.reg_write(UC_X86_REG_CR2, cr2)
            self.base = None
        if base is None:
            return True
        try:
            self.uc.mem_map_ptr(base, self.size, UC_PROT_ALL, self.address)
        except Exception:  # noqa: BLE001 - Unicorn's UcError: the range is taken
            return False
        self.base = base
        return True

    def read(self, offset: int, n: int) -> bytes:
        """``n`` bytes at ``offset`` (clipped to the memory)."""
        n = max(0, min(n, self.size - offset))
        return ctypes.string_at(self.address + offset, n)

    def write(self, offset: int, data: bytes) -> None:
        """Writes ``data`` at ``offset`` (the host buffer: visible to the guest at once)."""
        data = bytes(data)[:max(0, self.size - offset)]
        ctypes.memmove(self.address + offset, data, len(data))

    def fill(self, offset: int, n: int, byte: int = 0) -> None:
        """Sets ``n`` bytes at ``offset`` to ``byte`` (the device's clear on enable)."""
        n = max(0, min(n, self.size - offset))
        ctypes.memset(self.address + offset, byte, n)

    def snapshot(self) -> RamState:
        """The contents now, page by page."""
        return self._pages.snapshot()

    def restore(self, state: RamState) -> None:
        """Puts back contents from :meth:`snapshot`."""
        self._pages.restore(state)
