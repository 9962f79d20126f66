"""Acceptance of the kernel in QEMU: the in-kernel suite, the shell, faults."""

import re

import pytest
from qemu import SUMMARY, kernel_results, run_qemu

pytestmark = pytest.mark.qemu


def test_kernel_suite_passes_in_qemu(kernel_elf):
    run = run_qemu(kernel_elf, append="test", timeout=120)
    results = kernel_results(run.output)
    assert run.status == 33, run.output[-2000:]
    assert len(results) >= 20
    assert all(r == "ok" for r in results.values()), results
    summary = SUMMARY.search(run.output)
    assert summary and int(summary.group(1)) == len(results) and summary.group(2) == "0"
    for name in ("heap_coalescing", "heap_growth", "page_fault_reports", "stack_overflow_double_fault", "should_panic"):
        assert results.get(name) == "ok"


def test_single_kernel_test_by_name(kernel_elf):
    run = run_qemu(kernel_elf, append="test=heap_box", timeout=60)
    assert run.status == 33
    assert kernel_results(run.output) == {"heap_box": "ok"}
    assert "1 passed, 0 failed" in run.output


def test_unknown_kernel_test_name_fails(kernel_elf):
    run = run_qemu(kernel_elf, append="test=no_such_test", timeout=60)
    assert run.status == 35
    assert "no kernel test named 'no_such_test'" in run.output


def test_shell_help_and_page_fault_report(kernel_elf):
    run = run_qemu(kernel_elf, stdin=b"help\nfault pf 0xdeadbeef000\n", until=r"fault pf: recovered", timeout=60)
    assert "commands:" in run.output
    for command in ("echo", "page", "heap", "tasks", "fault"):
        assert re.search(rf"(?:^ | {{2}}){command}(?: |\r?$)", run.output, re.M), command  # one of the two cells of a line
    assert "page fault (#PF) (vector 14)" in run.output
    assert "CR2 0xdeadbeef000, error code 0x0 (not present, read, supervisor)" in run.output
    assert "(IST2)" in run.output


def test_unknown_command_is_one_line_and_shell_goes_on(kernel_elf):
    run = run_qemu(kernel_elf, stdin=b"frobnicate now\necho still-alive\n", until=r"\nstill-alive", timeout=60)
    errors = [line for line in run.output.splitlines() if "error:" in line]
    assert errors == ["error: unknown command 'frobnicate' (type `help`)"]
    assert re.search(r"^still-alive\r?$", run.output, re.M)


def test_stack_overflow_is_a_double_fault_on_ist1(kernel_elf):
    run = run_qemu(kernel_elf, stdin=b"fault df\n", until=r"halting: unhandled double fault", timeout=60)
    assert "double fault (#DF) (vector 8)" in run.output
    assert "(IST1)" in run.output


def test_page_command_translates_kernel_text(kernel_elf):
    from elftools.elf.elffile import ELFFile

    with open(kernel_elf, "rb") as f:
        text = ELFFile(f).get_section_by_name(".text")["sh_addr"]
    phys = text - 0xFFFF_FFFF_8000_0000
    run = run_qemu(kernel_elf, stdin=f"page {text + 0x10:#x}\n".encode(), until=r"-> (phys|not)", timeout=60)
    assert re.search(rf"-> phys {phys + 0x10:#x} flags PageTableFlags\(PRESENT(?: \| ACCESSED)? \| GLOBAL\)", run.output), run.output[-800:]


def test_triple_fault_resets_and_qemu_exits(kernel_elf):
    run = run_qemu(kernel_elf, stdin=b"fault triple\n", timeout=60)
    assert run.status == 0  # -no-reboot: the reset ends QEMU
