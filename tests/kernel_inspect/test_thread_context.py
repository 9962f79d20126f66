"""thread_context: which registers and CR3 a thread has, on the real kernel.

`spawn spin`, let the tick preempt it in ring 3, then stop at the kernel's `ps`
(the boot thread on the CPU): spin's context is its record's saved trap frame,
in ring 3, with rip inside spin's code (its ELF read with pyelftools), rsp in
its user stack (kernel/src/process/mod.rs: 64 KiB below 0x7fff_ffff_0000), and
its own CR3; the running thread's context is the CPU's registers. The user
program's symbols are used only when its file's code is the process's."""

import shutil

import pytest
from elftools.elf.elffile import ELFFile

from rustos_dbg import Machine
from rustos_dbg.inspect.kernel.thread_context import NoSuchThread, thread_context, thread_contexts, to_json
from rustos_dbg.inspect.kernel.threads import read_threads
from rustos_dbg.inspect.kernel.user_programs import ProgramFiles, program_of, space_symbols
from rustos_dbg.testing import PROMPT

pytestmark = pytest.mark.emulator

USER_STACK_TOP, USER_STACK_SIZE = 0x7FFF_FFFF_0000, 64 * 1024
TIMER_VECTOR = 32        # IRQ0 after the PIC remap (docs/kernel-structures.md)


def elf_function_range(path, name):
    with open(path, "rb") as fh:
        sym = next(s for s in ELFFile(fh).get_section_by_name(".symtab").iter_symbols() if s.name == name)
        return sym["st_value"], sym["st_value"] + sym["st_size"]


@pytest.fixture(scope="module")
def at_ps(kernel_elf):
    m = Machine.boot(kernel_elf)
    assert m.run_until_serial(PROMPT) is None
    m.send_serial("spawn spin\n")
    assert m.run_until_serial(PROMPT, max_instructions=20_000_000) is None
    m.run(max_instructions=30_000_000)                  # spin runs, preempted by the tick
    m.send_serial("ps\n")
    stop = m.run(until="rustos::shell::procs::ps", timeout=60)
    assert stop.kind.value == "breakpoint", stop.describe()
    return m


def test_a_preempted_process_has_its_saved_ring3_registers_and_its_own_cr3(at_ps, kernel_elf):
    m = at_ps
    table = read_threads(m, m.image)
    spin = next(t for t in table.threads if t.name == "spin")
    ctx = thread_context(m, m.image, spin.tid)
    start, end = elf_function_range(kernel_elf.parent / "user" / "spin", "_start")
    assert not ctx.on_cpu and ctx.user and ctx.left_by == TIMER_VECTOR
    assert start <= ctx["rip"] < end, hex(ctx["rip"])
    assert USER_STACK_TOP - USER_STACK_SIZE <= ctx["rsp"] <= USER_STACK_TOP
    assert ctx["cs"] & 3 == 3 and ctx["ss"] & 3 == 3
    assert ctx.cr3 == spin.cr3 and ctx.cr3 != m.reg("cr3") & ~0xFFF
    assert {"rax", "rbx", "r15", "rbp", "rflags"} <= set(ctx.values) and "vector" not in ctx.values
    assert '"left_by": 32' in to_json(ctx)


def test_the_running_thread_is_the_cpu(at_ps):
    m = at_ps
    kernel = thread_context(m, m.image, 1)
    assert kernel.on_cpu and kernel.left_by is None
    assert kernel["rip"] == m.reg("rip") and kernel["rsp"] == m.reg("rsp") and kernel["rbx"] == m.reg("rbx")
    assert kernel.cr3 == m.reg("cr3") & ~0xFFF
    assert [c.thread.tid for c in thread_contexts(m, m.image)] == [t.tid for t in read_threads(m, m.image).threads]


def test_an_unknown_id_is_one_line_naming_the_live_ones(at_ps):
    with pytest.raises(NoSuchThread) as info:
        thread_context(at_ps, at_ps.image, 99)
    assert str(info.value) == "no thread or process with id 99 (live: 1, 2)"


def test_a_program_file_names_user_code_only_when_it_is_the_process_code(at_ps, kernel_elf, tmp_path):
    m = at_ps
    spin = thread_context(m, m.image, 2)
    symbols = space_symbols(m, m.image, spin.cr3)
    assert symbols.symbolize(spin["rip"]).startswith("_start+0x")
    assert symbols.symbolize(0xFFFF_FFFF_8000_0000 + 0x1000) == m.symbolize(0xFFFF_FFFF_8000_0000 + 0x1000)
    # Another program's file under spin's name: its code differs, so it names nothing.
    (tmp_path / "user").mkdir()
    shutil.copy(kernel_elf.parent / "user" / "hello", tmp_path / "user" / "spin")
    wrong = ProgramFiles(tmp_path / "rustos.elf")
    assert wrong.get("spin") is not None
    assert program_of(m, m.image, wrong, spin.cr3) is None
    right = ProgramFiles(kernel_elf)
    assert program_of(m, m.image, right, spin.cr3).name == "spin"
    assert program_of(m, m.image, right, m.reg("cr3")) is None     # the kernel's own space runs no program
