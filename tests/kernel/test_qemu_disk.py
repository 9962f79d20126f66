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
    run = run_qemu(kernel_elf, stdin=b"ls\ncat note.txt\nwrite a.txt hi\nrm a.txt\nrun files\necho alive\n", until=r"\nalive")
    errors = [line.strip() for line in run.output.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: ls: no disk (no ATA drive answers on the primary channel)",
        "error: cat: note.txt: no disk (no ATA drive answers on the primary channel)",
        "error: write: a.txt: no disk (no ATA drive answers on the primary channel)",
        "error: rm: a.txt: no disk (no ATA drive answers on the primary channel)",
        "error: run: cannot start 'files': no disk (no ATA drive answers on the primary channel)",
    ]


@pytest.mark.qemu
def test_missing_file_is_a_one_line_error(kernel_elf, tmp_path):
    disk = make_disk(tmp_path, {"note.txt": b"x\n"})
    run = run_qemu(kernel_elf, stdin=b"cat nothing.txt\ncat\necho alive\n", until=r"\nalive", disk=disk)
    errors = [line.strip() for line in run.output.splitlines() if line.startswith("error:")]
    assert errors == ["error: cat: nothing.txt: no such file", "error: usage: cat FILE"]


def test_mkdisk_refuses_a_name_too_long_in_one_line(tmp_path):
    (tmp_path / "f").write_bytes(b"x")
    name = "a-name-longer-than-twenty-six.txt"
    done = subprocess.run([sys.executable, str(MKDISK), str(tmp_path / "d.img"), f"{name}={tmp_path / 'f'}"], capture_output=True, text=True)
    assert done.returncode != 0
    assert done.stderr.strip() == f"mkdisk: {name!r} is not a name of 1-26 printable ASCII characters"
    assert "Traceback" not in done.stderr


@pytest.mark.qemu
def test_long_names_from_mkdisk_are_listed_found_and_removed(kernel_elf, tmp_path):
    disk = make_disk(tmp_path, {"nullderef": b"one\n", "a-long-name.txt": b"two\n", "short.txt": b"three\n"})
    stdin = b"ls\ncat NULLDEREF\ncat a-long-name.txt\ncat nullde~1\nrm a-long-name.txt\nls\necho end-of-run\n"
    run = run_qemu(kernel_elf, stdin=stdin, until=r"\nend-of-run", disk=disk)
    listings = run.output.split("rustos> ls")[1:]
    first = re.findall(r"^\s+\d+ (\S+)\r?$", listings[0], re.M)
    second = re.findall(r"^\s+\d+ (\S+)\r?$", listings[1], re.M)
    assert first == ["nullderef", "a-long-name.txt", "short.txt"]
    assert second == ["nullderef", "short.txt"]
    assert re.findall(r"^(one|two)\r?$", run.output, re.M) == ["one", "two", "one"]
    image = disk.read_bytes()
    assert b"\xe5LONGN~1TXT" in image and b"ALONGN~1TXT" not in image   # the short entry deleted too
