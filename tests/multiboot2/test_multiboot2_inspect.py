"""The hardware inspectors on a kernel that is not RustOS: the Multiboot2 test kernel's
IDT, GDT, TSS and page tables, stopped in its exception handler (its int3)."""

from __future__ import annotations

from rustos_dbg import StopKind
from rustos_dbg.repl.session import Session


def test_idt_gdt_tss_and_walk_show_the_test_kernels_tables(boot_mb2):
    machine = boot_mb2()
    stop = machine.run(until="isr_handler", timeout=60)
    assert stop.kind is StopKind.BREAKPOINT, stop
    session = Session(machine)
    stubs = machine.symbols.address_of("isr_stubs")
    idt = session.execute("idt 3")
    assert "#BP" in idt and f"{stubs + 3 * 16:#018x} <isr_stubs+0x30>" in idt, idt
    gdt = session.execute("gdt")
    assert "code 64-bit" in gdt and "64-bit TSS (busy)" in gdt and "<- TR" in gdt, gdt
    tss = session.execute("tss")
    df_stack = machine.symbols.address_of("df_stack")
    assert f"IST1  {df_stack + 4096:#018x}" in tss, tss
    walk = session.execute("walk 0x100000")
    assert "2 MiB page" in walk and "-> phys 0x100000" in walk, walk
