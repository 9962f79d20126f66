"""Privilege changes in delivery (Intel SDM Vol. 3A §6.12.1, §6.14): an interrupt
from ring 3 enters ring 0 on TSS.RSP0 and ``iretq`` returns to ring 3.

A unit test of the delivery layer on a real Unicorn CPU (the kernel has no ring 3
yet): a minimal long-mode machine with a GDT (ring 0 and ring 3 segments, a TSS),
an IDT and identity-mapped page tables, whose ring-0 code enters ring 3 with
``iretq``; the events Unicorn reports go to the machine's own ``Deliverer``.
"""

import struct

import pytest
from unicorn import UC_ARCH_X86, UC_HOOK_INTR, UC_MODE_64, Uc
from unicorn.x86_const import (UC_X86_REG_CR0, UC_X86_REG_CR3, UC_X86_REG_CR4, UC_X86_REG_GDTR, UC_X86_REG_IDTR,
                               UC_X86_REG_MSR, UC_X86_REG_RSP)

from rustos_dbg.machine import registers
from rustos_dbg.machine.context import calibrate
from rustos_dbg.machine.delivery import Deliverer, Outcome, Source
from rustos_dbg.machine.engine import CpuView
from rustos_dbg.machine.memory import GuestMemory

RAM = 4 << 20
KERNEL, USER, HANDLERS = 0x10000, 0x20000, 0x18000
RSP0, USER_STACK, SUPERVISOR_PAGE = 0x9000, 0x30000, 0x300000
KCODE, KDATA, UCODE, UDATA, TSS_SEL = 0x08, 0x10, 0x1B, 0x23, 0x28


def _segment(code: bool, dpl: int) -> int:
    access = 0x80 | dpl << 5 | 0x10 | (0x0A if code else 0x02)    # present, S, code r/x or data r/w
    return 0xFFFF | access << 40 | 0xF << 48 | (0xA if code else 0x8) << 52   # G, and L for code


def _gate(handler: int, dpl: int) -> bytes:
    low = handler & 0xFFFF | KCODE << 16 | (0x80 | dpl << 5 | 0xE) << 40 | (handler >> 16 & 0xFFFF) << 48
    return struct.pack("<QQ", low, handler >> 32)


_CODE = {
    # ltr 0x28; iretq to ring 3 at USER with RSP = USER_STACK
    KERNEL: "66b82800" "0f00d8" "6a23" "6800000300" "6a02" "6a1b" "6800000200" "48cf",
    # mov eax, 7; int 0x80; mov ebx, eax; int 0x81 (a DPL-0 gate); mov eax, [SUPERVISOR_PAGE]; jmp $
    USER: "b807000000" "cd80" "89c3" "cd81" "8b042500003000" "ebfe",
    # int 0x80: mov rcx, cr0 (ring 0 only); mov r8, rsp; add eax, 100; iretq
    HANDLERS: "0f20c1" "4989e0" "83c064" "48cf",
    # #GP: pop r9 (the error code); skip the 2-byte int; iretq
    HANDLERS + 0x100: "4159" "4883042402" "48cf",
    # #PF: pop r10 (the error code); mov r11, cr2; skip the 7-byte mov; iretq
    HANDLERS + 0x200: "415a" "410f20d3" "4883042407" "48cf",
}


