"""Exception and interrupt delivery through the IDT, as the Intel SDM describes it.

Unicorn reports exceptions to a hook and delivers nothing (docs: platform
notes). :class:`Deliverer` does what the CPU would (Intel SDM Vol. 3A §6.12
"Exception and Interrupt Handling", §6.14 "64-bit mode"): bounds-check the
vector against IDTR, read and check the gate (type, DPL for software
interrupts, present), pick the stack (the gate's IST slot in the TSS, RSP0 on
a privilege change, else the current one, aligned to 16), push SS, RSP,
RFLAGS, CS, RIP and the error code, clear TF/NT/RF (and IF for interrupt
gates), and jump to the handler.

A fault while doing so is handled as the SDM's Table 6-5 says: benign then
anything is serial; contributory then contributory, or page fault then
contributory or page fault, become a double fault; a fault while delivering
#DF shuts the CPU down (triple fault), reported with the whole chain. Every
attempt is appended to the exception log.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import Enum

from ..inspect.vectors import vector_name

#: Vectors whose exceptions push an error code (SDM Table 6-1).
ERROR_CODE_VECTORS = frozenset({8, 10, 11, 12, 13, 14, 17, 21, 29, 30})
CONTRIBUTORY = frozenset({0, 10, 11, 12, 13})
PAGE_FAULT, DOUBLE_FAULT, GENERAL_PROTECTION, SEGMENT_NOT_PRESENT = 14, 8, 13, 11

_RFLAGS_TF, _RFLAGS_IF, _RFLAGS_NT, _RFLAGS_RF, _RFLAGS_VM = 1 << 8, 1 << 9, 1 << 14, 1 << 16, 1 << 17


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
    """One delivery attempt, as recorded in the exception log."""

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

    def __str__(self) -> str:
        text = f"{vector_name(self.vector)} at rip {self.rip:#x}"
        if self.error_code is not None:
            text += f" error {self.error_code:#x}"
        if self.cr2 is not None:
            text += f" cr2 {self.cr2:#x}"
        if self.outcome is Outcome.DELIVERED:
            text += f" -> handler {self.handler:#x} on {'IST' + str(self.ist) if self.ist else 'stack'} rsp {self.new_rsp:#x}"
        else:
            text += f" ({self.outcome.value}: {self.reason})"
        return text


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
    :class:`DeliveryFault` with vector 14 for a page fault), and ``icount``.
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
            if vector not in ERROR_CODE_VECTORS or source is not Source.EXCEPTION:
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
                first_contributory = source is Source.EXCEPTION and vector in CONTRIBUTORY
                first_pf = source is Source.EXCEPTION and vector == PAGE_FAULT
                second_contributory = second in CONTRIBUTORY
                if (first_contributory and second_contributory) or (first_pf and (second_contributory or second == PAGE_FAULT)):
                    vector, error_code, cr2 = DOUBLE_FAULT, 0, None
                else:
                    vector, error_code, cr2 = second, fault.error_code, fault.cr2
                source = Source.EXCEPTION

    def _entry(self, vector, source, error_code, rip, cr2, new_rsp, ist, handler, outcome, reason="") -> LogEntry:
        return LogEntry(self.cpu.icount, vector, source, error_code, rip,
                        cr2 if vector == PAGE_FAULT else None, self.cpu.reg("rsp"), new_rsp, ist, handler, outcome, reason)

    def _deliver_once(self, vector: int, source: Source, error_code: int | None, rip: int, cr2: int | None) -> LogEntry:
        cpu = self.cpu
        ext = 1 if source is Source.EXTERNAL else 0
        gate_error = vector * 8 + 2 + ext
        _, idt_base, idt_limit, _ = cpu.reg("idtr")
        if vector * 16 + 15 > idt_limit:
            raise DeliveryFault(GENERAL_PROTECTION, gate_error, f"vector {vector} is beyond the IDT limit {idt_limit:#x}")
        low, high = struct.unpack("<QQ", cpu.read_linear(idt_base + vector * 16, 16))
        handler = (low & 0xFFFF) | ((low >> 32) & 0xFFFF_0000) | ((high & 0xFFFF_FFFF) << 32)
        selector = (low >> 16) & 0xFFFF
        ist = (low >> 32) & 7
        gate_type = (low >> 40) & 0xF
        dpl = (low >> 45) & 3
        present = (low >> 47) & 1
        cs = cpu.reg("cs")
        cpl = cs & 3
        if gate_type not in (0xE, 0xF):
            raise DeliveryFault(GENERAL_PROTECTION, gate_error, f"IDT entry {vector} is not an interrupt or trap gate (type {gate_type:#x})")
        if source is Source.SOFTWARE and dpl < cpl:
            raise DeliveryFault(GENERAL_PROTECTION, gate_error, f"software interrupt {vector} from CPL {cpl} through a DPL {dpl} gate")
        if not present:
            raise DeliveryFault(SEGMENT_NOT_PRESENT, gate_error, f"IDT entry {vector} is not present")
        if selector & ~3 == 0:
            raise DeliveryFault(GENERAL_PROTECTION, ext, f"IDT entry {vector} has a null code selector")
        old_rsp, rflags = cpu.reg("rsp"), cpu.reg("rflags")
        new_cpl = selector & 3
        if ist or new_cpl < cpl:
            _, tss_base, tss_limit, _ = cpu.reg("tr")
            offset = 0x24 + 8 * (ist - 1) if ist else 4 + 8 * new_cpl
            if offset + 7 > tss_limit:
                raise DeliveryFault(10, cpu.reg("tr")[0] & ~3, f"TSS limit {tss_limit:#x} too small for {'IST' + str(ist) if ist else 'RSP0'}")
            stack = struct.unpack("<Q", cpu.read_linear(tss_base + offset, 8))[0]
        else:
            stack = old_rsp
        stack &= ~0xF
        ss = cpu.reg("ss") if new_cpl == cpl else 0
        frame = [ss, old_rsp, rflags, cs, rip] + ([error_code] if error_code is not None else [])
        for value in frame:
            stack -= 8
            cpu.write_linear(stack, struct.pack("<Q", value & 0xFFFF_FFFF_FFFF_FFFF))
        rflags &= ~(_RFLAGS_TF | _RFLAGS_NT | _RFLAGS_RF | _RFLAGS_VM)
        if gate_type == 0xE:
            rflags &= ~_RFLAGS_IF
        entry = self._entry(vector, source, error_code, rip, cr2, stack, ist, handler, Outcome.DELIVERED)
        cpu.set_reg("rsp", stack)
        cpu.set_reg("rflags", rflags)
        cpu.set_reg("rip", handler)
        if new_cpl != cpl:
            cpu.set_reg("cs", selector)
            cpu.set_reg("ss", 0)
        return entry
