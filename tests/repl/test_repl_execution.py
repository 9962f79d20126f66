"""Execution control through the REPL: break/continue, stepi, finish, next,
until, watch and catch. Instruction facts are checked with capstone on the
guest's bytes and addresses with the ELF read by pyelftools."""

import re
import struct

import pytest
from capstone import CS_AC_WRITE, CS_ARCH_X86, CS_MODE_64, Cs
from capstone.x86 import X86_OP_MEM, X86_REG_INVALID, X86_REG_RIP

from rustos_dbg.testing import PROMPT

from .repl_helpers import elf_function, elf_symbol, interrupt_after, run, stop_icount

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(180)]

HEAP_CMD = "rustos::shell::commands::heap_cmd"
EXECUTE = "rustos::shell::commands::execute"

_CS = Cs(CS_ARCH_X86, CS_MODE_64)
_CS.detail = True


def insn_at(machine, address):
    return next(_CS.disasm(machine.read_virtual(address, 16), address, 1))


def in_function(elf, path, address):
    start, size = elf_function(elf, path)
    return start <= address < start + size


def at_heap_cmd(session, elf):
    """Types `heap`, breaks at heap_cmd and continues there; returns the stop report."""
    address, _ = elf_function(elf, HEAP_CMD)
    assert run(session, f"break {HEAP_CMD}") == f"breakpoint at {address:#x} <{HEAP_CMD}>"
    run(session, 'serial "heap\\n"')
    report = run(session, "continue")
    run(session, "delete")
    return report


def test_break_and_continue_stop_at_the_symbol(session, rustos_elf):
    address, _ = elf_function(rustos_elf, HEAP_CMD)
    before = session.machine.icount
    report = at_heap_cmd(session, rustos_elf)
    assert re.match(rf"breakpoint at {address:#x} after \d+ instructions\n{address:#x} <{re.escape(HEAP_CMD)}>: ",
                    report), report
    assert session.machine.reg("rip") == address
    assert stop_icount(report) == session.machine.icount > before
    assert "heap: 0x" not in session.machine.serial_output.split("rustos> heap")[-1]   # not run yet


def test_stepi_advances_exactly_one_instruction(session, rustos_elf):
    machine = session.machine
    at_heap_cmd(session, rustos_elf)
    for _ in range(4):
        rip, icount = machine.reg("rip"), machine.icount
        insn = insn_at(machine, rip)
        assert insn.mnemonic not in ("call", "ret", "jmp") and not insn.mnemonic.startswith("j")
        report = run(session, "stepi")
        assert report.startswith(f"step at {rip + insn.size:#x} after {icount + 1} instructions"), report
        assert (machine.reg("rip"), machine.icount) == (rip + insn.size, icount + 1)
    icount = machine.icount
    assert stop_icount(run(session, "si 3")) == icount + 3 == machine.icount


def test_finish_from_heap_cmd_returns_into_execute_after_the_call(session, rustos_elf):
    machine = session.machine
    at_heap_cmd(session, rustos_elf)
    rsp = machine.reg("rsp")
    return_address = struct.unpack("<Q", machine.read_virtual(rsp, 8))[0]
    start = len(machine.serial_output)
    report = run(session, "finish")
    assert report.startswith(f"run till exit from {HEAP_CMD}\n"), report
    rip = machine.reg("rip")
    assert rip == return_address and machine.reg("rsp") == rsp + 8
    assert in_function(rustos_elf, EXECUTE, rip)
    assert f"<{EXECUTE}+{rip - elf_function(rustos_elf, EXECUTE)[0]:#x}>" in report
    # the instruction just before rip, found by a linear sweep of execute, is the call
    begin, _ = elf_function(rustos_elf, EXECUTE)
    code = machine.read_virtual(begin, rip - begin)
    previous = list(_CS.disasm(code, begin))[-1]
    assert previous.address + previous.size == rip and previous.mnemonic == "call", previous
    assert "heap: 0x444444440000 size" in machine.serial_output[start:]   # heap_cmd ran to its end


def _at_first_call_of_heap_cmd(session, elf):
    machine = session.machine
    at_heap_cmd(session, elf)
    for _ in range(200):
        insn = insn_at(machine, machine.reg("rip"))
        if insn.mnemonic == "call":
            return insn
        run(session, "stepi")
    pytest.fail("no call in the first 200 instructions of heap_cmd")


def test_next_steps_over_a_call(session, rustos_elf):
    machine = session.machine
    insn = _at_first_call_of_heap_cmd(session, rustos_elf)
    rsp, icount, call_end = machine.reg("rsp"), machine.icount, insn.address + insn.size
    with interrupt_after(machine, 120.0) as guard:   # a hang guard only: a few microseconds of guest time are needed
        report = run(session, "next")
    assert not guard.fired and not report.startswith("interrupted"), report
    rip = machine.reg("rip")
    assert in_function(rustos_elf, HEAP_CMD, rip), report        # still in heap_cmd: not in the callee
    assert rip >= call_end and machine.reg("rsp") == rsp, report
    assert machine.icount > icount + 1                          # the callee ran meanwhile
    # The new line may belong to code inlined into heap_cmd (e.g. src/heap.rs).
    assert re.search(r"\.rs:\d+$", report.splitlines()[-1]), report


