"""User space in QEMU: the ring-3 kernel tests (`ktest=user`, with a copy of
build/disk.img: its disk tests write to it) and the shell's `run`, `spawn`,
`ps` and `kill` with hello, spin and nullderef (from the built-in copies when
no disk is attached). The emulator runs the same `ktest=user` suite against
QEMU in tests/machine/test_machine_kernel_suite.py, programs in reused frames
in tests/machine/test_machine_user_programs.py, and the shell's file commands
in tests/machine/test_machine_shell_files.py."""

import re

import pytest
from qemu import SUMMARY, disk_copy, kernel_results, run_qemu

pytestmark = pytest.mark.qemu

USER_TESTS = (
    "user_hello_ring3", "user_nullderef_killed", "user_spin_preempted", "user_address_space",
    "user_pointer_checks", "user_bad_images_refused",
)
DISK_TESTS = ("disk_write_read_delete", "disk_programs_load_from_disk", "disk_files_program", "disk_bad_programs_refused")
THREAD_TESTS = ("threads_preempt", "thread_sleep", "thread_yield", "thread_fault_ends_thread", "thread_stack_guard")
PS_ROW = re.compile(r"^\s*(\d+) (\S+)\s+(ready|running|sleeping)\s+(\d)\s+(\d+)\s*$", re.M)


def test_ring3_kernel_tests_pass_in_qemu(kernel_elf, tmp_path):
    run = run_qemu(kernel_elf, append="test ktest=user", timeout=120, disk=disk_copy(kernel_elf, tmp_path))
    results = kernel_results(run.output)
    assert run.status == 33, run.output[-2000:]
    for name in USER_TESTS + THREAD_TESTS + DISK_TESTS:
        assert results.get(name) == "ok", (name, results)
    assert "files: bad pointers -> -14 -14 -14 -14" in run.output
    assert "files: ok" in run.output
    summary = SUMMARY.search(run.output)
    assert summary and int(summary.group(1)) == len(results) and summary.group(2) == "0"


def test_without_a_disk_the_disk_tests_fail_with_a_clear_line(kernel_elf):
    run = run_qemu(kernel_elf, append="test ktest=user", timeout=120)
    results = kernel_results(run.output)
    assert run.status == 35, run.output[-2000:]                     # failures, not a hang
    assert {name for name, result in results.items() if result != "ok"} == set(DISK_TESTS)
    assert all(results.get(name) == "ok" for name in USER_TESTS)   # the built-in programs still run
    reason = "the disk tests need build/disk.img as the primary IDE master: no disk (no ATA drive answers on the primary channel)"
    assert run.output.count(reason) == len(DISK_TESTS), run.output[-3000:]


def test_without_the_switch_the_suite_stays_in_ring_0(kernel_elf):
    run = run_qemu(kernel_elf, append="test", timeout=120)
    results = kernel_results(run.output)
    assert run.status == 33, run.output[-2000:]
    assert all(results.get(name) == "ok" for name in THREAD_TESTS), results
    assert not any(name.startswith("user_") for name in results)
    assert "ring 3" not in run.output


def test_run_hello_prints_hello_and_ring_3(kernel_elf):
    run = run_qemu(kernel_elf, stdin=b"run hello\n", until=r"exited with", timeout=60)
    line = next(line for line in run.output.splitlines() if "hello" in line and "pid" in line)
    assert "ring 3" in line
    assert re.search(r"^\[\d+\] exited with 0\r?$", run.output, re.M)


def test_nullderef_is_killed_with_a_report_and_the_shell_goes_on(kernel_elf):
    run = run_qemu(kernel_elf, stdin=b"run nullderef\necho still-alive\n", until=r"\nstill-alive", timeout=60)
    report = next(line for line in run.output.splitlines() if "killed by" in line)
    assert "(nullderef)" in report and "fault" in report
    assert "vector 14" in report and "error code 0x4 (not present, read, user)" in report
    assert "CR2 0x0," in report and "rip 0x40" in report and "ring 3" in report
    assert re.search(r"^\[\d+\] exited with -15\r?$", run.output, re.M)
    assert re.search(r"^still-alive\r?$", run.output, re.M)


def test_spawn_spin_ps_and_kill(kernel_elf):
    # spin never makes a system call: the shell answers only because the tick preempts it.
    stdin = b"spawn spin\necho answered\nps\nkill 2\nps\necho done\n"
    run = run_qemu(kernel_elf, stdin=stdin, until=r"\ndone", timeout=60)
    assert re.search(r"^\[2\] started\r?$", run.output, re.M)
    assert re.search(r"^answered\r?$", run.output, re.M)
    tables = run.output.split("PID NAME")[1:]
    assert len(tables) == 2, run.output[-2000:]
    before = {row[1]: row for row in PS_ROW.findall(tables[0])}
    assert before["kernel"][0] == "1" and before["kernel"][3] == "0"
    assert before["spin"][0] == "2" and before["spin"][3] == "3"
    assert re.search(r"^\[2\] killed\r?$", run.output, re.M)
    after = {row[1] for row in PS_ROW.findall(tables[1])}
    assert after == {"kernel"}


def test_bad_program_names_are_one_line_errors(kernel_elf, tmp_path):
    stdin = b"run nosuch\nspawn\nrun note.txt\nkill 1\nkill 99\nrun hello\necho ok-then\n"
    run = run_qemu(kernel_elf, stdin=stdin, until=r"\nok-then", timeout=60, disk=disk_copy(kernel_elf, tmp_path))
    errors = [line.strip() for line in run.output.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: run: no program 'nosuch' on the disk",
        "error: usage: spawn PROG [ARGS] (`ls` lists the programs on the disk)",
        "error: run: cannot start 'note.txt': not an ELF file",
        "error: no process 1 that can be killed",
        "error: no process 99 that can be killed",
    ]
    assert "hello from user space, ring 3" in run.output
