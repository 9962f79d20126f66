"""Exception and interrupt delivery through the IDT, as the Intel SDM describes it.

Unicorn reports exceptions to a hook and delivers nothing (docs: platform
notes). :class:`Deliverer` does what the CPU would (Intel SDM Vol. 3A §6.12
"Exception and Interrupt Handling", §6.14 "64-bit mode"): bounds-check the
vector against IDTR, read and check the gate (type, DPL for software
interrupts, present) and the code segment it names (in the GDT: a present
64-bit code segment with DPL <= CPL), pick the stack (the gate's IST slot in
the TSS, RSPn of the new privilege level on a privilege change, else the
current one, aligned to 16), push the old SS, RSP, RFLAGS, CS, RIP and the
error code, clear TF/NT/RF (and IF for interrupt gates), and jump to the
handler. An interrupt from ring 3 to a DPL-0 code segment enters ring 0: CS
is loaded from the GDT, SS with the null selector, and the CPL changes (the
CPU view's ``load_code_and_stack``: Unicorn's ``reg_write`` of CS cannot).

A fault while doing so is handled as the SDM's Table 6-5 says: benign then
anything is serial; contributory then contributory, or page fault then
contributory or page fault, become a double fault; a fault while delivering
#DF shuts the CPU down (triple fault), reported with the whole chain. Every
attempt is appended to the exception log. With IA-32e mode off (a boot path's
32-bit code) the gates and the frame are 32-bit ones (:mod:`.delivery32`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from ..structs.idt import IDT_GATE_SIZE, IdtGate, gate_offset
from .delivery32 import deliver_protected
from ..structs.segments import SegmentDescriptor, SystemType, descriptor_base, descriptor_limit_bytes
from ..structs.tss import TSS64_OFFSETS, TSS64_SIZE, Tss64, tss_ist
from ..x86.vectors import (DOUBLE_FAULT, GENERAL_PROTECTION, INVALID_TSS, PAGE_FAULT, SEGMENT_NOT_PRESENT,
                           FaultClass, has_error_code, vector_info, vector_name)

_RFLAGS_TF, _RFLAGS_IF, _RFLAGS_NT, _RFLAGS_RF, _RFLAGS_VM = 1 << 8, 1 << 9, 1 << 14, 1 << 16, 1 << 17
_EFER_LMA = 1 << 10


class Source(Enum):
    """Where an event came from."""

    EXCEPTION = "exception"    # raised by an instruction (fault or trap)
    SOFTWARE = "software"      # int n / int3 / into
    EXTERNAL = "external"      # a hardware interrupt from the PIC


class Outcome(Enum):
    """What became of one delivery attempt."""

    DELIVERED = "delivered"
    FAULTED = "faulted"        # delivery itself faulted; see the next log entry
    SHUTDOWN = "shutdown"      # triple fault


@dataclass(frozen=True)
class LogEntry:
    """One delivery attempt, as recorded in the exception log (the model that
    ``rustos_dbg.inspect.hw.faults`` decodes and renders everywhere)."""

    icount: int
    vector: int
    source: Source
    error_code: int | None
    rip: int                 # the RIP saved in the frame (fault: the faulting instruction)
    cr2: int | None          # for #PF
    old_rsp: int
    new_rsp: int | None      # the handler's RSP after the frame was pushed
    ist: int
    handler: int | None
    outcome: Outcome
    reason: str = ""         # why delivery faulted or escalated

    @property
    def vector_name(self) -> str:
        """The vector's mnemonic and name."""
        return vector_name(self.vector)


class DeliveryFault(Exception):
    """A fault raised while delivering an event."""

    def __init__(self, vector: int, error_code: int, reason: str, cr2: int | None = None) -> None:
        super().__init__(reason)
        self.vector, self.error_code, self.reason, self.cr2 = vector, error_code, reason, cr2


class TripleFault(Exception):
    """The CPU shut down; ``chain`` holds the log entries that led there."""

    def __init__(self, chain: list[LogEntry]) -> None:
        super().__init__("triple fault")
        self.chain = chain


