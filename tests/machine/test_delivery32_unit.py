"""32-bit protected-mode delivery (machine/delivery32.py) on a fake CPU: gates, checks, the frame."""

from __future__ import annotations

import struct

import pytest

from rustos_dbg.machine.delivery import DeliveryFault
from rustos_dbg.machine.delivery32 import deliver_protected

IDT, GDT, STACK = 0x1000, 0x2000, 0x9000
CODE32 = 0x00CF_9A00_0000_FFFF
CODE64 = 0x00AF_9A00_0000_FFFF


class FakeCpu:
    """Flat memory and a register file: just what delivery reads and writes."""

    def __init__(self) -> None:
        self.mem = bytearray(0x10000)
        self.regs = {"idtr": (0, IDT, 32 * 8 - 1, 0), "gdtr": (0, GDT, 0x17, 0), "cs": 0x08, "ss": 0x10,
                     "rsp": STACK, "rflags": 0x202, "rip": 0}
        struct.pack_into("<3Q", self.mem, GDT, 0, CODE32, 0x00CF_9200_0000_FFFF)
        self.loaded = None

    def reg(self, name):
        return self.regs[name]

    def set_reg(self, name, value):
        self.regs[name] = value

    def read_linear(self, addr, n):
        return bytes(self.mem[addr:addr + n])

    def write_linear(self, addr, data):
        self.mem[addr:addr + len(data)] = data

    def load_code_and_stack(self, cpl, cs, ss):
        self.loaded = (cpl, cs, ss)

    def gate(self, vector, handler, selector=0x08, attr=0x8E):
        struct.pack_into("<HHBBH", self.mem, IDT + 8 * vector, handler & 0xFFFF, selector, 0, attr, handler >> 16)


def _deliver(cpu, vector, error_code=None, software=False):
    return deliver_protected(cpu, vector, software, False, error_code, 0x100123, DeliveryFault)


def test_an_interrupt_gate_pushes_a_32_bit_frame_and_clears_if():
    cpu = FakeCpu()
    cpu.gate(13, 0x10_2040)
    handler, esp = _deliver(cpu, 13, error_code=0x42)
    assert (handler, esp) == (0x10_2040, STACK - 16) and cpu.regs["rip"] == handler and cpu.regs["rsp"] == esp
    assert struct.unpack_from("<4I", cpu.mem, esp) == (0x42, 0x100123, 0x08, 0x202)
    assert cpu.regs["rflags"] == 0x002 and cpu.loaded is None       # IF cleared; same CS: nothing loaded


def test_a_trap_gate_keeps_if_and_another_selector_loads_cs():
    cpu = FakeCpu()
    struct.pack_into("<Q", cpu.mem, GDT + 0x18, CODE32)
    cpu.regs["gdtr"] = (0, GDT, 0x1F, 0)
    cpu.gate(3, 0x10_3000, selector=0x18, attr=0x8F)
    _deliver(cpu, 3, software=True)
    assert cpu.regs["rflags"] & 0x200 and cpu.loaded[1][0] == 0x18 and cpu.loaded[2][0] == 0x10


@pytest.mark.parametrize("setup,vector,error,needle", [
    (lambda cpu: None, 40, (13, 40 * 8 + 2), "beyond the IDT limit"),
    (lambda cpu: cpu.gate(6, 0x1000, attr=0x0E), 6, (11, 6 * 8 + 2), "not present"),
    (lambda cpu: cpu.gate(6, 0x1000, attr=0x85), 6, (13, 6 * 8 + 2), "task and 16-bit gates"),
    (lambda cpu: cpu.gate(6, 0x1000, selector=0x10), 6, (13, 0x10), "not a 32-bit code segment"),
    (lambda cpu: (struct.pack_into("<Q", cpu.mem, GDT + 8, CODE64), cpu.gate(6, 0x1000)), 6, (13, 0x08),
     "not a 32-bit code segment"),
], ids=["limit", "not-present", "task-gate", "data-segment", "64-bit-code"])
def test_bad_gates_raise_the_sdms_fault(setup, vector, error, needle):
    cpu = FakeCpu()
    cpu.regs["idtr"] = (0, IDT, 32 * 8 - 1, 0)
    setup(cpu)
    with pytest.raises(DeliveryFault) as info:
        _deliver(cpu, vector)
    assert (info.value.vector, info.value.error_code) == error and needle in info.value.reason
