"""Kernel invariants on the real kernel: every check passes on a healthy boot and
fails on its planted bug; bisect finds the overrun's write; the REPL's commands."""

import re

import pytest

from rustos_dbg import Machine
from rustos_dbg.inspect.hw.pagewalk import walk_address
from rustos_dbg.inspect.invariants import INVARIANTS
from rustos_dbg.repl.registry import CommandError
from rustos_dbg.repl.session import Session

PROMPT = "rustos> "
PATTERN = int.from_bytes(b"OVERRUN!", "little")


@pytest.fixture(scope="module")
def shell(kernel_elf):
    """A machine at the shell prompt, its history recorded; tests restore what they change."""
    m = Machine.boot(kernel_elf, history=True)
    assert m.run_until_serial(PROMPT) is None
    return m


@pytest.fixture(scope="module")
def overrun(kernel_elf):
    """A machine right after `fault overrun` (the prompt again), and the two block addresses."""
    m = Machine.boot(kernel_elf, history=True)
    assert m.run_until_serial(PROMPT) is None
    m.send_serial("fault overrun\n")
    assert m.run_until_serial(PROMPT, max_instructions=20_000_000) is None
    found = re.search(r"past the block at (0x[0-9a-f]+), into the free block at (0x[0-9a-f]+)", m.serial_output)
    assert found, m.serial_output[-500:]
    return m, int(found.group(1), 16), int(found.group(2), 16)


def failing(machine, name):
    (result,) = machine.check([name])
    return result


def test_every_check_passes_on_a_healthy_shell(shell):
    results = shell.check()
    assert [r.name for r in results] == list(INVARIANTS)
    assert all(r.ok for r in results), [r for r in results if not r.ok]


def test_heap_fails_after_an_overrun_naming_the_block_and_its_link(overrun):
    m, block, victim = overrun
    heap = failing(m, "heap")
    assert not heap.ok
    assert f"free block {victim:#x} header overwritten: its link {PATTERN:#x}" in heap.problems[0]
    assert heap.culprit == (victim, 8)
    assert all(r.ok for r in m.check(["executor", "idt", "tss", "paging"]))
    assert m.check("heap") == (heap,)


@pytest.fixture
def restoring(shell):
    state = shell.snapshot()
    yield shell
    shell.restore(state)


def test_idt_fails_on_a_gate_not_present(restoring):
    m = restoring
    gate = m.reg("idtr")[1] + 14 * 16
    raw = bytearray(m.read_virtual(gate, 16))
    raw[5] &= 0x7F  # P = 0 (SDM Vol. 3A §6.14.1)
    m.write_virtual(gate, bytes(raw), force=True)
    result = failing(m, "idt")
    assert result.problems == ("vector 14 (#PF page fault): gate not present",)


def test_idt_fails_on_an_empty_ist_slot(restoring):
    m = restoring
    tss = m.reg("tr")[1]
    ist = next(g for g in range(32) if m.read_virtual(m.reg("idtr")[1] + g * 16 + 4, 1)[0] & 7)
    slot = m.read_virtual(m.reg("idtr")[1] + ist * 16 + 4, 1)[0] & 7
    m.write_virtual(tss + 0x24 + 8 * (slot - 1), bytes(8), force=True)  # ISTn at 0x24 (SDM Vol. 3A §8.7)
    assert any(f"IST{slot} is 0 in the TSS" in p for p in failing(m, "idt").problems)


def test_tss_fails_on_a_stack_not_mapped(restoring):
    m = restoring
    tss = m.reg("tr")[1]
    m.write_virtual(tss + 4, (0x7777_0000_0000).to_bytes(8, "little"), force=True)  # RSP0
    assert failing(m, "tss").problems == ("RSP0 0x777700000000: the stack below it is not mapped writable",)


def test_paging_fails_on_a_writable_executable_page(restoring):
    m = restoring
    leaf = walk_address(m, 0x4444_4444_0000).levels[-1]
    entry = int.from_bytes(m.read_physical(leaf.entry_addr, 8), "little")
    assert entry & (1 << 63) and entry & 2, "the heap is mapped RW and NX"
    m.write_physical(leaf.entry_addr, (entry & ~(1 << 63)).to_bytes(8, "little"))
    problems = failing(m, "paging").problems
    assert len(problems) == 1 and problems[0].startswith("0x444444440000-0x444444441000")


def test_bisect_finds_the_overrunning_write(overrun, kernel_elf):
    m, block, victim = overrun
    now = m.icount
    report = m.bisect("heap", move=False)
    assert m.icount == now
    assert report.symbol.startswith("rustos::fault::trigger_heap_overrun")
    assert report.write is not None and report.write.address == victim
    assert report.write.new == PATTERN and report.write.icount == report.icount
    assert report.backtrace.frames[1].symbol.startswith("rustos::shell::commands::fault_cmd")
    m.goto(report.passed_at)
    assert failing(m, "heap").ok
    m.goto(now)


