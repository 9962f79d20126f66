"""gdb's register block read in one batch equals the block read register by register."""

from __future__ import annotations

from unicorn import x86_const as X

from rustos_dbg.gdb.regfile import RegisterFile
from rustos_dbg.gdb.xml import INDEX, OFFSETS, REGISTERS
from rustos_dbg.machine import Machine
from rustos_dbg.testing import PROMPT, run_to_serial


def _field(block: bytes, name: str) -> int:
    i = INDEX[name]
    return int.from_bytes(block[OFFSETS[i]:OFFSETS[i] + REGISTERS[i].size], "little")


def test_the_batch_block_is_the_register_by_register_block(kernel_elf):
    machine = Machine.boot(kernel_elf)
    run_to_serial(machine, PROMPT)
    uc = machine.uc
    # Values that make every decoding show: x87 stack rotated (TOP = 5), one register
    # empty, xmm high halves, an MSR, and the table registers the kernel loaded.
    for i in range(8):
        uc.reg_write(getattr(X, f"UC_X86_REG_FP{i}"), (0x8000_0000_0000_0000 | i << 40 | 0x1234, 0x3FFF + i))
    uc.reg_write(X.UC_X86_REG_FPSW, 5 << 11 | 0x41)
    uc.reg_write(X.UC_X86_REG_XMM3, (0xDEADBEEF << 96) | 0x0123_4567_89AB_CDEF)
    regs = RegisterFile(machine)
    batch, each = regs.read_all(), regs.read_each()
    assert batch == each
    assert _field(batch, "xmm3") >> 96 == 0xDEADBEEF
    assert _field(batch, "st0") == ((0x3FFF + 5) << 64) | 0x8000_0000_0000_0000 | 5 << 40 | 0x1234  # ST(0) = R5
    assert _field(batch, "idtr_base") == machine.reg("idtr")[1] != 0
    assert _field(batch, "rip") == machine.reg("rip")
    machine.step()
    assert regs.read_all() == regs.read_each() != batch   # read afresh, not kept
