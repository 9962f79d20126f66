"""The QEMU extensions of :class:`~.target.MachineTarget` (gdbstub's optional capabilities).

Contract: :class:`QemuExtensions` gives the target the two capabilities that
kernel-debugging gdb extensions (gef) test for to recognise a QEMU system
target (:mod:`gdbstub.qemu`):

* single-step flags (``qqemu.sstep``, default ``ENABLE|NOIRQ|NOTIMER`` = 7 as
  QEMU's): accepted and reported, but they do not change how a step runs.
  A gdb step already holds interrupts off (NOIRQ, NOTIMER) unless the CPU
  waits in HLT or the history is recorded; there an interrupt due at an
  instruction count is delivered at it, stepping or not, because masking it
  would make the run differ from the same run without gdb (determinism).
* physical memory (``Qqemu.PhyMemMode:1``): ``m`` reads guest RAM at physical
  addresses up to its end (nothing readable: ``E0e``), ``M``/``X`` write it
  (beyond RAM: ``E0e``).
"""

from __future__ import annotations

from gdbstub import Errno, TargetError
from gdbstub.qemu import SSTEP_ENABLE, SSTEP_NOIRQ, SSTEP_NOTIMER

from ..machine import GuestMemoryError


class QemuExtensions:
    """Mixin of :class:`~.target.MachineTarget`: QEMU's sstep flags and physical memory."""

    _sstep = SSTEP_ENABLE | SSTEP_NOIRQ | SSTEP_NOTIMER

    def sstep_flags(self) -> int:
        """QEMU's single-step flags as last set (see the module: reported, not applied)."""
        return self._sstep

    def set_sstep_flags(self, flags: int) -> bool:
        """Accepts any combination of QEMU's three flags."""
        if flags & ~(SSTEP_ENABLE | SSTEP_NOIRQ | SSTEP_NOTIMER):
            return False
        self._sstep = flags
        return True

    def read_physical(self, address: int, length: int) -> bytes:
        """Guest RAM at physical ``address``, cut at the end of RAM."""
        self._attach()
        length = min(length, self.machine.ram_bytes - address)
        if length <= 0:
            raise TargetError(f"physical {address:#x} is beyond RAM", Errno.EFAULT)
        try:
            return self.machine.read_physical(address, length)
        except GuestMemoryError as e:
            raise TargetError(str(e), Errno.EFAULT) from None

    def write_physical(self, address: int, data: bytes) -> None:
        """Writes guest RAM at physical ``address`` (all of it inside RAM, or nothing)."""
        self._attach()
        if address + len(data) > self.machine.ram_bytes:
            raise TargetError(f"physical {address:#x}+{len(data)} is beyond RAM", Errno.EFAULT)
        self._invalidate()  # page tables may change
        try:
            self.machine.write_physical(address, bytes(data))
        except GuestMemoryError as e:
            raise TargetError(str(e), Errno.EFAULT) from None
