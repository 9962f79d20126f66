"""The Unicorn engine of a machine and the CPU view that delivery needs.

Contract: :func:`create_engine` returns an x86-64 Unicorn engine with RAM
mapped at physical 0 (the host memory of a :class:`~.dirty.TrackedRam` when
given, which the engine then keeps alive), the boot image written and the registers of the 64-bit
PVH entry set (docs/boot.md); :class:`CpuView` exposes registers and linear
memory to the :class:`~.delivery.Deliverer`.
"""

from __future__ import annotations

from unicorn import UC_ARCH_X86, UC_MODE_64, UC_PROT_ALL, Uc
from unicorn.x86_const import UC_X86_REG_FPCW, UC_X86_REG_MXCSR

from . import boot, registers


def create_engine(image, ram_bytes: int, cmdline: str, ram=None, initrd: bytes | None = None) -> Uc:
    """A new engine, booted to ``pvh_start64`` of ``image``, its RAM ``ram`` (a
    :class:`~.dirty.TrackedRam`) or Unicorn's own, with the ramdisk ``initrd``
    as the PVH module when given."""
    uc = Uc(UC_ARCH_X86, UC_MODE_64)
    if ram is not None:
        uc.mem_map_ptr(0, ram_bytes, UC_PROT_ALL, ram.address)
        uc.rustos_ram = ram  # unmapped only after the engine is gone
    else:
        uc.mem_map(0, ram_bytes, UC_PROT_ALL)
    for addr, data in boot.segment_blobs(image) + boot.boot_blobs(ram_bytes, cmdline, initrd):
        uc.mem_write(addr, data)
    state = boot.boot_state(image)
    registers.write(uc, "efer", state.efer)
    registers.write(uc, "cr3", state.cr3)
    registers.write(uc, "cr4", state.cr4)
    registers.write(uc, "cr0", state.cr0)
    registers.write(uc, "gdtr", (0, state.gdtr[0], state.gdtr[1], 0))
    registers.write(uc, "rip", state.rip)
    registers.write(uc, "rdi", state.rdi)
    registers.write(uc, "rflags", state.rflags)
    registers.write(uc, "rsp", 0)
    uc.reg_write(UC_X86_REG_MXCSR, 0x1F80)
    uc.reg_write(UC_X86_REG_FPCW, 0x37F)
    return uc


def drop_cached_code(uc, start: int, end: int) -> None:
    """Drops Unicorn's translated blocks that hold [start, end) (so a new code
    hook there takes effect). Unicorn translates ``start`` through the guest's
    page tables to find them, and an unmapped address leaves a page fault's CR2
    behind: CR2 is put back, as it may change only when a #PF is delivered."""
    from unicorn.x86_const import UC_X86_REG_CR2

    cr2 = uc.reg_read(UC_X86_REG_CR2)
    uc.ctl_remove_cache(start, end)
    uc.reg_write(UC_X86_REG_CR2, cr2)


def flush_tlb(uc) -> None:
    """Flushes Unicorn's TLB (needed after page tables are edited from outside the
    guest, or after memory hooks are added); the Python binding has no wrapper."""
    from unicorn.unicorn_const import UC_CTL_TLB_FLUSH

    uc._Uc__ctl_w(UC_CTL_TLB_FLUSH)


class CpuView:
    """Registers and linear memory of a machine, as delivery sees them."""

    def __init__(self, uc, memory, icount, fields) -> None:
        """``icount()`` gives the current instruction count; ``fields`` are the
        calibrated :class:`~.context.ContextFields`."""
        self._uc = uc
        self._memory = memory
        self._icount = icount
        self._fields = fields

    @property
    def icount(self) -> int:
        """Instructions executed so far."""
        return self._icount()

    def reg(self, name: str):
        """A register's value."""
        return registers.read(self._uc, name)

    def set_reg(self, name: str, value) -> None:
        """Sets a register."""
        registers.write(self._uc, name, value)

    def load_code_and_stack(self, cpl: int, cs: tuple, ss: tuple) -> None:
        """Loads the CS and SS caches and changes the privilege level to ``cpl``."""
        self._fields.load_code_and_stack(self._uc, cpl, cs, ss)

    def read_linear(self, addr: int, n: int) -> bytes:
        """A supervisor read of linear memory (page faults as ``DeliveryFault``)."""
        return self._memory.read_linear(addr, n)

    def write_linear(self, addr: int, data: bytes) -> None:
        """A supervisor write of linear memory (page faults as ``DeliveryFault``)."""
        self._memory.write_linear(addr, data)
