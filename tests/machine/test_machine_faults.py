"""Exceptions through the shell's `fault` command: delivery, IST stacks, escalation, catching."""

import re
import struct

import pytest

from rustos_dbg import StopKind
from rustos_dbg.machine.delivery import Outcome, Source
from rustos_dbg.testing import PROMPT, run_to_serial

pytestmark = pytest.mark.emulator

PF, DF, GP, BP = 14, 8, 13, 3
GUARD = 4096
RUN_LIMIT = dict(max_instructions=50_000_000, timeout=60)


def stack_range(machine, name: str) -> tuple[int, int]:
    """(lowest usable address, top) of a kernel stack: above its guard page."""
    symbol = machine.symbols.find(name)
    assert symbol is not None and symbol.size > GUARD, name
    return symbol.address + GUARD, symbol.address + symbol.size


def on_stack(rsp: int, stack: tuple[int, int]) -> bool:
    return stack[0] <= rsp < stack[1]


def test_page_fault_is_delivered_on_ist2_with_the_printed_error_code(rustos_machine):
    machine = rustos_machine
    since = len(machine.exception_log)
    machine.send_keys("fault pf 0xdeadbeef000\n")  # typed on the PS/2 keyboard
    output = run_to_serial(machine, PROMPT)
    printed = re.search(r"fault pf: recovered \(CR2 (0x[0-9a-f]+), error code (0x[0-9a-f]+)\)", output)
    assert printed, output
    faults = [e for e in machine.exception_log[since:] if e.vector == PF]
    assert len(faults) == 1, [str(e) for e in machine.exception_log[since:]]
    entry = faults[0]
    assert entry.outcome is Outcome.DELIVERED and entry.source is Source.EXCEPTION
    assert entry.cr2 == 0xDEADBEEF000 == int(printed.group(1), 16)
    assert entry.error_code == int(printed.group(2), 16)
    assert entry.error_code == 0  # not present, read, supervisor (SDM Vol. 3A 4.7)
    assert entry.ist == 2
    assert on_stack(entry.new_rsp, stack_range(machine, "RUSTOS_PF_STACK")), hex(entry.new_rsp)
    assert entry.handler == machine.symbols.find("trap_stub_14").address
    handler_stack = re.search(r"handler stack (0x[0-9a-f]+) \(IST2\)", output)
    assert handler_stack and on_stack(int(handler_stack.group(1), 16), stack_range(machine, "RUSTOS_PF_STACK"))


def test_stack_overflow_double_faults_on_ist1_and_halts(rustos_machine):
    machine = rustos_machine
    since = len(machine.exception_log)
    machine.send_serial(b"fault df\n")
    stop = machine.run(**RUN_LIMIT)
    assert stop.kind is StopKind.HANG, stop.describe()
    assert not machine.reg("rflags") & (1 << 9)  # halted with interrupts off
    assert "double fault" in machine.serial_output[-2000:]
    assert "halting: unhandled double fault" in machine.serial_output
    log = machine.exception_log[since:]
    failed = [i for i, e in enumerate(log) if e.vector == PF and e.outcome is Outcome.FAULTED]
    assert failed, [str(e) for e in log if e.vector < 32]
    pf, df = log[failed[0]], log[failed[0] + 1]
    main_stack = machine.symbols.find("RUSTOS_MAIN_STACK")
    assert main_stack.address <= pf.cr2 < main_stack.address + GUARD  # ran into the main stack's guard page
    assert pf.ist == 0 and pf.new_rsp is None
    assert (df.vector, df.outcome, df.error_code, df.ist) == (DF, Outcome.DELIVERED, 0, 1), str(df)
    assert on_stack(df.new_rsp, stack_range(machine, "RUSTOS_DF_STACK")), hex(df.new_rsp)
    assert not [e for e in log[failed[0] + 2:] if e.vector < 32]  # nothing after the #DF but IRQs


def test_triple_fault_stops_with_the_whole_chain(rustos_machine):
    machine = rustos_machine
    machine.send_serial(b"fault triple\n")
    stop = machine.run(**RUN_LIMIT)
    assert stop.kind is StopKind.TRIPLE_FAULT, stop.describe()
    chain = stop.chain
    assert [e.vector for e in chain[:3]] == [BP, GP, DF], [str(e) for e in chain]
    assert [e.outcome for e in chain[:3]] == [Outcome.FAULTED] * 3
    assert chain[0].source is Source.SOFTWARE
    assert chain[-1].outcome is Outcome.SHUTDOWN and len(chain) == 4
    assert "triple fault" in stop.describe()
    assert machine.exception_log[-len(chain):] == list(chain)


def test_catching_page_faults_stops_at_the_handler(rustos_machine):
    machine = rustos_machine
    machine.catch = {PF}
    machine.send_serial(b"fault pf\n")
    stop = machine.run(**RUN_LIMIT)
    assert stop.kind is StopKind.EXCEPTION, stop.describe()
    assert stop.vector == PF
    stub = machine.symbols.find("trap_stub_14").address
    assert stop.rip == stub == machine.reg("rip")
    (entry,) = stop.chain
    assert entry.cr2 == 0xDEADBEEF000 and entry.ist == 2
    # The frame the CPU pushed: error code, RIP, CS, RFLAGS, RSP, SS.
    error, rip, cs = struct.unpack("<3Q", machine.read_virtual(machine.reg("rsp"), 24))
    assert (error, rip, cs) == (0, entry.rip, 0x08)
    assert machine.reg("rsp") == entry.new_rsp
    # Continuing runs the kernel's handler: the shell recovers.
    assert "fault pf: recovered" in run_to_serial(machine, PROMPT)