@pytest.fixture
def cpu():
    uc = Uc(UC_ARCH_X86, UC_MODE_64)
    uc.mem_map(0, RAM)
    user = 4
    uc.mem_write(0x1000, struct.pack("<Q", 0x2003 | user))
    uc.mem_write(0x2000, struct.pack("<Q", 0x3003 | user))
    uc.mem_write(0x3000, struct.pack("<QQ", 0x4003 | user, 0x200083))     # 2-4 MiB: one supervisor 2 MiB page
    uc.mem_write(0x4000, struct.pack("<512Q", *[i << 12 | 3 | user for i in range(512)]))
    tss_low = 0x67 | 0x6000 << 16 | 0x89 << 40                          # 64-bit TSS at 0x6000, present
    uc.mem_write(0x5000, struct.pack("<7Q", 0, _segment(True, 0), _segment(False, 0), _segment(True, 3),
                                     _segment(False, 3), tss_low, 0))
    uc.mem_write(0x6000 + 4, struct.pack("<Q", RSP0))                     # TSS.RSP0
    idt = bytearray(256 * 16)
    for vector, handler, dpl in ((0x80, HANDLERS, 3), (0x81, HANDLERS, 0), (13, HANDLERS + 0x100, 0),
                                 (14, HANDLERS + 0x200, 0)):
        idt[vector * 16:vector * 16 + 16] = _gate(handler, dpl)
    uc.mem_write(0x7000, bytes(idt))
    for addr, code in _CODE.items():
        uc.mem_write(addr, bytes.fromhex(code))
    uc.reg_write(UC_X86_REG_MSR, (0xC000_0080, 0xD00))
    uc.reg_write(UC_X86_REG_CR3, 0x1000)
    uc.reg_write(UC_X86_REG_CR4, 0x20)
    uc.reg_write(UC_X86_REG_CR0, 0x8001_0011)
    uc.reg_write(UC_X86_REG_GDTR, (0, 0x5000, 7 * 8 - 1, 0))
    uc.reg_write(UC_X86_REG_IDTR, (0, 0x7000, 256 * 16 - 1, 0))
    uc.reg_write(UC_X86_REG_RSP, 0x8000)
    fields = calibrate()
    if fields.hflags is None:
        pytest.fail("the context calibration found no hflags: privilege changes are impossible")
    memory = GuestMemory(uc, RAM, lambda name: registers.read(uc, name))
    log = []
    deliverer = Deliverer(CpuView(uc, memory, lambda: 0, fields), log)

    def on_intr(uc, vector, _):
        software = vector >= 32
        error = fields.read_error_code(uc) if vector in (13, 14) else None
        fields.clear_old_exception(uc)
        cr2 = registers.read(uc, "cr2") if vector == 14 else None
        deliverer.deliver(vector, Source.SOFTWARE if software else Source.EXCEPTION, error, registers.read(uc, "rip"), cr2)

    uc.hook_add(UC_HOOK_INTR, on_intr)
    return uc, fields, log


def _run(uc, until: int) -> None:
    """Runs from the kernel's start to ``until`` (a user-mode address)."""
    uc.emu_start(KERNEL, until, count=100)
    assert registers.read(uc, "rip") == until


def _reg(uc, name):
    return registers.read(uc, name)


def test_int_0x80_from_ring_3_runs_its_handler_in_ring_0_on_rsp0_and_iretq_returns_to_ring_3(cpu):
    uc, fields, log = cpu
    _run(uc, USER + 7)                            # into ring 3, mov eax, 7; int 0x80 and its handler
    assert _reg(uc, "rcx") == 0x8001_0011         # mov rcx, cr0 ran: the handler was in ring 0
    assert _reg(uc, "r8") == RSP0 - 5 * 8         # on TSS.RSP0, below the five-word frame
    rip, cs, rflags, rsp, ss = struct.unpack("<5Q", uc.mem_read(RSP0 - 40, 40))
    assert (rip, cs, rsp, ss) == (USER + 7, UCODE, USER_STACK, UDATA)   # the old SS:RSP and CS:RIP
    assert rflags & 2
    assert (_reg(uc, "cs"), _reg(uc, "rax"), fields.cpl(uc)) == (UCODE, 107, 3)   # back in ring 3
    assert (log[0].vector, log[0].outcome, log[0].new_rsp) == (0x80, Outcome.DELIVERED, RSP0 - 40)


def test_int_through_a_dpl_0_gate_from_ring_3_is_a_general_protection_fault(cpu):
    uc, fields, log = cpu
    _run(uc, USER + 11)                           # ... mov ebx, eax; int 0x81 -> #GP, its handler
    assert _reg(uc, "rbx") == 107
    assert _reg(uc, "r9") == 0x81 * 8 + 2         # error code: the IDT entry (SDM §6.13)
    assert [e.vector for e in log[1:]] == [0x81, 13] and log[1].outcome is Outcome.FAULTED
    assert log[2].rip == USER + 9                 # the frame points at the int 0x81 itself
    assert (_reg(uc, "cs"), fields.cpl(uc)) == (UCODE, 3)


def test_a_user_read_of_a_supervisor_page_faults_with_the_user_bit_and_returns(cpu):
    uc, fields, log = cpu
    _run(uc, USER + 18)
    assert _reg(uc, "r10") == 0b101               # present, read, user (SDM §4.7)
    assert _reg(uc, "r11") == SUPERVISOR_PAGE     # CR2
    assert log[-1].vector == 14 and log[-1].error_code == 0b101
    assert (_reg(uc, "cs"), _reg(uc, "rip"), fields.cpl(uc)) == (UCODE, USER + 18, 3)   # at the jmp $
