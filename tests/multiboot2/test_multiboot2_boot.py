"""The Multiboot2 test kernel boots in the emulator as GRUB boots it in QEMU.

Both runs print the kernel's view of its boot information on COM1; the lines
must be the same but for what a loader legitimately decides itself: the boot
loader's name, the memory above 1 MiB (QEMU's firmware reserves the top 128 KiB
for ACPI) and so the memory map. Those are checked against the emulator's own
values instead.
"""

from __future__ import annotations

import subprocess

import pytest

from rustos_dbg import StopKind
from rustos_dbg.machine.boot_multiboot2 import INFO_ADDR
from rustos_dbg.machine.entry import ModeProbe
from rustos_dbg.structs.multiboot2 import BOOTLOADER_MAGIC
from qemu import qemu_binary

#: Lines where GRUB and the emulator may differ (see the module docstring).
LOADER_SPECIFIC = ("mb2: loader ", "mb2: meminfo lower 639 KiB upper ", "mb2: mmap 0x")


def test_entered_in_protected_mode_as_the_specification_says(boot_mb2):
    machine = boot_mb2()
    assert machine.boot_protocol == "multiboot2"
    assert machine.symbolize(machine.reg("rip")) == "_start"
    assert (machine.reg("rax"), machine.reg("rbx")) == (BOOTLOADER_MAGIC, INFO_ADDR)
    assert (machine.reg("cr0") & 0x8000_0001, machine.reg("efer")) == (1, 0)      # PE, paging off
    assert machine.reg("rflags") & 0x2_0200 == 0                                  # IF = VM = 0
    assert not ModeProbe(machine.uc).code64()
    total = int.from_bytes(machine.read_physical(INFO_ADDR, 4), "little")
    assert total % 8 == 0 and machine.read_physical(INFO_ADDR + total - 8, 8) == bytes.fromhex("0000000008000000")


def test_the_kernel_prints_its_boot_information_and_exits(boot_mb2, mb2_boot):
    machine = boot_mb2()
    stop = machine.run(timeout=60)
    assert stop.kind is StopKind.KERNEL_EXIT and stop.exit_code == 33, (stop, machine.serial_output)
    lines = machine.serial_output.splitlines()
    assert lines[:4] == ["mb2: magic 0x36d76289", "idt32: int3 handled in 32-bit mode",
                         f"mb2: cmdline '{mb2_boot.cmdline}'", "mb2: loader 'rustos-dbg'"]
    assert (f"mb2: module '{mb2_boot.string}' size {len(mb2_boot.text)} starts '{mb2_boot.text[:8].decode()}' "
            "page aligned yes") in lines
    assert "mb2: meminfo lower 639 KiB upper 130048 KiB" in lines                # 128 MiB - 1 MiB
    assert [line for line in lines if line.startswith("mb2: mmap 0x")] == [
        "mb2: mmap 0x0 len 0x9fc00 type 1", "mb2: mmap 0x9fc00 len 0x400 type 2",
        "mb2: mmap 0xf0000 len 0x10000 type 2", "mb2: mmap 0x100000 len 0x7f00000 type 1"]
    assert lines[-2:] == ["idt: int3 handled", "mb2: done"]


def test_an_int3_in_32_bit_code_goes_through_the_kernels_32_bit_idt(boot_mb2):
    machine = boot_mb2()
    handler = machine.symbols.address_of("isr32_bp")
    stop = machine.run(until=handler, timeout=60)
    assert stop.kind is StopKind.BREAKPOINT and not machine.code64()
    (entry,) = [e for e in machine.exception_log if e.vector == 3]
    assert (entry.handler, entry.new_rsp, entry.old_rsp - entry.new_rsp) == (handler, machine.reg("rsp"), 12)
    eflags, cs, eip = (int.from_bytes(machine.read_physical(machine.reg("rsp") + 4 * i, 4), "little") for i in (2, 1, 0))
    assert (cs, machine.read_physical(eip - 1, 1)) == (machine.reg("cs"), b"\xcc")   # EIP: after the int3
    assert eflags & 0x2 and machine.reg("rflags") & 0x200 == 0


def test_the_run_is_deterministic_across_the_switch_to_long_mode(boot_mb2):
    runs = []
    for _ in range(2):
        machine = boot_mb2()
        machine.run(timeout=60)
        runs.append((machine.icount, machine.reg("rip"), machine.serial_output))
    assert runs[0] == runs[1]


@pytest.mark.qemu
def test_grub_in_qemu_gives_the_same_lines(boot_mb2, mb2_iso):
    machine = boot_mb2()
    machine.run(timeout=60)
    ours = machine.serial_output.splitlines()
    done = subprocess.run([qemu_binary(), "-cdrom", str(mb2_iso), "-serial", "stdio", "-display", "none",
                           "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"],
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    assert done.returncode == 33, done
    grubs = done.stdout.decode(errors="replace").splitlines()
    assert any(line.startswith("mb2: loader 'GRUB ") for line in grubs), grubs
    assert any(line.startswith("mb2: meminfo lower 639 KiB upper ") for line in grubs), grubs
    assert "mb2: mmap 0x0 len 0x9fc00 type 1" in grubs
    same = lambda lines: [line for line in lines if not line.startswith(LOADER_SPECIFIC)]
    assert same(grubs) == same(ours)
    assert len(same(ours)) >= 7
