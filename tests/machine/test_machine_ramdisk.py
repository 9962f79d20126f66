"""The tar ramdisk in the emulator: `Machine.boot(initrd=...)` and `rustos-dbg
run --initrd` hand it over as the PVH module where QEMU puts it; the kernel
mounts it at /ram (`ls /ram`, `cat /ram/FILE`); a snapshot carries it (it is
RAM); bad files are one-line errors."""

import subprocess
import sys
from pathlib import Path

import pytest

from rustos_dbg import Machine
from rustos_dbg.machine.boot_pvh import initrd_address
from rustos_dbg.machine.errors import InitrdError
from rustos_dbg.structs.pvh import HvmModlistEntry, HvmStartInfo
from rustos_dbg.testing import PROMPT, run_to_serial

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from mkinitrd import build  # noqa: E402

pytestmark = pytest.mark.emulator


def shell(machine: Machine, line: str) -> str:
    start = len(machine.serial_output)
    machine.send_serial(line + "\n")
    run_to_serial(machine, PROMPT, timeout=120)
    return machine.serial_output[start:].split("\n", 1)[1].rsplit(PROMPT, 1)[0].replace("\r", "")


@pytest.fixture
def initrd(tmp_path) -> Path:
    path = tmp_path / "initrd.tar"
    path.write_bytes(build([("README.txt", b"read me\n"), ("x.bin", b"\x01\x02")]))
    return path


def test_the_module_is_placed_and_listed_as_qemu_does(rustos_elf, initrd):
    machine = Machine.boot(rustos_elf, initrd=initrd)
    info = HvmStartInfo.parse(machine.read_physical(0x5000, HvmStartInfo.sizeof()))
    assert info.nr_modules == 1
    entry = HvmModlistEntry.parse(machine.read_physical(info.modlist_paddr, HvmModlistEntry.sizeof()))
    size = initrd.stat().st_size
    # QEMU 7.2 for 128 MiB: below_4g_mem_size - acpi_data_size(0x28000) - 1 - size, page aligned down.
    assert (entry.paddr, entry.size, entry.cmdline_paddr) == ((0x800_0000 - 0x28000 - 1 - size) & ~0xFFF, size, 0)
    assert machine.read_physical(entry.paddr, size) == initrd.read_bytes()
    assert Machine.boot(rustos_elf).read_physical(0x5000 + 12, 4) == b"\0\0\0\0"  # no ramdisk: no module


def test_ls_and_cat_and_a_snapshot_keeps_the_ramdisk(rustos_elf, initrd):
    machine = Machine.boot(rustos_elf, initrd=initrd)
    run_to_serial(machine, PROMPT, timeout=120)
    assert "ramdisk: 2 files at" in machine.serial_output
    state = machine.snapshot()
    assert shell(machine, "ls /ram") == "         8 README.txt\n         2 x.bin\n"
    at = initrd_address(machine.ram_bytes, initrd.stat().st_size)
    machine.write_physical(at, bytes(512))  # the archive gone from RAM: the end-of-archive marker
    assert shell(machine, "ls /ram") == ""
    machine.restore(state)
    assert shell(machine, "cat /ram/README.txt") == "read me\n"
    assert shell(machine, "cat /ram/none") == "error: cat: /ram/none: no such file\n"
    assert shell(machine, "rm /ram/x.bin") == "error: rm: /ram/x.bin: the ramdisk is read-only\n"


def test_bad_ramdisk_files_are_one_line(rustos_elf, tmp_path):
    with pytest.raises(InitrdError, match=r"^ramdisk '.*nothing.tar': No such file or directory$"):
        Machine.boot(rustos_elf, initrd=tmp_path / "nothing.tar")
    big = tmp_path / "big.tar"
    big.write_bytes(bytes(20 << 20))
    with pytest.raises(InitrdError, match="does not fit in 16 MiB of RAM"):
        Machine.boot(rustos_elf, initrd=big, ram_mb=16)
    proc = subprocess.run([sys.executable, "-m", "rustos_dbg", "run", str(rustos_elf), "--headless", "--timeout", "1",
                           "--initrd", str(tmp_path / "nothing.tar")], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].endswith("nothing.tar': No such file or directory"), proc.stderr


def test_a_bundle_names_the_ramdisk_and_reopens_with_it(rustos_elf, initrd, tmp_path):
    from rustos_dbg.analysis.bundle import read_bundle, reopen, write_bundle

    machine = Machine.boot(rustos_elf, initrd=initrd)
    run_to_serial(machine, PROMPT, timeout=120)
    assert shell(machine, "cat /ram/README.txt") == "read me\n"
    path = write_bundle(machine, tmp_path / "b.json")
    assert read_bundle(path).initrd == str(initrd.resolve())
    reopened = reopen(path)
    assert reopened.matches, reopened.differing
    assert "read me" in reopened.machine.serial_output