def test_stepi_over_the_same_call_enters_the_callee(session, rustos_elf):
    """The counterpart of `next`: the call at the same place does enter its callee."""
    machine = session.machine
    insn = _at_first_call_of_heap_cmd(session, rustos_elf)
    rsp = machine.reg("rsp")
    run(session, "stepi")
    assert not in_function(rustos_elf, HEAP_CMD, machine.reg("rip"))
    assert machine.reg("rsp") == rsp - 8
    assert struct.unpack("<Q", machine.read_virtual(machine.reg("rsp"), 8))[0] == insn.address + insn.size


def test_until_runs_to_a_symbol_and_leaves_no_breakpoint(session, rustos_elf):
    machine = session.machine
    address, _ = elf_function(rustos_elf, HEAP_CMD)
    run(session, 'serial "heap\\n"')
    report = run(session, f"until {HEAP_CMD}")
    assert report.startswith(f"breakpoint at {address:#x} after"), report
    assert machine.reg("rip") == address
    assert run(session, "info breakpoints") == "no breakpoints"
    assert machine.run_until_serial(PROMPT, timeout=60) is None
    machine.send_serial("heap\n")                                # no stop at heap_cmd this time
    assert machine.run_until_serial(PROMPT, timeout=60) is None


def test_watch_stops_right_after_the_writing_instruction(session, rustos_elf):
    machine = session.machine
    ticks, _ = elf_symbol(rustos_elf, "RUSTOS_TICKS")
    before = struct.unpack("<Q", machine.read_virtual(ticks, 8))[0]
    assert run(session, "watch RUSTOS_TICKS") == f"write watchpoint on {ticks:#x} (8 bytes) <RUSTOS_TICKS>"
    report = run(session, "continue")
    rip = machine.reg("rip")
    m = re.match(rf"watchpoint \(write\) on {ticks:#x} at {rip:#x} after (\d+) instructions\n"
                 rf"  write of {ticks:#x} by the instruction at (0x[0-9a-f]+)\n", report)
    assert m, report
    writer = insn_at(machine, int(m.group(2), 16))
    assert writer.address + writer.size == rip                 # the instruction right before the new rip
    targets = []
    for op in writer.operands:
        if op.type == X86_OP_MEM and op.access & CS_AC_WRITE:
            assert op.mem.base == X86_REG_RIP and op.mem.index == X86_REG_INVALID
            targets.append(writer.address + writer.size + op.mem.disp)
    assert targets == [ticks], (writer.mnemonic, writer.op_str)
    assert struct.unpack("<Q", machine.read_virtual(ticks, 8))[0] == before + 1
    assert "rustos::interrupts" in report.splitlines()[-1]     # the timer IRQ handler
    assert f"write  {ticks:#x} (8 bytes) <RUSTOS_TICKS>" in run(session, "info watchpoints")


def test_catch_df_stops_at_the_double_fault_delivery_on_ist1(session, rustos_elf):
    machine = session.machine
    assert run(session, "catch df") == "catching vector 8"
    run(session, 'type "fault df\\n"')
    report = run(session, "continue")
    stub8, _ = elf_symbol(rustos_elf, "trap_stub_8")
    df_stack, df_size = elf_symbol(rustos_elf, "RUSTOS_DF_STACK")
    assert report.startswith(f"exception 8 caught at {stub8:#x} after"), report
    assert re.search(r"vector 8 #DF double fault \(exception\) error 0x0\n(.*\n)*\s+-> 0x[0-9a-f]+ <trap_stub_8> on IST 1", report), report
    frame = re.search(r"frame at (0x[0-9a-f]+) \(IST1\)", report)
    assert frame and int(frame.group(1), 16) == df_stack + df_size - 6 * 8, report
    assert "(interrupted at rustos::fault::recurse" in report
    assert machine.reg("rip") == stub8
    assert df_stack + 4096 <= machine.reg("rsp") < df_stack + df_size    # on the DF stack, above its guard
    ist1 = next(line for line in run(session, "tss").splitlines() if line.strip().startswith("IST1"))
    assert "RUSTOS_DF_STACK" in ist1 and "live depth 0x30" in ist1, ist1
    # the #PF that could not be delivered (its IST switched off, the stack in the guard page) came first
    log = run(session, "faults 2")
    assert re.search(r"vector 14 #PF page fault .*\n(?:.*\n)*.*cr2 0x[0-9a-f]+ <RUSTOS_MAIN_STACK", log), log
    assert "vector 8 #DF double fault" in log and "on IST 1" in log
