"""Verdicts end to end on the real kernel: a stack overflow named (``fault df``),
``stacks`` against the TSS and the thread table, the heap sanitizer at the
read after free of ``fault uaf`` (with both backtraces, and the run unchanged
until then; a double and an invalid free caught at the allocator's entry),
and an IRQ-unsafe lock flagged before its deadlock
(``fault irqlock``)."""

import re
import struct

import pytest

from rustos_dbg import Machine
from rustos_dbg.machine.stops import StopKind
from rustos_dbg.repl import CommandError, Session

from .repl_helpers import _elf_tables, elf_symbol, run, run_json

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(600)]

GUARD = 4096
RUN = "continue 60000000"


def _in(elf, path: str, address: int) -> bool:
    """True when ``address`` lies in the function ``path`` of the ELF (its v0-mangled
    name, an LLVM ``.llvm.N`` suffix allowed), read without the product's demangler."""
    parts = path.split("::")
    tail = "".join(f"{len(p)}{p}" for p in parts[1:])
    hits = [v for name, vs in _elf_tables(str(elf))[0].items() for v in vs
            if name.startswith("_RNv") and name.split(".llvm.")[0].endswith(tail) and v[2] == "STT_FUNC"]
    assert len(hits) == 1, (path, hits)
    return hits[0][0] <= address < hits[0][0] + hits[0][1]


def test_fault_df_names_the_overflowed_main_stack_and_recurse(session, rustos_elf):
    main, _ = elf_symbol(rustos_elf, "RUSTOS_MAIN_STACK")
    run(session, 'type "fault df\\n"')
    report = run(session, "continue")
    assert report.startswith("hang at"), report           # the kernel halts after its #DF report
    m = re.search(r"stack overflow: RUSTOS_MAIN_STACK exhausted \(boot stack, TSS RSP0, 0x10000 bytes\): "
                  r"rustos::fault::recurse ran into its guard page at (0x[0-9a-f]+)", report)
    assert m, report
    assert main <= int(m.group(1), 16) < main + GUARD       # the guard page, by the ELF's own symbol
    # trigger_stack_overflow is its own frame or inlined into fault_cmd, as the compiler decides
    folded = re.search(r"\n  rustos::fault::recurse x (\d+)\n(?:  rustos::fault::trigger_stack_overflow\n)?"
                       r"  rustos::shell::commands::fault_cmd\n", report)
    assert folded and int(folded.group(1)) > 64, report     # 64 KiB of frames at most a few hundred bytes each


def test_catch_df_report_names_the_overflow_too(session):
    run(session, "catch df")
    run(session, 'type "fault df\\n"')
    report = run(session, "continue")
    assert report.startswith("exception 8 caught"), report
    assert "stack overflow: RUSTOS_MAIN_STACK exhausted" in report and "rustos::fault::recurse x " in report


def test_stacks_agree_with_the_tss_and_the_thread_table(session, rustos_elf):
    machine = session.machine
    stacks = {s["name"]: s for s in run_json(session, "stacks")}
    tss = run_json(session, "tss")
    for slot in tss["rsp"] + tss["ist"]:
        if slot["stack"] is None:
            continue
        stack = stacks[slot["stack"]]
        assert slot["slot"] in stack["role"], (slot, stack)
        assert stack["guard"] == slot["stack_base"] and stack["top"] == slot["top"]
        assert stack["high_water"] == slot["used_bytes"]     # the same watermark as the TSS view's
    for name in ("RUSTOS_MAIN_STACK", "RUSTOS_DF_STACK", "RUSTOS_PF_STACK"):
        address, size = elf_symbol(rustos_elf, name)
        assert (stacks[name]["guard"], stacks[name]["top"]) == (address, address + size)
    main = stacks["RUSTOS_MAIN_STACK"]
    assert main["depth"] == main["top"] - machine.reg("rsp")   # the shell runs on the boot stack
    assert main["depth"] <= main["high_water"] < main["top"] - main["guard"] - GUARD
    threads = run_json(session, "threads")["threads"]
    own = [t for t in threads if t["stack_guard"]]
    for t in own:
        stack = stacks[f"thread {t['tid']} ({t['name']})"]
        assert (stack["guard"], stack["top"]) == (t["stack_guard"], t["stack_top"])
    assert len(stacks) == 5 + len(own)


