"""The real gdb against the real kernel under our stub: unwinding out of an
exception (the trap stubs' CFI) and the gdb support script the ELF carries
(``kernel/gdb/rustos.py`` in ``.debug_gdb_scripts``).
"""

from __future__ import annotations

import re

import pytest

from gdb_mi_driver import Gdb, REAL_GDB_MARKS, served_machine, TICKS_SYMBOL

pytest.importorskip("pygdbmi.gdbcontroller")

pytestmark = REAL_GDB_MARKS

HANDLE = "rustos::interrupts::exceptions::handle"
FAULT_CMD = "rustos::shell::commands::fault_cmd"
PHYS_OFFSET = 0xFFFF_8000_0000_0000
PAGE_TABLE = "x86_64::structures::paging::page_table::PageTable"
#: TrapFrame offsets (docs/kernel-structures.md §8).
FRAME_VECTOR, FRAME_RIP, FRAME_RSP = 15 * 8, 17 * 8, 20 * 8


def _u64(machine, address):
    return int.from_bytes(machine.read_virtual(address, 8), "little")


def _with_script(elf) -> Gdb:
    """gdb as the README starts it: the ELF's directory in the auto-load safe-path."""
    return Gdb(elf, options=("-iex", f"add-auto-load-safe-path {elf.parent}"))


def _stop_in_handler(gdb, machine, server):
    """hbreak on the exception handler, `fault pf` typed, stopped there; returns the TrapFrame address."""
    gdb.connect(server.address[1])
    assert "Hardware assisted breakpoint 1" in gdb.console(f"hbreak {HANDLE}")
    machine.send_serial(b"fault pf 0xdeadbeef000\n")
    stopped = gdb.run_until_stopped("-exec-continue")
    assert stopped["reason"] == "breakpoint-hit" and stopped["frame"]["func"] == HANDLE, stopped
    frame = machine.reg("rdi")  # handle(frame: &mut TrapFrame), at its first instruction
    assert _u64(machine, frame + FRAME_VECTOR) == 14
    return frame


def test_backtrace_from_the_exception_handler_reaches_the_interrupted_function(kernel_elf):
    with served_machine(kernel_elf) as (machine, target, server):
        gdb = Gdb(kernel_elf)
        try:
            frame = _stop_in_handler(gdb, machine, server)
            frames = gdb.frames()
            funcs = [f.get("func", "??") for f in frames]
            common = funcs.index("trap_common")
            interrupted = frames[common + 1]
            # The interrupted code is the page-faulting read inside `fault pf` (an
            # inlined closure of fault_cmd), at the instruction the TrapFrame names.
            assert funcs[common + 1].startswith(FAULT_CMD), funcs
            assert int(interrupted["addr"], 16) == _u64(machine, frame + FRAME_RIP)
            assert FAULT_CMD in funcs[common + 1:], funcs
            # ... up to the kernel's entry, the outermost frame, with no unknown frames.
            assert funcs[-1] == "kernel_entry" and "??" not in funcs, funcs
            # The interrupted frame's registers are the TrapFrame's, not the handler's.
            gdb.command(f"-stack-select-frame {interrupted['level']}")
            assert gdb.reg("rsp") == _u64(machine, frame + FRAME_RSP)
            assert gdb.reg("rip") == _u64(machine, frame + FRAME_RIP)
        finally:
            gdb.exit()


def test_backtrace_from_the_trap_stub_of_a_caught_exception(kernel_elf):
    with served_machine(kernel_elf) as (machine, target, server):
        gdb = Gdb(kernel_elf)
        try:
            gdb.connect(server.address[1])
            assert "catching vector" in gdb.console("monitor catch pf")
            machine.send_serial(b"fault pf 0xdeadbeef000\n")
            stopped = gdb.run_until_stopped("-exec-continue")
            assert stopped["signal-name"] == "SIGSEGV", stopped
            funcs = [f.get("func", "??") for f in gdb.frames()]
            assert funcs[0] == "trap_stub_14", funcs
            assert funcs[1].startswith(FAULT_CMD), funcs
            assert funcs[-1] == "kernel_entry" and "??" not in funcs, funcs
        finally:
            gdb.exit()


