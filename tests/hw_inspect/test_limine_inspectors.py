"""Hardware inspectors on a kernel that is not RustOS: the Limine test kernel, stopped in
``limine_test_deepest`` after it loaded its own GDT, TSS, IDT and page tables.

Expected values come from the kernel itself (its serial lines) and from its ELF read
with pyelftools; RustOS inspectors must say, in one line, that this kernel lacks them.
"""

from __future__ import annotations

import re

import pytest
from elftools.elf.elffile import ELFFile

from rustos_dbg.machine import Machine, StopKind
from rustos_dbg.repl import CommandError, Session

pytestmark = pytest.mark.emulator


def _symbols(path) -> dict[str, int]:
    with open(path, "rb") as fh:
        tab = ELFFile(fh).get_section_by_name(".symtab")
        return {s.name: s["st_value"] for s in tab.iter_symbols() if s.name}


def _ending(symbols, tail: str) -> int:
    hits = [a for n, a in symbols.items() if n.endswith(tail)]
    assert len(hits) == 1, (tail, hits)
    return hits[0]


@pytest.fixture(scope="module")
def stopped(limine_elf):
    """(session, symbols) at the entry of limine_test_deepest (read-only for the tests)."""
    machine = Machine.boot(limine_elf)
    session = Session(machine)
    session.execute("break limine_test_deepest")
    session.execute("continue")
    assert machine.last_stop.kind is StopKind.BREAKPOINT, machine.last_stop.describe()
    return session, _symbols(limine_elf)


def test_gdt_shows_the_kernels_descriptors_and_its_tss(stopped):
    session, _ = stopped
    out = session.execute("gdt")
    tss = int(re.search(r"tss at (0x[0-9a-f]+)", session.machine.serial_output).group(1), 16)
    assert re.search(r"\[1\] 0x0008 .* code 64-bit", out)
    assert re.search(rf"\[3\] 0x0018 .*64-bit TSS \(busy\): base {tss:#x} limit 0x67 .*<- TR", out), out


def test_idt_shows_the_three_gates_and_their_handlers(stopped):
    session, symbols = stopped
    out = session.execute("idt")
    for vector, name, ist in ((3, "limine_test_breakpoint_stub", 0), (8, "limine_test_double_fault_stub", 1),
                              (14, "limine_test_page_fault_stub", 0)):
        address = symbols[name]
        assert re.search(rf"^ *{vector} .* P interrupt dpl 0 ist {ist} sel 0x0008 {address:#x} <{name}>", out, re.M), out
    assert re.search(r"^ *13 #GP general protection +empty", out, re.M)


def test_tss_shows_the_double_fault_stack(stopped):
    session, symbols = stopped
    out = session.execute("tss")
    df_stack = _ending(symbols, "8DF_STACK")
    assert re.search(rf"IST1 +{df_stack + 16384:#x}", out), out


def test_walk_and_maps_follow_the_kernels_own_page_tables(stopped):
    session, symbols = stopped
    deepest = symbols["limine_test_deepest"]
    low = symbols["__kernel_start"]
    walk = session.execute(f"walk {deepest:#x}")
    assert f"-> phys {0x10_0000 + deepest - low:#x} (4 KiB page, R-X, supervisor)" in walk, walk
    cr3 = int(re.search(r"cr3 (0x[0-9a-f]+)", session.machine.serial_output).group(1), 16)
    maps = session.execute("maps")
    assert maps.startswith(f"address space of CR3 {cr3:#x}")
    assert re.search(r"0xffff800000000000 .* RW- .* 2M +0x0 ", maps), maps
    assert re.search(rf"{low:#x} .* R-X .* 4K +0x100000 ", maps), maps


def test_regs_bt_dis_and_x_at_the_breakpoint(stopped):
    session, symbols = stopped
    assert re.search(rf"rip {symbols['limine_test_deepest']:#018x} <limine_test_deepest>", session.execute("regs"))
    bt = session.execute("bt")
    frames = re.findall(r"^#\d+ +0x[0-9a-f]+ in (\S+?)(?:\+0x[0-9a-f]+)?$", bt, re.M)
    assert frames == ["limine_test_deepest"] + ["limine_test_chain"] * 4 + ["_start"], frames
    assert bt.splitlines()[-1] == "(end of the frame chain (the entry's return address is 0))"
    assert "push rbp" in session.execute("dis").splitlines()[1]
    assert "<limine_test_chain+" in session.execute("x/2gx $rsp")


def test_faults_and_devices(stopped):
    session, _ = stopped
    faults = session.execute("faults")
    assert "vector 3 #BP breakpoint (software)" in faults and "<limine_test_breakpoint_stub>" in faults
    devices = session.execute("devices")
    assert "IMR 0xffff" in devices  # Limine masked every PIC line and the kernel never unmasked one


@pytest.mark.parametrize("command, missing", [
    ("heap", "heap (symbol RUSTOS_HEAP not found)"),
    ("tasks", "executor (symbol RUSTOS_EXECUTOR not found)"),
    ("bootinfo", "boot info (symbol RUSTOS_BOOT_INFO not found)"),
    ("threads", "thread table (symbol RUSTOS_THREADS not found)"),
    ("frames", "frame allocator (symbol RUSTOS_FRAMES not found)"),
    ("stacks", "kernel stacks (symbol RUSTOS_MAIN_STACK not found)"),
])
def test_rustos_inspectors_say_the_kernel_lacks_them(stopped, command, missing):
    session, _ = stopped
    with pytest.raises(CommandError) as info:
        session.execute(command)
    assert str(info.value) == f"this kernel has no RustOS {missing}"


def test_rustos_invariants_do_not_apply(stopped):
    session, _ = stopped
    lines = session.execute("check").splitlines()
    assert lines and all(": ok" in line for line in lines), lines
    assert "heap: ok (not checked: this kernel has no RustOS heap (symbol RUSTOS_HEAP not found))" in lines


def test_the_heap_sanitizer_says_there_is_no_rustos_heap(stopped):
    session, _ = stopped
    with pytest.raises(CommandError) as info:
        session.execute("sanitize heap on")
    assert "this kernel has no RustOS heap (symbol RUSTOS_HEAP not found)" in str(info.value)
    assert not session.machine.sanitizer.enabled


def test_handoff_shows_the_requests_and_the_responses_the_kernel_reads(stopped):
    session, _ = stopped
    out = session.execute("handoff")
    m = session.machine
    assert out.startswith(f"limine kernel entered at {m.image.entry:#x} with rsp 0xffff8000")
    assert re.search(r" framebuffer +rev \d+  response NULL$", out, re.M)
    hhdm = int(re.search(r" HHDM +rev 0  response (0x[0-9a-f]+)$", out, re.M).group(1), 16)
    assert int.from_bytes(m.read_virtual(hhdm + 8, 8), "little") == 0xFFFF_8000_0000_0000
    # The memory map shown is the one the kernel printed.
    printed = re.findall(r"limine: memmap (0x\w+) (0x\w+) type", m.serial_output)
    shown = re.findall(r"^  0x(\w+)-0x\w+ +0x(\w+)  ", out, re.M)
    assert [(int(b, 16), int(n, 16)) for b, n in printed] == [(int(b, 16), int(n, 16)) for b, n in shown]
    assert "note: limine: RSDP request not served" in out
