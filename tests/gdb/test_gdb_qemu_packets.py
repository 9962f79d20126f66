"""The machine's gdb target answers QEMU's packets (gef's test for a QEMU system target) as QEMU does."""

import pytest

from gdbstub import Dispatcher
from rustos_dbg.gdb import MachineTarget
from rustos_dbg.gdb.xml import INDEX
from rustos_dbg.machine import Machine
from rustos_dbg.testing import PROMPT

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def machine(kernel_elf):
    m = Machine.boot(kernel_elf)
    assert m.run_until_serial(PROMPT, timeout=60) is None
    m.run(stop_when=lambda: m.halted, timeout=60)
    assert m.halted
    return m


def answer(d, payload):
    (reply,) = d.handle(payload).packets
    return reply


def test_sstepbits_and_sstep_as_qemu(machine):
    d = Dispatcher(MachineTarget(machine))
    assert answer(d, b"Qqemu.sstepbits") == b"ENABLE=1,NOIRQ=2,NOTIMER=4"
    assert answer(d, b"qqemu.sstep") == b"0x7"
    assert answer(d, b"Qqemu.sstep=1") == b"OK" and answer(d, b"qqemu.sstep") == b"0x1"
    assert answer(d, b"Qqemu.sstep=8") == b"E16"  # not one of QEMU's flags
    assert answer(d, b"qOffsets") == b""


def test_phymemmode_reads_and_writes_physical_memory(machine):
    d = Dispatcher(MachineTarget(machine))
    cr3 = machine.reg("cr3") & ~0xFFF
    assert answer(d, b"qqemu.PhyMemMode") == b"0"
    assert answer(d, b"Qqemu.PhyMemMode:1") == b"OK"
    assert answer(d, b"m%x,800" % cr3) == machine.read_physical(cr3, 0x800).hex().encode()
    spare = machine.ram_bytes - 0x1000
    assert answer(d, b"M%x,4:deadbeef" % spare) == b"OK"
    assert machine.read_physical(spare, 4) == bytes.fromhex("deadbeef")
    assert answer(d, b"m%x,10" % (machine.ram_bytes - 8)) == machine.read_physical(machine.ram_bytes - 8, 8).hex().encode()
    assert answer(d, b"m%x,10" % machine.ram_bytes) == b"E0e"
    assert answer(d, b"Qqemu.PhyMemMode:0") == b"OK"
    assert answer(d, b"m%x,8" % cr3).startswith(b"E")  # low physical addresses are not mapped virtually


def test_a_written_pc_takes_the_cpu_out_of_hlt(machine):
    assert machine.halted
    target = MachineTarget(machine)
    rip = machine.reg("rip")
    target.write_register(INDEX["rip"], (rip + 1).to_bytes(8, "little"))
    assert not machine.halted and machine.reg("rip") == rip + 1
