"""The FAT32 disk in QEMU: `scripts/mkdisk.py` writes an image, the kernel
reads it over ATA PIO (`ls`, `cat`), and without a disk says so in one line."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from qemu import run_qemu

ROOT = Path(__file__).resolve().parents[2]
MKDISK = ROOT / "scripts" / "mkdisk.py"


def make_disk(tmp_path: Path, files: dict[str, bytes]) -> Path:
    specs = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        specs.append(f"{name}={tmp_path / name}")
    image = tmp_path / "disk.img"
    subprocess.run([sys.executable, str(MKDISK), str(image), *specs], check=True)
    return image


@pytest.mark.qemu
def test_ls_and_cat_read_the_fat32_disk(kernel_elf, tmp_path):
    long_text = b"".join(b"line %04d of a file that spans several clusters\n" % i for i in range(40))
    disk = make_disk(tmp_path, {"note.txt": b"a note on the disk\n", "long.txt": long_text, "empty": b""})
    run = run_qemu(kernel_elf, stdin=b"ls\ncat /NOTE.TXT\ncat long.txt\ncat empty\necho end-of-run\n", until=r"\nend-of-run", disk=disk)
    listing = dict((name, int(size)) for size, name in re.findall(r"^\s+(\d+) (\S+)\r?$", run.output, re.M))
    assert listing == {"note.txt": 19, "long.txt": len(long_text), "empty": 0}
    assert re.search(r"^a note on the disk\r?$", run.output, re.M)
    lines = re.findall(r"^line (\d{4}) of a file", run.output, re.M)
    assert lines == [f"{i:04d}" for i in range(40)]  # 2000 bytes: four clusters, in order


@pytest.mark.qemu
def test_without_a_disk_ls_and_cat_fail_in_one_line(kernel_elf):
    run = run_qemu(kernel_elf, stdin=b"ls\ncat note.txt\necho alive\n", until=r"\nalive")
    errors = [line.strip() for line in run.output.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: ls: no disk (no ATA drive answers on the primary channel)",
        "error: cat: note.txt: no disk (no ATA drive answers on the primary channel)",
    ]


@pytest.mark.qemu
def test_missing_file_is_a_one_line_error(kernel_elf, tmp_path):
    disk = make_disk(tmp_path, {"note.txt": b"x\n"})
    run = run_qemu(kernel_elf, stdin=b"cat nothing.txt\ncat\necho alive\n", until=r"\nalive", disk=disk)
    errors = [line.strip() for line in run.output.splitlines() if line.startswith("error:")]
    assert errors == ["error: cat: nothing.txt: no such file", "error: usage: cat FILE"]


def test_mkdisk_refuses_a_long_name_in_one_line(tmp_path):
    (tmp_path / "f").write_bytes(b"x")
    done = subprocess.run([sys.executable, str(MKDISK), str(tmp_path / "d.img"), f"nullderef.bin={tmp_path / 'f'}"], capture_output=True, text=True)
    assert done.returncode != 0
    assert done.stderr.strip() == "mkdisk: 'nullderef.bin' is not an 8.3 name"
    assert "Traceback" not in done.stderr