class Deliverer:
    """Delivers events on a CPU reached through ``cpu``.

    ``cpu`` provides ``reg(name)``, ``set_reg(name, value)``,
    ``read_linear(addr, n)`` and ``write_linear(addr, data)`` (both raising
    :class:`DeliveryFault` with vector 14 for a page fault), ``icount``, and
    ``load_code_and_stack(cpl, cs, ss)`` for a privilege change (CS and SS as
    (selector, base, limit, flags) segment caches).
    """

    def __init__(self, cpu, log: list[LogEntry]) -> None:
        """Deliver on ``cpu``, recording into ``log``."""
        self.cpu = cpu
        self.log = log

    def deliver(self, vector: int, source: Source, error_code: int | None, rip: int, cr2: int | None = None) -> LogEntry:
        """Delivers one event, escalating faults during delivery; returns the final entry.

        Raises :class:`TripleFault` when the CPU shuts down.
        """
        chain: list[LogEntry] = []
        while True:
            if not has_error_code(vector) or source is not Source.EXCEPTION:
                error_code = None
            try:
                entry = self._deliver_once(vector, source, error_code, rip, cr2)
                self.log.append(entry)
                return entry
            except DeliveryFault as fault:
                failed = self._entry(vector, source, error_code, rip, cr2, None, 0, None, Outcome.FAULTED, fault.reason)
                chain.append(failed)
                if fault.cr2 is not None:
                    self.cpu.set_reg("cr2", fault.cr2)
                second = fault.vector
                if vector == DOUBLE_FAULT:
                    self.log.append(failed)
                    shutdown = self._entry(second, Source.EXCEPTION, fault.error_code, rip, fault.cr2, None, 0, None,
                                           Outcome.SHUTDOWN, "fault while delivering #DF")
                    self.log.append(shutdown)
                    raise TripleFault(chain + [shutdown]) from None
                self.log.append(failed)
                if source is Source.SOFTWARE:
                    rip = self._instruction_start(rip, vector)  # the INT faulted: its frame points at it
                if _double_fault(vector if source is Source.EXCEPTION else None, second):
                    vector, error_code, cr2 = DOUBLE_FAULT, 0, None
                else:
                    vector, error_code, cr2 = second, fault.error_code, fault.cr2
                source = Source.EXCEPTION

    def _instruction_start(self, rip: int, vector: int) -> int:
        """The address of the ``int n`` (CD ib), ``int3`` (CC) or ``into`` (CE)
        that ends at ``rip`` and raised ``vector``."""
        try:
            before = self.cpu.read_linear(rip - 2, 2)
        except DeliveryFault:
            return rip
        if before == bytes((0xCD, vector)):
            return rip - 2
        return rip - 1 if before[1] in (0xCC, 0xCE) else rip

    def _entry(self, vector, source, error_code, rip, cr2, new_rsp, ist, handler, outcome, reason="") -> LogEntry:
        return LogEntry(self.cpu.icount, vector, source, error_code, rip,
                        cr2 if vector == PAGE_FAULT else None, self.cpu.reg("rsp"), new_rsp, ist, handler, outcome, reason)

    def _deliver_once(self, vector: int, source: Source, error_code: int | None, rip: int, cr2: int | None) -> LogEntry:
        cpu = self.cpu
        if not cpu.reg("efer") & _EFER_LMA:  # 32-bit protected mode: a boot path before long mode
            old_esp = cpu.reg("rsp")
            handler, esp = deliver_protected(cpu, vector, source is Source.SOFTWARE, source is Source.EXTERNAL,
                                             error_code, rip, DeliveryFault)
            return LogEntry(cpu.icount, vector, source, error_code, rip, cr2 if vector == PAGE_FAULT else None,
                            old_esp, esp, 0, handler, Outcome.DELIVERED, "")
        ext = 1 if source is Source.EXTERNAL else 0
        gate_error = vector * 8 + 2 + ext
        _, idt_base, idt_limit, _ = cpu.reg("idtr")
        if vector * IDT_GATE_SIZE + IDT_GATE_SIZE - 1 > idt_limit:
            raise DeliveryFault(GENERAL_PROTECTION, gate_error, f"vector {vector} is beyond the IDT limit {idt_limit:#x}")
        gate = _gate(cpu.read_linear(idt_base + vector * IDT_GATE_SIZE, IDT_GATE_SIZE))
        cs = cpu.reg("cs")
        cpl = cs & 3
        if gate.type_value not in (SystemType.INTERRUPT_GATE, SystemType.TRAP_GATE):
            raise DeliveryFault(GENERAL_PROTECTION, gate_error,
                                f"IDT entry {vector} is not an interrupt or trap gate (type {gate.type_value:#x})")
        if source is Source.SOFTWARE and gate.dpl < cpl:
            raise DeliveryFault(GENERAL_PROTECTION, gate_error, f"software interrupt {vector} from CPL {cpl} through a DPL {gate.dpl} gate")
        if not gate.present:
            raise DeliveryFault(SEGMENT_NOT_PRESENT, gate_error, f"IDT entry {vector} is not present")
        if gate.selector & ~3 == 0:
            raise DeliveryFault(GENERAL_PROTECTION, ext, f"IDT entry {vector} has a null code selector")
        code, flags = self._code_segment(gate.selector, ext, cpl)
        old_rsp, rflags = cpu.reg("rsp"), cpu.reg("rflags")
        new_cpl = cpl if code.dc else code.dpl  # a conforming segment keeps the CPL
        ist = gate.ist
        stack = self._stack(ist, new_cpl) if ist or new_cpl < cpl else old_rsp
        stack &= ~0xF
        frame = [cpu.reg("ss"), old_rsp, rflags, cs, rip] + ([error_code] if error_code is not None else [])
        stack -= 8 * len(frame)
        cpu.write_linear(stack, struct.pack(f"<{len(frame)}Q", *(v & 0xFFFF_FFFF_FFFF_FFFF for v in reversed(frame))))
        rflags &= ~(_RFLAGS_TF | _RFLAGS_NT | _RFLAGS_RF | _RFLAGS_VM)
        if gate.type_value == SystemType.INTERRUPT_GATE:
            rflags &= ~_RFLAGS_IF
        entry = self._entry(vector, source, error_code, rip, cr2, stack, ist, gate.handler, Outcome.DELIVERED)
        if new_cpl != cpl:
            # SDM §6.14.4: SS becomes the null selector with RPL = the new CPL.
            cpu.load_code_and_stack(new_cpl, ((gate.selector & 0xFFFC) | new_cpl, descriptor_base(code),
                                              descriptor_limit_bytes(code), flags),
                                    (new_cpl, 0, 0, new_cpl << 13))
        cpu.set_reg("rsp", stack)
        cpu.set_reg("rflags", rflags)
        cpu.set_reg("rip", gate.handler)
        return entry

    def _code_segment(self, selector: int, ext: int, cpl: int):
        """The gate's target code segment from the GDT (parsed, and its high dword), or
        the fault the SDM names (§6.12.1.1, §6.14.1: a present 64-bit code segment, DPL <= CPL)."""
        error = (selector & 0xFFFC) | ext
        _, gdt_base, gdt_limit, _ = self.cpu.reg("gdtr")
        if selector & 4 or (selector | 7) > gdt_limit:
            raise DeliveryFault(GENERAL_PROTECTION, error, f"code selector {selector:#x} is not in the GDT")
        raw = self.cpu.read_linear(gdt_base + (selector & ~7), 8)
        code = SegmentDescriptor.parse(raw)
        if not code.s or not code.executable or not code.l or code.db or code.dpl > cpl:
            raise DeliveryFault(GENERAL_PROTECTION, error,
                                f"GDT entry {selector:#x} is not a 64-bit code segment with DPL <= CPL {cpl}")
        if not code.p:
            raise DeliveryFault(SEGMENT_NOT_PRESENT, error, f"code segment {selector:#x} is not present")
        return code, struct.unpack_from("<I", raw, 4)[0]

    def _stack(self, ist: int, new_cpl: int) -> int:
        """The stack the TSS names: IST slot ``ist``, else RSPn of the new privilege level."""
        cpu = self.cpu
        tr, tss_base, tss_limit, _ = cpu.reg("tr")
        name = f"ist{ist}" if ist else f"rsp{new_cpl}"
        if TSS64_OFFSETS[name] + 7 > tss_limit:
            raise DeliveryFault(INVALID_TSS, tr & ~3, f"TSS limit {tss_limit:#x} too small for {name.upper()}")
        size = min(tss_limit + 1, TSS64_SIZE)
        tss = Tss64.parse(cpu.read_linear(tss_base, size).ljust(TSS64_SIZE, b"\0"))
        return tss_ist(tss, ist) if ist else tss[name]


