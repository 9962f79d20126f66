"""CR2 changes only when a #PF is delivered, never because the debugger looked or stopped."""

import pytest

from rustos_dbg import Machine, StopKind

pytestmark = pytest.mark.emulator


def test_cr2_is_zero_at_kernel_main_after_a_breakpoint_on_an_unmapped_address(rustos_elf):
    machine = Machine.boot(rustos_elf)
    # At the entry kernel_main's higher-half address is not mapped yet: setting the
    # breakpoint makes Unicorn translate it, which must not leave a page fault's CR2.
    stop = machine.run(until="kernel_main", timeout=60)
    assert stop.kind is StopKind.BREAKPOINT, stop.describe()
    assert machine.reg("cr2") == 0


def test_cr2_keeps_the_last_page_fault_address_across_breakpoints(rustos_machine):
    machine = rustos_machine
    machine.catch = {14}
    machine.send_serial(b"fault pf 0xdeadbeef000\n")
    stop = machine.run(timeout=60)
    assert stop.kind is StopKind.EXCEPTION and stop.vector == 14, stop.describe()
    assert machine.reg("cr2") == 0xDEADBEEF000
    machine.catch = set()
    for name in ("rustos::shell::commands::execute", "kernel_main", "trap_common"):
        machine.breakpoints.add(machine.resolve(name))
    machine.breakpoints.add(0xFFFF_9999_0000_0000)  # unmapped: Unicorn's translation would fault
    machine.send_serial(b"echo x\n")
    stop = machine.run(timeout=60)
    assert stop.kind is StopKind.BREAKPOINT, stop.describe()
    assert machine.reg("cr2") == 0xDEADBEEF000


def test_repl_cregs_shows_cr2_zero_at_kernel_main(rustos_elf):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "rustos_dbg", "debug", str(rustos_elf), "-ex", "until kernel_main",
                          "-ex", "cregs"], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    assert "breakpoint at" in out.stdout and "<kernel_main>" in out.stdout, out.stdout
    cr2 = [line for line in out.stdout.splitlines() if line.startswith("CR2")]
    assert len(cr2) == 1 and cr2[0].split()[2] == "0x0000000000000000", cr2
