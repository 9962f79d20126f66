"""The in-kernel test suite (`test` on the command line) in the emulator, against QEMU."""

import re
import shutil
from pathlib import Path

import pytest
from qemu import SUMMARY, kernel_results, run_qemu

from rustos_dbg import Machine, StopKind

pytestmark = pytest.mark.emulator

RUNNING = re.compile(r"^running (\d+) kernel tests", re.M)
DISK_TESTS = ("disk_write_read_delete", "disk_programs_load_from_disk", "disk_files_program", "disk_bad_programs_refused")


def run_suite(machine: Machine, timeout: float = 120):
    """Runs a test-mode machine to its end; returns (stop, test name -> result)."""
    stop = machine.run(timeout=timeout)
    return stop, kernel_results(machine.serial_output)


def explain(machine: Machine, stop) -> str:
    return f"{stop.describe()} at {machine.symbolize(stop.rip)}\n{machine.serial_output[-2000:]}"


def test_kernel_suite_passes_in_the_emulator(boot_machine):
    machine = boot_machine("test")
    stop, results = run_suite(machine)
    assert stop.kind is StopKind.KERNEL_EXIT, explain(machine, stop)
    assert stop.exit_code == 33, explain(machine, stop)
    assert len(results) >= 20, results
    assert [name for name, result in results.items() if result != "ok"] == []
    announced = RUNNING.search(machine.serial_output)
    assert announced and int(announced.group(1)) == len(results)
    summary = SUMMARY.search(machine.serial_output)
    assert summary and (int(summary.group(1)), int(summary.group(2))) == (len(results), 0)


@pytest.mark.qemu
@pytest.mark.parametrize("cmdline", ["test", "test ktest=user"])   # ktest=user: ring 3, its faults, the disk
def test_emulator_passes_the_same_tests_as_qemu(rustos_elf, tmp_path, cmdline):
    if shutil.which("qemu-system-x86_64") is None:
        pytest.skip("qemu-system-x86_64 is not installed (scripts/test installs it)")
    elf = tmp_path / "rustos.elf"  # one copy for both runs: the kernel may be rebuilt meanwhile
    shutil.copyfile(rustos_elf, elf)
    disks = []
    for name in ("qemu.img", "emulator.img"):  # the disk tests write: each run gets its own copy
        disks.append(tmp_path / name)
        shutil.copyfile(Path(rustos_elf).with_name("disk.img"), disks[-1])
    qemu = run_qemu(elf, append=cmdline, timeout=120, disk=disks[0])
    assert qemu.status == 33, qemu.output[-2000:]
    machine = Machine.boot(elf, cmdline=cmdline, disk=disks[1])
    stop, results = run_suite(machine)
    assert (stop.kind, stop.exit_code) == (StopKind.KERNEL_EXIT, 33), explain(machine, stop)
    in_qemu = kernel_results(qemu.output)
    assert {n for n, r in results.items() if r == "ok"} == {n for n, r in in_qemu.items() if r == "ok"}
    assert "FAILED" not in results.values() and "FAILED" not in in_qemu.values()
    assert len(results) >= 20
    if "ktest=user" in cmdline:
        assert {name for name in results if name.startswith("disk_")} == set(DISK_TESTS)
        # The same writes reached both images: the kernel's file system work is the same in both.
        assert disks[0].read_bytes() == disks[1].read_bytes()


def test_without_a_disk_the_disk_tests_fail_in_one_line_each(boot_machine):
    machine = boot_machine("test ktest=user")
    stop, results = run_suite(machine)
    assert (stop.kind, stop.exit_code) == (StopKind.KERNEL_EXIT, 35), explain(machine, stop)
    assert {name for name, result in results.items() if result != "ok"} == set(DISK_TESTS)
    reason = "no disk (no ATA drive answers on the primary channel)"
    assert machine.serial_output.count(reason) == len(DISK_TESTS)


def test_one_test_by_name(boot_machine):
    machine = boot_machine("test=heap_box")
    stop, results = run_suite(machine)
    assert (stop.kind, stop.exit_code) == (StopKind.KERNEL_EXIT, 33), explain(machine, stop)
    assert results == {"heap_box": "ok"}
    assert "running 1 kernel tests" in machine.serial_output
    assert "1 passed, 0 failed" in machine.serial_output


def test_unknown_test_name_exits_with_failure(boot_machine):
    machine = boot_machine("test=no_such_test")
    stop, results = run_suite(machine)
    assert (stop.kind, stop.exit_code) == (StopKind.KERNEL_EXIT, 35), explain(machine, stop)
    assert results == {}
    assert "error: no kernel test named 'no_such_test'" in machine.serial_output
    assert "0 passed, 1 failed" in machine.serial_output


def test_fast_mode_non_deterministic_passes_the_kernel_suite_every_time(boot_machine):
    """Fast mode is not deterministic: it must pass every run, so it runs five times (no counts compared)."""
    for attempt in range(5):
        machine = boot_machine("test", mode="fast")
        stop, results = run_suite(machine, timeout=20)
        assert stop.kind is StopKind.KERNEL_EXIT, f"run {attempt + 1}: {explain(machine, stop)}"
        assert stop.exit_code == 33, f"run {attempt + 1}: {explain(machine, stop)}"
        assert len(results) >= 20 and set(results.values()) == {"ok"}, results