def test_sanitizer_stops_at_the_read_after_free_with_both_backtraces(session, rustos_elf):
    machine = session.machine
    assert run(session, "sanitize heap on").startswith("heap sanitizer: on")
    run(session, 'type "fault uaf\\n"')
    report = run(session, RUN)
    assert report.startswith("heap use-after-free: read of 8 bytes at"), report
    m = re.search(r"\nheap use-after-free: read of 8 bytes at (0x[0-9a-f]+) by (0x[0-9a-f]+) "
                  r"<rustos::fault::closing_balance\+0x[0-9a-f]+> \(src/fault.rs:\d+.*\), icount (\d+)", report)
    assert m, report
    address, rip, access_icount = int(m.group(1), 16), int(m.group(2), 16), int(m.group(3))
    assert _in(rustos_elf, "rustos::fault::closing_balance", rip)
    block = re.search(r"block (0x[0-9a-f]+), 16 bytes \(freed\): the address is 8 bytes inside it", report)
    assert block and int(block.group(1), 16) + 8 == address, report
    alloc = re.search(r"allocated at rustos::fault::trigger_use_after_free \(src/fault.rs:\d+[^)]*\), icount (\d+)\n"
                      r"    #0  (0x[0-9a-f]+)", report)
    freed = re.search(r"freed at rustos::fault::trigger_use_after_free \(src/fault.rs:\d+[^)]*\), icount (\d+)\n"
                      r"    #0  (0x[0-9a-f]+)", report)
    assert alloc and freed, report
    assert int(alloc.group(1)) < int(freed.group(1)) < access_icount <= machine.icount
    for site in (alloc, freed):
        assert _in(rustos_elf, "rustos::fault::trigger_use_after_free", int(site.group(2), 16) - 1)
    assert "fault_cmd" in report.split("allocated at")[1].split("freed at")[0]   # the backtrace goes on up
    # the read happened: the kernel has not printed its result yet
    assert "fault uaf: account 2" not in machine.serial_output


def test_sanitizer_leaves_the_run_unchanged(rustos_elf):
    plain, checked = Machine.boot(rustos_elf), Machine.boot(rustos_elf)
    checked.sanitize_heap(True)
    for m in (plain, checked):
        m.hang.timeout_ns = None
        stop = m.run(max_instructions=3_000_000)
        assert stop.kind is StopKind.INSTRUCTION_LIMIT, stop.describe()
        m.send_serial("heap\n")
        stop = m.run(max_instructions=1_500_000)
        assert stop.kind is StopKind.INSTRUCTION_LIMIT, stop.describe()
    assert len(checked.sanitizer.blocks) > 0                  # it did track the boot's allocations
    assert checked.icount == plain.icount and checked.regs() == plain.regs()
    assert checked.serial_output == plain.serial_output and "rustos> heap" in plain.serial_output
    assert checked.read_physical(0, 8 << 20) == plain.read_physical(0, 8 << 20)


