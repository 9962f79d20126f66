"""The machine's CPU: registers by name, the halt and shutdown states, and snapshots.

Contract: :class:`Cpu` reads and writes registers of one Unicorn engine by
name (:mod:`.registers`), knows whether the CPU waits in HLT (:attr:`halted`,
set by the run loop when the engine returned from a HLT) and whether a
triple fault shut it down (:attr:`shutdown`). :meth:`Cpu.snapshot` returns a
frozen :class:`CpuState`: Unicorn's whole CPU context (general, segment with
their hidden caches, control, debug, descriptor-table and model-specific
registers, x87/SSE state), with the named registers decoded beside it for
comparison and display; :meth:`Cpu.restore` puts it back and drops the
engine's TLB and translated blocks, which the restored state may contradict.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any

from ..x86.msr import MSRS
from . import registers
from .engine import flush_tlb

#: Registers a :class:`CpuState` shows by name (besides its whole context).
STATE_REGISTERS = registers.GPR + ("rip", "rflags") + registers.SEGMENTS + registers.CONTROL \
    + registers.TABLES + tuple(MSRS)


@dataclass(frozen=True)
class CpuState:
    """The CPU at one moment."""

    context: bytes                       #: Unicorn's CPU context, restored whole
    registers: tuple[tuple[str, Any], ...]  #: the named registers, decoded from the same moment
    halted: bool
    shutdown: Any                        #: the triple-fault Stop, or None

    def register(self, name: str):
        """One named register's value in this state."""
        return dict(self.registers)[name]


class Cpu:
    """The CPU of one engine."""

    def __init__(self, uc) -> None:
        """The CPU of ``uc``, running (not halted, not shut down)."""
        self.uc = uc
        #: True while the CPU waits in HLT for an interrupt.
        self.halted = False
        #: The TRIPLE_FAULT stop once the CPU shut down (nothing runs after it).
        self.shutdown = None

    def reg(self, name: str):
        """Register ``name`` (rax..r15, rip, rflags, segments, cr0-cr8, efer, gdtr, ...)."""
        return registers.read(self.uc, name)

    def set_reg(self, name: str, value) -> None:
        """Sets register ``name``."""
        registers.write(self.uc, name, value)

    def regs(self) -> dict[str, int]:
        """General-purpose registers, rip, rflags and segment selectors."""
        return registers.snapshot(self.uc)

    def snapshot(self) -> CpuState:
        """The CPU now."""
        ctx = self.uc.context_save()
        blob = ctypes.string_at(ctx._context.value, ctx.size)
        named = tuple((name, registers.read(self.uc, name)) for name in STATE_REGISTERS)
        return CpuState(blob, named, self.halted, self.shutdown)

    def restore(self, state: CpuState) -> None:
        """Puts the CPU back to ``state``."""
        ctx = self.uc.context_save()
        if ctx.size != len(state.context):
            raise ValueError("the CPU state comes from another kind of engine")
        ctypes.memmove(ctx._context.value, state.context, ctx.size)
        self.uc.context_restore(ctx)
        self.halted, self.shutdown = state.halted, state.shutdown
        flush_tlb(self.uc)
        self.uc.ctl_flush_tb()
