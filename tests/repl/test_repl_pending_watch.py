"""A watchpoint on an address the kernel maps later is pending, then armed and
hit: the kernel's `heap_growth` test grows the heap past its initial 256 KiB
(kernel/src/heap.rs: HEAP_START 0x4444_4444_0000, HEAP_INITIAL) and fills the
new memory with 7s."""

import pytest

from rustos_dbg import Machine
from rustos_dbg.machine.errors import GuestMemoryError
from rustos_dbg.repl import Session

from .repl_helpers import run, run_json

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(240)]

HEAP_START, HEAP_INITIAL = 0x4444_4444_0000, 256 * 1024
TARGET = HEAP_START + HEAP_INITIAL + 0x20000      # beyond the initial heap


def test_pending_watchpoint_is_armed_when_the_heap_grows_over_it(rustos_elf):
    machine = Machine.boot(rustos_elf, cmdline="test=heap_growth")
    session = Session(machine)
    assert run(session, "until rustos::heap::init").startswith("breakpoint at")
    with pytest.raises(GuestMemoryError):
        machine.read_virtual(TARGET, 8)                              # not mapped yet
    reply = run(session, f"watch {TARGET:#x}")
    assert reply == f"write watchpoint on {TARGET:#x} (8 bytes) <{TARGET:#x}>: pending (not mapped yet; armed when it is)"
    assert run(session, "info watchpoints").endswith("(pending: not mapped yet)")

    report = run(session, "continue")
    lines = report.splitlines()
    assert lines[0].startswith(f"watchpoint (write) on {TARGET:#x} at"), report
    assert lines[1].startswith(f"  write of {TARGET:#x} by the instruction at 0x"), report
    new = int.from_bytes(machine.read_virtual(TARGET, 8), "little")  # mapped now
    assert lines[2] == f"  old 0x0 -> new {new:#x}", report           # a fresh frame, then the 7s
    assert new and set(new.to_bytes(8, "little").rstrip(b"\0")) == {7}, hex(new)
    assert session.last_stop.old_value == 0 and session.last_stop.new_value == new
    assert "(pending" not in run(session, "info watchpoints")
    heap = run_json(session, "heap")
    assert heap["stats"]["grows"] >= 1 and heap["start"] + heap["size"] > TARGET
    assert "test heap_growth" not in machine.serial_output           # stopped inside the test
