"""What a debugger reads and writes of the machine: registers, memory and symbols.

Contract: :class:`StateAccess` is a mixin of :class:`~.machine.Machine` (it
uses its ``cpu``, ``memory``, ``uc`` and ``image``). Registers go through the
CPU part; virtual addresses through the guest's page tables now; writes flush
Unicorn's TLB so the guest sees them; names resolve through the kernel's
symbol table.
"""

from __future__ import annotations

from .engine import flush_tlb


class StateAccess:
    """Registers, guest memory and the kernel's symbols (see the module)."""

    _mode_probe = None

    def reg(self, name: str):
        """Register ``name`` (rax..r15, rip, rflags, segments, cr0-cr8, efer, fs_base, gdtr, ...)."""
        return self.cpu.reg(name)

    def set_reg(self, name: str, value) -> None:
        """Sets register ``name``."""
        self.cpu.set_reg(name, value)

    def regs(self) -> dict[str, int]:
        """General-purpose registers, rip, rflags and segment selectors."""
        return self.cpu.regs()

    def code64(self) -> bool:
        """True while the CPU runs 64-bit code (False in a boot path's 32-bit code)."""
        if self._mode_probe is None:
            from .entry import ModeProbe

            self._mode_probe = ModeProbe(self.uc)
        return self._mode_probe.code64()

    def read_virtual(self, addr: int, n: int) -> bytes:
        """Guest memory at a virtual address, through the guest's page tables."""
        return self.memory.read_virtual(addr, n)

    def write_virtual(self, addr: int, data: bytes, force: bool = False) -> None:
        """Writes guest memory at a virtual address."""
        self.memory.write_virtual(addr, data, force=force)
        flush_tlb(self.uc)

    def read_physical(self, addr: int, n: int) -> bytes:
        """Guest RAM at a physical address."""
        return self.memory.read_physical(addr, n)

    def write_physical(self, addr: int, data: bytes) -> None:
        """Writes guest RAM at a physical address."""
        self.memory.write_physical(addr, data)
        flush_tlb(self.uc)

    @property
    def symbols(self):
        """The kernel's symbol table."""
        return self.image.symbols

    def symbolize(self, addr: int) -> str:
        """``symbol+0xoff`` for an address."""
        return self.image.symbols.symbolize(addr)

    def resolve(self, where) -> int:
        """An address from an int or a symbol name (a :class:`SymbolError` if unknown)."""
        return where if isinstance(where, int) else self.image.symbols.lookup(where).address
