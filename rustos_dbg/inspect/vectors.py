"""Names of interrupt vectors: CPU exceptions (0-31) and the remapped PIC's IRQs.

Contract: one table of names shared by the machine's exception log and the
inspectors; numbers stay in the callers, these are display strings only.
No imports beyond the standard library (the machine loads it at start-up).
"""

from __future__ import annotations

#: Exception vectors 0-31: (mnemonic, name), Intel SDM Vol. 3A Table 6-1.
VECTOR_NAMES: dict[int, tuple[str, str]] = {
    0: ("#DE", "divide error"), 1: ("#DB", "debug"), 2: ("NMI", "non-maskable interrupt"),
    3: ("#BP", "breakpoint"), 4: ("#OF", "overflow"), 5: ("#BR", "bound range exceeded"),
    6: ("#UD", "invalid opcode"), 7: ("#NM", "device not available"),
    8: ("#DF", "double fault"), 9: ("", "coprocessor segment overrun"),
    10: ("#TS", "invalid TSS"), 11: ("#NP", "segment not present"),
    12: ("#SS", "stack-segment fault"), 13: ("#GP", "general protection"),
    14: ("#PF", "page fault"), 15: ("", "reserved"), 16: ("#MF", "x87 FPU error"),
    17: ("#AC", "alignment check"), 18: ("#MC", "machine check"),
    19: ("#XM", "SIMD floating-point"), 20: ("#VE", "virtualization"),
    21: ("#CP", "control protection"), 28: ("#HV", "hypervisor injection"),
    29: ("#VC", "VMM communication"), 30: ("#SX", "security"),
}

#: ISA IRQ lines behind the PIC pair (docs/boot.md §8: master at 32, slave at 40).
IRQ_NAMES: dict[int, str] = {
    0: "timer (PIT)", 1: "keyboard (8042)", 2: "cascade", 3: "COM2", 4: "COM1", 5: "LPT2",
    6: "floppy", 7: "LPT1 / spurious", 8: "RTC", 9: "ACPI", 10: "free", 11: "free",
    12: "PS/2 mouse", 13: "FPU", 14: "primary ATA", 15: "secondary ATA / spurious",
}

#: First vector of the remapped PIC (IRQ 0) and the number of IRQ lines.
PIC_BASE, PIC_LINES = 32, 16


def vector_mnemonic(vector: int) -> str:
    """``#PF`` for 14, ``IRQ1`` for 33, ``""`` for other vectors."""
    if vector in VECTOR_NAMES:
        return VECTOR_NAMES[vector][0]
    if PIC_BASE <= vector < PIC_BASE + PIC_LINES:
        return f"IRQ{vector - PIC_BASE}"
    return ""


def vector_name(vector: int) -> str:
    """Display name: ``#PF page fault``, ``IRQ1 keyboard (8042)``, ``reserved``, ``user``."""
    if vector in VECTOR_NAMES:
        mnemonic, name = VECTOR_NAMES[vector]
        return f"{mnemonic} {name}".strip()
    if vector < PIC_BASE:
        return "reserved"
    if vector < PIC_BASE + PIC_LINES:
        return f"IRQ{vector - PIC_BASE} {IRQ_NAMES[vector - PIC_BASE]}"
    return "user-defined"