def test_the_support_script_loads_with_the_elf(kernel_elf):
    with served_machine(kernel_elf) as (machine, target, server):
        gdb = _with_script(kernel_elf)
        try:
            listing = gdb.console("info auto-load python-scripts")
            assert re.search(r"^Yes\s+gdb\.inlined-script\.rustos", listing, re.M), listing
            gdb.connect(server.address[1])
            ticks = _u64(machine, machine.symbols.find(TICKS_SYMBOL).address)
            assert gdb.console("p RUSTOS_TICKS").strip().endswith(f"= {ticks}")
            assert gdb.console("p/x RUSTOS_BREAKPOINTS").strip().endswith("= 0x0")
        finally:
            gdb.exit()


def test_short_names_and_pretty_printers_in_the_exception_handler(kernel_elf):
    with served_machine(kernel_elf) as (machine, target, server):
        gdb = _with_script(kernel_elf)
        try:
            frame = _stop_in_handler(gdb, machine, server)
            # The TrapFrame: its vector and registers, in hex.
            text = gdb.console("p *frame")
            assert "TrapFrame: vector 14 (#PF), error code 0x0" in text, text
            assert f"rip {_u64(machine, frame + FRAME_RIP):#018x}" in text, text
            assert f"rax {_u64(machine, frame + 14 * 8):#018x}" in text, text
            # Short names, also from the assembly frame (trap_common).
            ticks = _u64(machine, machine.symbols.find(TICKS_SYMBOL).address)
            gdb.console("frame 1")
            assert gdb.console("p RUSTOS_TICKS").strip().endswith(f"= {ticks}")
            # A page-table entry prints as its frame and flags: PML4[511] maps the kernel.
            pml4 = machine.reg("cr3") & ~0xFFF
            raw = int.from_bytes(machine.read_physical(pml4 + 511 * 8, 8), "little")
            text = gdb.console(f"p (({PAGE_TABLE} *)({PHYS_OFFSET:#x} + {pml4:#x}))->entries[511]")
            assert f"{raw:#018x} -> {raw & 0x000F_FFFF_FFFF_F000:#x} PRESENT | WRITABLE" in text, text
            assert "USER_ACCESSIBLE" not in text and "NO_EXECUTE" not in text
            # The heap and the executor behind their IrqMutex, atomics unwrapped.
            heap = gdb.console("p RUSTOS_HEAP")
            assert "IrqMutex (unlocked)" in heap and "heap 0x444444440000.." in heap, heap
            assert re.search(r"hole 0x[0-9a-f]+ = \d+ B", heap), heap
            tasks = gdb.console("p RUSTOS_EXECUTOR")
            assert re.search(r"task \d+ = shell: running", tasks), tasks
            assert "Atomic" not in heap + tasks and "UnsafeCell" not in heap + tasks
        finally:
            gdb.exit()


@pytest.mark.qemu
def test_qemu_gdbstub_unwinds_out_of_the_exception_too(kernel_elf):
    """The CFI is the kernel's, not our stub's: gdb on QEMU's gdbstub unwinds the same way."""
    import shutil
    import subprocess

    from gdb_mi_driver import free_port

    qemu = shutil.which("qemu-system-x86_64")
    if qemu is None:
        pytest.skip("qemu-system-x86_64 is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [qemu, "-kernel", str(kernel_elf), "-serial", "stdio", "-display", "none", "-no-reboot",
         "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-gdb", f"tcp:127.0.0.1:{port}", "-S"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gdb = Gdb(kernel_elf)
    try:
        gdb.connect(port)
        assert "Hardware assisted breakpoint 1" in gdb.console(f"hbreak {HANDLE}")
        proc.stdin.write(b"fault pf 0xdeadbeef000\n")  # read by the shell once it runs
        proc.stdin.flush()
        stopped = gdb.run_until_stopped("-exec-continue")
        assert stopped["reason"] == "breakpoint-hit" and stopped["frame"]["func"] == HANDLE, stopped
        funcs = [f.get("func", "??") for f in gdb.frames()]
        common = funcs.index("trap_common")
        assert funcs[common + 1].startswith(FAULT_CMD), funcs
        assert funcs[-1] == "kernel_entry" and "??" not in funcs, funcs
    finally:
        gdb.exit()
        proc.kill()
        proc.wait()