def test_repl_check_lines_check_every_and_bisect(kernel_elf):
    m = Machine.boot(kernel_elf, history=True)
    s = Session(m)
    s.execute("until rustos::shell::start")
    lines = s.execute("check").splitlines()
    assert lines[:-2] == [f"{name}: ok" for name in INVARIANTS if name not in ("stubs", "irqlocks")]
    assert lines[-2] == "irqlocks: ok (not tracked: locks --unsafe on)"
    assert lines[-1] == "stubs: ok (no IRQ returned yet)"  # the PIC is unmasked later
    s.execute('serial "fault overrun\\n"')
    start = m.icount
    assert s.execute("check every 100000") == "checks every 100000 instructions"
    stopped = s.execute("continue")
    assert "check every 100000: heap: FAILED: free block 0x" in stopped
    assert (m.icount - start) % 100000 == 0  # the run went in chunks of 100000
    s.execute("check every off")
    text = s.execute("bisect heap")
    head = re.match(r"bisect heap: first fails at icount (\d+) ", text)
    assert head and int(head.group(1)) == m.icount
    assert "trigger_heap_overrun" in text and f"-> {PATTERN:#x}" in text
    assert s.execute("check heap").startswith("heap: FAILED: free block")
    s.execute("check on")
    assert "check heap: FAILED" in s.execute("stepi")
    with pytest.raises(CommandError, match="^unknown check 'nosuch' \\(checks: heap, executor"):
        s.execute("check nosuch")
    with pytest.raises(CommandError, match="^tss passes here"):
        s.execute("bisect tss")


def test_paging_fails_on_a_table_frame_the_allocator_marks_free(restoring):
    from rustos_dbg.inspect.kernel import read_frames

    m = restoring
    frames = read_frames(m, m.image)
    assert frames.bitmap and frames.used_bits
    pml4 = m.reg("cr3") & ~0xFFF
    frame = pml4 // frames.frame_size
    word_at = frames.bitmap + frame // 64 * 8
    word = int.from_bytes(m.read_virtual(word_at, 8), "little")
    assert word >> (frame % 64) & 1, "the PML4's frame is in use"
    m.write_virtual(word_at, (word & ~(1 << (frame % 64))).to_bytes(8, "little"))
    assert failing(m, "paging").problems == (
        f"the PML4 table at physical {pml4:#x} is in frame {frame}, which the frame allocator marks free",)


def test_stubs_fail_when_trap_common_pops_two_registers_swapped(kernel_elf):
    # The planted bug: `pop %rdi; pop %rsi` at the end of trap_common swapped, so every
    # interrupt returns with rsi and rdi exchanged (they differ in the idle loop).
    m = Machine.boot(kernel_elf)
    assert m.run_until_serial(PROMPT) is None
    m.history.enable(interval=1_000_000)
    m.run(max_instructions=1_000_000)
    assert m.check("stubs")[0].ok and m.check("stubs")[0].note.startswith("IRQ0 timer (PIT) at icount ")
    m = Machine.boot(kernel_elf)
    assert m.run_until_serial(PROMPT) is None
    stub = m.resolve("trap_common")
    at = m.read_virtual(stub, 128).index(bytes.fromhex("5d5f5e5a59"))  # pop rbp, rdi, rsi, rdx, rcx
    m.write_virtual(stub + at + 1, bytes.fromhex("5e5f"), force=True)
    m.flush_caches()
    m.history.enable(interval=1_000_000)
    m.run(max_instructions=1_000_000)
    now = m.icount
    (result,) = m.check("stubs")
    assert m.icount == now
    found = re.match(r"IRQ0 timer \(PIT\) delivered at icount (\d+) to (\S+), returned at icount (\d+): "
                     r"rsi (0x[0-9a-f]+) -> (0x[0-9a-f]+), rdi (0x[0-9a-f]+) -> (0x[0-9a-f]+)$", result.problems[0])
    assert found, result.problems
    assert found.group(4) == found.group(7) and found.group(5) == found.group(6)  # exchanged


def test_paging_fails_when_an_address_space_has_another_kernel_half(kernel_elf):
    from rustos_dbg.inspect.invariants.paging import address_spaces

    m = Machine.boot(kernel_elf)
    assert m.run_until_serial(PROMPT) is None
    m.send_serial("spawn spin\n")                       # a ring-3 process with its own PML4, alive
    assert m.run_until_serial(PROMPT, max_instructions=20_000_000) is None
    current = m.reg("cr3") & ~0xFFF
    others = [(tid, pml4) for tid, pml4 in address_spaces(m) if pml4 != current]
    assert len(address_spaces(m)) >= 2 and others, address_spaces(m)   # the kernel's and spin's
    assert failing(m, "paging").ok                      # every kernel half the same
    tid, pml4 = others[0]
    entry = pml4 + 300 * 8
    m.write_physical(entry, (int.from_bytes(m.read_physical(entry, 8), "little") ^ 0x1000).to_bytes(8, "little"))
    problems = failing(m, "paging").problems
    assert len(problems) == 1 and problems[0].startswith(
        f"thread {tid}'s address space (PML4 at {pml4:#x}): kernel-half entry 300 is "), problems
