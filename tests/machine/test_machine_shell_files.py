"""The shell's file and program commands on the real kernel in the emulator,
with the ATA disk: `write` then `cat`, `rm` then `ls`, `run PROG ARGS` from
the disk, and the bad input of issue 12 (a missing program, a file that is
not ELF, a program too big for memory, a full disk, a corrupt FAT, a bad
name), each a one-line error after which the shell goes on. Every test
writes to its own copy of a disk (never build/disk.img itself)."""

import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from rustos_dbg import Machine
from rustos_dbg.testing import PROMPT, run_to_serial

pytestmark = pytest.mark.emulator

ROOT = Path(__file__).resolve().parents[2]
SECTOR = 512
#: Instructions a boot or a shell line may take (a run of `files` polls the ATA status many times).
BUDGET = 2_000_000_000


def boot(elf: Path, disk: Path | None) -> Machine:
    machine = Machine.boot(elf, disk=disk)
    run_to_serial(machine, PROMPT, timeout=120, max_instructions=BUDGET)
    return machine


def shell(machine: Machine, line: str) -> str:
    """Runs one shell line; its output without the echo and the next prompt."""
    start = len(machine.serial_output)
    machine.send_serial(line + "\n")
    run_to_serial(machine, PROMPT, timeout=300, max_instructions=BUDGET)
    out = machine.serial_output[start:]
    return out.split("\n", 1)[1].rsplit(PROMPT, 1)[0].replace("\r", "")


def errors(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.startswith("error:")]


def listing(output: str) -> dict[str, int]:
    return {name: int(size) for size, name in re.findall(r"^\s+(\d+) (\S+)$", output, re.M)}


@pytest.fixture
def disk(rustos_elf, tmp_path) -> Path:
    """A copy of the disk scripts/build-kernel made beside the kernel."""
    copy = tmp_path / "disk.img"
    shutil.copyfile(Path(rustos_elf).with_name("disk.img"), copy)
    return copy


def test_write_cat_rm_ls_and_programs_from_the_disk(rustos_elf, disk):
    machine = boot(rustos_elf, disk)
    before = listing(shell(machine, "ls"))
    assert set(before) == {"note.txt", "hello", "spin", "nullderef", "files"}
    assert shell(machine, "write memo.txt a line written by the shell") == "wrote 28 bytes to /memo.txt\n"
    assert shell(machine, "cat /MEMO.TXT") == "a line written by the shell\n"
    assert listing(shell(machine, "ls /")) == {**before, "memo.txt": 28}
    assert shell(machine, "write memo.txt shorter") == "wrote 8 bytes to /memo.txt\n"
    assert shell(machine, "cat memo.txt") == "shorter\n"
    assert shell(machine, "rm memo.txt") == ""
    assert listing(shell(machine, "ls")) == before
    assert errors(shell(machine, "cat memo.txt")) == ["error: cat: memo.txt: no such file"]
    files = shell(machine, "run files out.txt")
    assert "files: open out.txt -> fd 3" in files and "files: ok" in files, files
    assert re.search(r"^\[\d+\] exited with 0$", files, re.M), files
    assert shell(machine, "cat out.txt").startswith("written by files, pid ")
    hello = shell(machine, "run hello")
    assert "hello from user space, ring 3" in hello
    # The writes reached the image file: the kernel's FAT32 is readable from outside.
    assert b"written by files, pid " in disk.read_bytes()


def test_bad_input_is_one_line_each_and_the_shell_goes_on(rustos_elf, disk):
    machine = boot(rustos_elf, disk)
    lines = {
        "run nosuch": "error: run: no program 'nosuch' on the disk",
        "spawn note.txt": "error: spawn: cannot start 'note.txt': not an ELF file",
        "write": "error: usage: write FILE TEXT",
        "write only-a-name": "error: usage: write FILE TEXT",
        "write not.a.name x": "error: write: not.a.name: not an 8.3 file name",
        "rm nosuch.txt": "error: rm: nosuch.txt: no such file",
        "rm": "error: usage: rm FILE",
        "ls sub": "error: ls: sub: only / and /ram can be listed",
        "run": "error: usage: run PROG [ARGS] (`ls` lists the programs on the disk)",
    }
    for line, error in lines.items():
        assert errors(shell(machine, line)) == [error], line
    assert "hello from user space, ring 3" in shell(machine, "run hello")


def too_big_elf() -> bytes:
    """A valid static x86-64 ELF whose one segment (R+X at 4 MiB) asks for 1 TiB."""
    header = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, 0x40_0000, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    segment = struct.pack("<IIQQQQQQ", 1, 5, 0, 0x40_0000, 0x40_0000, 120, 1 << 40, 0x1000)
    return header + segment


def fat32_geometry(image: bytes) -> tuple[int, int, int]:
    """(first FAT sector, sectors per FAT, number of FATs) from the boot sector."""
    reserved, fats = struct.unpack_from("<H", image, 14)[0], image[16]
    return reserved, struct.unpack_from("<I", image, 36)[0], fats


def set_fat(image: bytearray, cluster: int, value: int) -> None:
    start, size, fats = fat32_geometry(image)
    for copy in range(fats):
        struct.pack_into("<I", image, (start + copy * size) * SECTOR + cluster * 4, value)


def test_full_disk_corrupt_fat_and_a_program_too_big(rustos_elf, tmp_path):
    parts = {"hello": Path(rustos_elf).parent / "user" / "disk" / "hello", "big": None, "long.txt": None}
    (tmp_path / "big").write_bytes(too_big_elf())
    (tmp_path / "long.txt").write_bytes(b"".join(b"line %04d\n" % i for i in range(200)))  # 2000 bytes, 4 clusters
    specs = [f"{name}={path or tmp_path / name}" for name, path in parts.items()]
    image_path = tmp_path / "disk.img"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "mkdisk.py"), str(image_path), *specs], check=True)
    image = bytearray(image_path.read_bytes())
    start, size, _ = fat32_geometry(image)
    entries = size * SECTOR // 4
    fat = struct.unpack_from(f"<{entries}I", image, start * SECTOR)
    for cluster in range(2, entries):           # full: every free cluster marked bad
        if fat[cluster] == 0:
            set_fat(image, cluster, 0x0FFF_FFF7)
    root = image.find(b"LONG    TXT")
    first = struct.unpack_from("<H", image, root + 26)[0]
    set_fat(image, first, 0x0FFF_FFF0)          # corrupt: long.txt's chain points past the last cluster
    image_path.write_bytes(bytes(image))

    machine = boot(rustos_elf, image_path)
    out = shell(machine, "write new.txt this does not fit")
    assert errors(out) == ["error: write: new.txt: disk full"], out
    assert "new.txt" not in listing(shell(machine, "ls")), "a file the full disk refused is not left behind"
    assert errors(shell(machine, "cat long.txt")) == ["error: cat: long.txt: corrupt FAT"]
    assert errors(shell(machine, "run big")) == ["error: run: cannot start 'big': program too big for memory"]
    assert errors(shell(machine, "run long.txt")) == ["error: run: cannot start 'long.txt': corrupt FAT"]
    assert "hello from user space, ring 3" in shell(machine, "run hello")   # the kernel goes on


def test_a_volume_that_is_not_fat32_is_one_line(rustos_elf, disk):
    image = bytearray(disk.read_bytes())
    image[510:512] = b"\0\0"
    disk.write_bytes(bytes(image))
    machine = boot(rustos_elf, disk)
    assert errors(shell(machine, "ls")) == ["error: ls: not a FAT32 volume"]
    assert errors(shell(machine, "run files")) == ["error: run: cannot start 'files': not a FAT32 volume"]
