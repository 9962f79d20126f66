"""Exception and interrupt delivery in 32-bit protected mode (IA-32e mode off), as the SDM describes it.

A kernel's boot path runs 32-bit code before it turns long mode on, and may
load a 32-bit IDT of its own there. :func:`deliver_protected` is what the CPU
does then (Intel SDM Vol. 3A §6.10-6.12): bounds-check the vector against
IDTR with 8-byte gates (``vector * 8 + 7 <= limit``, else #GP(vector * 8 + 2
+ EXT)), read the gate (a 32-bit interrupt gate, type 0xE, or trap gate, 0xF;
any other type #GP, a software interrupt through a gate of lower DPL #GP, a
gate not present #NP), check the code segment it names in the GDT (a present
code segment, not 64-bit, DPL <= CPL), push EFLAGS, CS, EIP and the error
code as 32-bit values on the current stack (no alignment, §6.12.1), clear
TF/NT/RF/VM (and IF for interrupt gates) and jump to the handler, loading CS
from the GDT when the gate names another selector. Every fault is raised as
a :class:`~.delivery.DeliveryFault`, so the caller's double- and triple-fault
rules apply unchanged. Not modelled: task gates and 16-bit gates (#GP, with a
reason that says so), and a privilege change (a ring-3 interrupt to ring 0
through the 32-bit TSS): the boot paths this serves run in ring 0.
"""

from __future__ import annotations

import struct

from ..structs.segments import SegmentDescriptor, descriptor_base, descriptor_limit_bytes
from ..x86.vectors import GENERAL_PROTECTION, SEGMENT_NOT_PRESENT

_RFLAGS_TF, _RFLAGS_IF, _RFLAGS_NT, _RFLAGS_RF, _RFLAGS_VM = 1 << 8, 1 << 9, 1 << 14, 1 << 16, 1 << 17
_INTERRUPT_GATE32, _TRAP_GATE32 = 0xE, 0xF
GATE32_SIZE = 8


def deliver_protected(cpu, vector: int, software: bool, external: bool, error_code: int | None, rip: int, fault):
    """Delivers ``vector`` on ``cpu`` (a :class:`~.engine.CpuView`) in 32-bit protected mode;
    ``fault(vector, error_code, reason)`` builds the exception to raise. Returns (the handler,
    the new ESP)."""
    ext = 1 if external else 0
    gate_error = vector * 8 + 2 + ext
    _, idt_base, idt_limit, _ = cpu.reg("idtr")
    if vector * GATE32_SIZE + GATE32_SIZE - 1 > idt_limit:
        raise fault(GENERAL_PROTECTION, gate_error, f"vector {vector} is beyond the IDT limit {idt_limit:#x}")
    low, high = struct.unpack("<II", cpu.read_linear(idt_base + vector * GATE32_SIZE, GATE32_SIZE))
    handler, selector = (high & 0xFFFF_0000) | (low & 0xFFFF), low >> 16
    kind, dpl, present = (high >> 8) & 0x1F, (high >> 13) & 3, bool(high & (1 << 15))
    cs = cpu.reg("cs")
    cpl = cs & 3
    if kind not in (_INTERRUPT_GATE32, _TRAP_GATE32):
        raise fault(GENERAL_PROTECTION, gate_error,
                    f"IDT entry {vector} is not a 32-bit interrupt or trap gate (type {kind:#x}; task and "
                    "16-bit gates are not modelled)")
    if software and dpl < cpl:
        raise fault(GENERAL_PROTECTION, gate_error, f"software interrupt {vector} from CPL {cpl} through a DPL {dpl} gate")
    if not present:
        raise fault(SEGMENT_NOT_PRESENT, gate_error, f"IDT entry {vector} is not present")
    code, flags = _code_segment(cpu, selector, ext, cpl, fault)
    if not code.dc and code.dpl != cpl:
        raise fault(GENERAL_PROTECTION, (selector & 0xFFFC) | ext,
                    f"a privilege change to CPL {code.dpl} in 32-bit protected mode is not modelled")
    eflags = cpu.reg("rflags") & 0xFFFF_FFFF
    frame = [eflags, cs, rip & 0xFFFF_FFFF] + ([error_code] if error_code is not None else [])
    esp = (cpu.reg("rsp") - 4 * len(frame)) & 0xFFFF_FFFF
    cpu.write_linear(esp, struct.pack(f"<{len(frame)}I", *(v & 0xFFFF_FFFF for v in reversed(frame))))
    eflags &= ~(_RFLAGS_TF | _RFLAGS_NT | _RFLAGS_RF | _RFLAGS_VM)
    if kind == _INTERRUPT_GATE32:
        eflags &= ~_RFLAGS_IF
    if selector != cs:
        ss = cpu.reg("ss")
        ss_desc, ss_flags = _descriptor(cpu, ss)
        cpu.load_code_and_stack(cpl, ((selector & 0xFFFC) | cpl, descriptor_base(code), descriptor_limit_bytes(code), flags),
                                (ss, descriptor_base(ss_desc), descriptor_limit_bytes(ss_desc), ss_flags))
    cpu.set_reg("rsp", esp)
    cpu.set_reg("rflags", eflags)
    cpu.set_reg("rip", handler)
    return handler, esp


def _descriptor(cpu, selector: int):
    """The GDT descriptor of ``selector`` (parsed) and its high dword."""
    _, gdt_base, _, _ = cpu.reg("gdtr")
    raw = cpu.read_linear(gdt_base + (selector & ~7), 8)
    return SegmentDescriptor.parse(raw), struct.unpack_from("<I", raw, 4)[0]


def _code_segment(cpu, selector: int, ext: int, cpl: int, fault):
    """The gate's code segment, or the fault the SDM names (§6.12.1.1)."""
    error = (selector & 0xFFFC) | ext
    _, _, gdt_limit, _ = cpu.reg("gdtr")
    if selector & ~3 == 0:
        raise fault(GENERAL_PROTECTION, ext, f"the gate's code selector {selector:#x} is null")
    if selector & 4 or (selector | 7) > gdt_limit:
        raise fault(GENERAL_PROTECTION, error, f"code selector {selector:#x} is not in the GDT")
    code, flags = _descriptor(cpu, selector)
    if not code.s or not code.executable or code.l or code.dpl > cpl:
        raise fault(GENERAL_PROTECTION, error, f"GDT entry {selector:#x} is not a 32-bit code segment with DPL <= CPL {cpl}")
    if not code.p:
        raise fault(SEGMENT_NOT_PRESENT, error, f"code segment {selector:#x} is not present")
    return code, flags
