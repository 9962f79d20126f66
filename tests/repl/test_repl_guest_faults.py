"""The session never exits on a fault of the guest: stop reports, then the
inspectors still work (CLI batch mode and in-process)."""

import re

import pytest

from .repl_helpers import elf_symbol, error_lines, run, run_cli

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(180)]


def test_caught_ud_then_halted_kernel_then_faults_in_batch_mode(rustos_elf):
    done = run_cli(rustos_elf, "catch ud", 'type "fault ud\\n"', "continue", "continue", "continue",
                   "faults", "output 2", "idt 6")
    assert (done.returncode, error_lines(done.stderr)) == (0, []), done.stderr
    out = done.stdout
    stub6, _ = elf_symbol(rustos_elf, "trap_stub_6")
    report = re.search(r"^exception 6 caught at (0x[0-9a-f]+) after \d+ instructions$", out, re.M)
    assert report and int(report.group(1), 16) == stub6, out
    assert re.search(r"vector 6 #UD invalid opcode \(exception\)\n.*\n\s+-> 0x[0-9a-f]+ <trap_stub_6> on same stack", out), out
    assert "frame at 0x" in out and "(same stack)" in out          # #UD has no IST (docs §7)
    assert "(interrupted at rustos::shell::commands::fault_cmd" in out
    # the kernel's handler halts for good: `continue` says so, twice, and the session goes on
    halted = re.findall(r"^hang at 0x[0-9a-f]+ after (\d+) instructions: HLT with interrupts disabled: .*$", out, re.M)
    assert len(halted) == 2 and halted[0] == halted[1], out
    assert re.search(r"vector 6 #UD invalid opcode \(exception\)", out), out
    assert "halting: unhandled invalid opcode (#UD)" in out
    assert re.search(rf"^\s*6 #UD invalid opcode\s+P interrupt .* {stub6:#018x}", out, re.M), out


def test_uncaught_ud_halts_and_the_session_goes_on(session):
    run(session, 'type "fault ud\\n"')
    report = run(session, "continue")
    assert report.startswith("hang at ") and "HLT with interrupts disabled" in report, report
    faults = run(session, "faults")
    assert re.search(r"vector 6 #UD invalid opcode", faults), faults
    assert "halting: unhandled invalid opcode" in run(session, "output 3")
    assert run(session, "bt").startswith("#0 ")
    assert "RUSTOS_MAIN_STACK" in run(session, "tss")


def test_triple_fault_is_reported_with_its_chain_and_the_session_goes_on(session):
    run(session, 'type "fault triple\\n"')
    report = run(session, "continue")
    first = report.splitlines()[0]
    assert first.startswith("triple fault at ") and "while delivering #BP breakpoint" in first, report
    assert "(4 deliveries in the chain)" in first
    chain = re.findall(r"^  \[\d+\] icount \d+: vector \d+ (.+?) \(", report, re.M)
    assert chain == ["#BP breakpoint", "#GP general protection", "#DF double fault", "#GP general protection"]
    assert "shutdown: fault while delivering #DF" in report
    assert "rustos::fault::trigger_triple_fault" in report.splitlines()[-1]
    assert "vector 13 #GP general protection" in run(session, "faults 2")
    assert run(session, "regs").startswith("rax ")
    assert run(session, "idt") == "IDT at 0x0 limit 0x0 (0 gates)"   # the kernel's `lidt` of an empty IDT


def test_continue_after_a_triple_fault_does_not_run_the_shut_down_cpu(session):
    """docs/emulator.md: a triple fault stops the machine; docs/boot.md: an emulator
    treats it like QEMU's -no-reboot. Running again must not execute or deliver
    anything more (no second, invented chain from a pending IRQ)."""
    machine = session.machine
    run(session, 'type "fault triple\\n"')
    first = run(session, "continue")
    assert first.startswith("triple fault at "), first
    deliveries, icount, rip = len(machine.exception_log), machine.icount, machine.reg("rip")
    for command in ("continue", "stepi"):
        again = run(session, command)
        assert again.splitlines()[0] == first.splitlines()[0], again
        assert (len(machine.exception_log), machine.icount, machine.reg("rip")) == (deliveries, icount, rip)
    assert "while delivering vector 33" not in again