@dataclass(frozen=True)
class _Gate:
    """The fields of an IDT gate that delivery uses."""

    handler: int
    selector: int
    ist: int
    type_value: int
    dpl: int
    present: bool


@lru_cache(maxsize=512)
def _gate(raw: bytes) -> _Gate:
    """An IDT gate decoded with :data:`~rustos_dbg.structs.idt.IdtGate` (Intel SDM Vol. 3A
    §6.14.1), cached by its bytes: a kernel's IDT rarely changes."""
    gate = IdtGate.parse(raw)
    kind = getattr(gate.type, "intvalue", gate.type)  # an unknown type parses as a plain int
    return _Gate(gate_offset(gate), gate.selector, gate.ist, int(kind), gate.dpl, gate.p)



def _double_fault(first: int | None, second: int) -> bool:
    """Whether ``second``, raised while delivering exception ``first`` (None: not an
    exception), becomes a double fault (Intel SDM Vol. 3A §6.15, Table 6-5)."""
    if first is None:
        return False
    a, b = vector_info(first).fault_class, vector_info(second).fault_class
    if a is FaultClass.CONTRIBUTORY:
        return b is FaultClass.CONTRIBUTORY
    if a is FaultClass.PAGE_FAULT:
        return b in (FaultClass.CONTRIBUTORY, FaultClass.PAGE_FAULT)
    return False
