"""Interrupt and exception vectors: one table of what the CPU and GDB need to know.

Contract: :func:`vector_info` gives a frozen :class:`Vector` for 0-255: its
mnemonic and name, its :class:`VectorKind` (fault, trap, abort, interrupt),
whether the CPU pushes an error code, its :class:`FaultClass` for the
double-fault rules, and the GDB signal a debugger reports for it. Numbers
and names are Intel SDM Vol. 3A Table 6-1 ("Protected-Mode Exceptions and
Interrupts"), classes Table 6-4 and 6-5 (§6.15 "Interrupt 8 - Double Fault
Exception"); external interrupts are named by the remapped PIC's IRQ lines
(docs/boot.md: master at 32, slave at 40). No imports beyond the standard
library (the machine loads it at start-up).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache


class VectorKind(enum.Enum):
    """How the CPU reports an exception (SDM Vol. 3A §6.5)."""

    FAULT = "fault"
    TRAP = "trap"
    ABORT = "abort"
    INTERRUPT = "interrupt"     # external, NMI or software (int n)
    RESERVED = "reserved"


class FaultClass(enum.Enum):
    """Classes of Table 6-4, which decide when a second fault becomes #DF."""

    BENIGN = "benign"
    CONTRIBUTORY = "contributory"
    PAGE_FAULT = "page fault"
    DOUBLE_FAULT = "double fault"


#: GDB's signal names, as the gdb adapter maps them to protocol numbers.
SIGTRAP, SIGSEGV, SIGILL, SIGFPE, SIGBUS, SIGINT = "SIGTRAP", "SIGSEGV", "SIGILL", "SIGFPE", "SIGBUS", "SIGINT"


@dataclass(frozen=True)
class Vector:
    """What one vector number means."""

    number: int
    mnemonic: str               #: ``#PF``, ``IRQ1``, or "" when there is none
    name: str                   #: ``page fault``, ``keyboard (8042)``...
    kind: VectorKind
    error_code: bool            #: the CPU pushes an error code when it raises this exception
    fault_class: FaultClass
    gdb_signal: str             #: the signal a debugger reports when it stops here

    @property
    def title(self) -> str:
        """``#PF page fault``, ``IRQ1 keyboard (8042)``, ``reserved``, ``user-defined``."""
        return f"{self.mnemonic} {self.name}".strip()


_F, _T, _A, _I = VectorKind.FAULT, VectorKind.TRAP, VectorKind.ABORT, VectorKind.INTERRUPT
_B, _C = FaultClass.BENIGN, FaultClass.CONTRIBUTORY

#: Exceptions 0-31: mnemonic, name, kind, error code, class, GDB signal (SDM Vol. 3A Table 6-1).
_EXCEPTIONS: dict[int, tuple] = {
    0: ("#DE", "divide error", _F, False, _C, SIGFPE),
    1: ("#DB", "debug", _F, False, _B, SIGTRAP),
    2: ("NMI", "non-maskable interrupt", _I, False, _B, SIGINT),
    3: ("#BP", "breakpoint", _T, False, _B, SIGTRAP),
    4: ("#OF", "overflow", _T, False, _B, SIGSEGV),
    5: ("#BR", "bound range exceeded", _F, False, _B, SIGSEGV),
    6: ("#UD", "invalid opcode", _F, False, _B, SIGILL),
    7: ("#NM", "device not available", _F, False, _B, SIGFPE),
    8: ("#DF", "double fault", _A, True, FaultClass.DOUBLE_FAULT, SIGSEGV),
    9: ("", "coprocessor segment overrun", _F, False, _B, SIGSEGV),
    10: ("#TS", "invalid TSS", _F, True, _C, SIGSEGV),
    11: ("#NP", "segment not present", _F, True, _C, SIGSEGV),
    12: ("#SS", "stack-segment fault", _F, True, _C, SIGSEGV),
    13: ("#GP", "general protection", _F, True, _C, SIGSEGV),
    14: ("#PF", "page fault", _F, True, FaultClass.PAGE_FAULT, SIGSEGV),
    16: ("#MF", "x87 FPU error", _F, False, _B, SIGFPE),
    17: ("#AC", "alignment check", _F, True, _B, SIGBUS),
    18: ("#MC", "machine check", _A, False, _B, SIGBUS),
    19: ("#XM", "SIMD floating-point", _F, False, _B, SIGFPE),
    20: ("#VE", "virtualization", _F, False, _B, SIGSEGV),
    21: ("#CP", "control protection", _F, True, _B, SIGSEGV),
    28: ("#HV", "hypervisor injection", _F, False, _B, SIGSEGV),
    29: ("#VC", "VMM communication", _F, True, _B, SIGSEGV),
    30: ("#SX", "security", _F, True, _B, SIGSEGV),
}

#: ISA IRQ lines behind the PIC pair (docs/boot.md §8: master at 32, slave at 40).
IRQ_NAMES: dict[int, str] = {
    0: "timer (PIT)", 1: "keyboard (8042)", 2: "cascade", 3: "COM2", 4: "COM1", 5: "LPT2",
    6: "floppy", 7: "LPT1 / spurious", 8: "RTC", 9: "ACPI", 10: "free", 11: "free",
    12: "PS/2 mouse", 13: "FPU", 14: "primary ATA", 15: "secondary ATA / spurious",
}

#: First vector of the remapped PIC (IRQ 0) and the number of IRQ lines.
PIC_BASE, PIC_LINES = 32, 16

PAGE_FAULT, DOUBLE_FAULT, GENERAL_PROTECTION, SEGMENT_NOT_PRESENT, INVALID_TSS = 14, 8, 13, 11, 10


@lru_cache(maxsize=None)
def vector_info(number: int) -> Vector:
    """The :class:`Vector` for ``number`` (0-255; a ValueError otherwise)."""
    if not 0 <= number <= 255:
        raise ValueError(f"vector {number} is not in 0-255")
    if number in _EXCEPTIONS:
        return Vector(number, *_EXCEPTIONS[number])
    if number < PIC_BASE:
        return Vector(number, "", "reserved", VectorKind.RESERVED, False, _B, SIGTRAP)
    if number < PIC_BASE + PIC_LINES:
        irq = number - PIC_BASE
        return Vector(number, f"IRQ{irq}", IRQ_NAMES[irq], _I, False, _B, SIGTRAP)
    return Vector(number, "", "user-defined", _I, False, _B, SIGTRAP)


#: Exception vectors whose delivery pushes an error code (Table 6-1).
ERROR_CODE_VECTORS = frozenset(n for n, e in _EXCEPTIONS.items() if e[3])

#: Exception names by vector, as (mnemonic, name), for the inspectors' tables.
VECTOR_NAMES: dict[int, tuple[str, str]] = {n: (e[0], e[1]) for n, e in _EXCEPTIONS.items()}


def vector_mnemonic(vector: int) -> str:
    """``#PF`` for 14, ``IRQ1`` for 33, ``""`` for other vectors."""
    return vector_info(vector).mnemonic


def vector_name(vector: int) -> str:
    """Display name: ``#PF page fault``, ``IRQ1 keyboard (8042)``, ``reserved``, ``user-defined``."""
    return vector_info(vector).title


def has_error_code(vector: int) -> bool:
    """True when the CPU pushes an error code for exception ``vector``."""
    return vector in ERROR_CODE_VECTORS