def test_irq_unsafe_lock_is_flagged_before_its_deadlock(session, rustos_elf):
    machine = session.machine
    assert re.match(r"tracking \d+ locks", run(session, "locks --unsafe on"))
    assert run(session, "locks --unsafe") == "no IRQ-unsafe lock seen yet (tracking)"
    run(session, 'type "fault irqlock\\n"')
    report = run(session, RUN)
    assert report.startswith("IRQ-unsafe lock rustos::interrupts::irq::DEADLOCK_DEMO: taken with interrupts on "
                             "and in an interrupt handler; stopped at"), report
    thread = re.search(r"with interrupts on: taken by (0x[0-9a-f]+) <rustos::fault::trigger_irq_unsafe_lock\+"
                       r"0x[0-9a-f]+> \(src/fault.rs:\d+.*\) in task \d+, interrupts on, icount (\d+)", report)
    irq = re.search(r"in an interrupt handler: taken by (0x[0-9a-f]+) <rustos::interrupts::irq::handle\+0x[0-9a-f]+>"
                    r" \(src/interrupts/irq.rs:\d+.*\) in the IRQ0 handler .*, interrupts off, icount (\d+)", report)
    assert thread and irq, report
    assert _in(rustos_elf, "rustos::fault::trigger_irq_unsafe_lock", int(thread.group(1), 16))
    assert _in(rustos_elf, "rustos::interrupts::irq::handle", int(irq.group(1), 16))
    flagged = machine.icount
    assert int(thread.group(2)) < int(irq.group(2)) <= flagged
    assert run(session, "check irqlocks").startswith("irqlocks: FAILED: rustos::interrupts::irq::DEADLOCK_DEMO")
    assert "DEADLOCK_DEMO" in run(session, "locks --unsafe")
    # ... and the deadlock itself comes later
    report = run(session, "continue")
    assert report.startswith("hang at") and "deadlock" in report and "DEADLOCK_DEMO" in report, report
    assert machine.icount > flagged


@pytest.mark.parametrize("line, word", [
    ("sanitize heap maybe", "usage: sanitize [heap on|off]"),
    ("sanitize stack on", "usage: sanitize [heap on|off]"),
    ("stacks 3", "usage: stacks"),
    ("locks --unsafe maybe", "usage: locks [--unsafe [on|off]]"),
])
def test_bad_verdict_commands_are_one_line_errors(session, line, word):
    with pytest.raises(CommandError) as info:
        session.execute(line)
    assert word in str(info.value) and "\n" not in str(info.value)


def test_the_sanitizer_needs_the_deterministic_mode(rustos_elf):
    session = Session(Machine.boot(rustos_elf, mode="fast"))
    with pytest.raises(CommandError) as info:
        session.execute("sanitize heap on")
    assert str(info.value) == "the heap sanitizer needs the deterministic mode"
    assert session.execute("sanitize") == "heap sanitizer: off"


def _call_push(machine, ptr: int):
    """Enters ``BlockLists::push(lists, class, ptr)`` as a call from the current rip would
    (return address pushed, arguments in registers), and runs: the sanitizer's hook at the
    entry judges the free before the function's first instruction."""
    entry = machine.symbols.find("<rustos_core::blocks::BlockLists>::push").address
    rsp = machine.reg("rsp") - 64
    machine.write_virtual(rsp, struct.pack("<Q", machine.reg("rip")))
    machine.set_reg("rsp", rsp)
    machine.set_reg("rdx", ptr)
    machine.set_reg("rip", entry)
    return machine.run(max_instructions=20, interrupts=False), entry


@pytest.mark.parametrize("offset, kind", [(0, "double-free"), (8, "invalid-free")])
def test_sanitizer_stops_a_double_or_invalid_free_before_it_runs(session, offset, kind):
    machine = session.machine
    run(session, "sanitize heap on")
    run(session, 'type "fault uaf\\n"')
    assert run(session, RUN).startswith("heap use-after-free")
    freed = [b for b in machine.sanitizer.blocks if b.freed is not None]
    assert freed
    block = freed[-1]
    machine.sanitizer.clear_error()
    before = machine.icount
    stop, entry = _call_push(machine, block.address + offset)
    assert stop.kind is StopKind.SANITIZER and stop.detail.kind == kind, stop.describe()
    assert stop.rip == entry == machine.reg("rip") and machine.icount == before   # stopped before push ran
    assert stop.detail.address == block.address + offset and stop.detail.block == block
    text = session.execute("sanitize")
    assert f"heap {kind}: free of {block.address + offset:#x}" in text
