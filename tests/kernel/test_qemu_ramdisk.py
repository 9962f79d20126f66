"""The tar ramdisk in QEMU (`-initrd`, the PVH module): mounted at /ram,
`ls /ram` and `cat /ram/FILE`; a missing file and a corrupt archive are one
line each and the shell goes on; QEMU puts the module where the emulator's
loader puts it (rustos_dbg.machine.boot.initrd_address)."""

import re
import sys
from pathlib import Path

import pytest
from qemu import run_qemu

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from mkinitrd import build  # noqa: E402

from rustos_dbg.machine.boot_pvh import initrd_address  # noqa: E402

MOUNTED = re.compile(r"ramdisk: (\d+) files at (0x[0-9a-f]+)-(0x[0-9a-f]+), mounted at /ram")


@pytest.mark.qemu
def test_ls_and_cat_read_the_ramdisk(kernel_elf, tmp_path):
    initrd = tmp_path / "initrd.tar"
    initrd.write_bytes(build([("README.txt", b"read me\n"), ("data.bin", bytes(range(256)) * 8)]))
    run = run_qemu(kernel_elf, stdin=b"ls /ram\ncat /ram/README.txt\ncat /ram/missing\nls /ram/sub\necho alive\n",
                   until=r"\nalive", initrd=initrd)
    mounted = MOUNTED.search(run.output)
    assert mounted, run.output
    files, start, end = int(mounted[1]), int(mounted[2], 16), int(mounted[3], 16)
    size = initrd.stat().st_size
    assert (files, end - start) == (2, size)
    assert start == initrd_address(128 << 20, size), "the emulator places the module elsewhere than QEMU"
    listing = dict((name, int(n)) for n, name in re.findall(r"^\s+(\d+) (\S+)\r?$", run.output, re.M))
    assert listing == {"README.txt": 8, "data.bin": 2048}
    assert re.search(r"^read me\r?$", run.output, re.M)
    errors = [line.strip() for line in run.output.splitlines() if line.startswith("error:")]
    assert errors == ["error: cat: /ram/missing: no such file", "error: ls: /ram/sub: the ramdisk has one directory, /ram"]


@pytest.mark.qemu
def test_a_corrupt_ramdisk_is_one_line_and_the_kernel_goes_on(kernel_elf, tmp_path):
    tar = bytearray(build([("README.txt", b"read me\n")]))
    tar[0] ^= 0x20  # the name changes, the checksum no longer matches
    initrd = tmp_path / "bad.tar"
    initrd.write_bytes(bytes(tar))
    run = run_qemu(kernel_elf, stdin=b"ls /ram\ncat /ram/README.txt\necho alive\n", until=r"\nalive", initrd=initrd)
    assert re.search(r"ramdisk: 0x[0-9a-f]+-0x[0-9a-f]+ not mounted: corrupt tar: bad header checksum at byte 0", run.output)
    errors = [line.strip() for line in run.output.splitlines() if line.startswith("error:")]
    assert errors == ["error: ls: /ram: the ramdisk is corrupt", "error: cat: /ram/README.txt: the ramdisk is corrupt"]


@pytest.mark.qemu
def test_without_a_ramdisk_ls_ram_says_so(kernel_elf):
    run = run_qemu(kernel_elf, stdin=b"ls /ram\necho alive\n", until=r"\nalive")
    assert "ramdisk: none (no PVH module)" in run.output
    errors = [line.strip() for line in run.output.splitlines() if line.startswith("error:")]
    assert errors == ["error: ls: /ram: no ramdisk (boot with -initrd build/initrd.tar)"]


def test_mkinitrd_is_reproducible_and_plain_ustar(tmp_path):
    import tarfile

    a = build([("a.txt", b"A"), ("b.wasm", b"\0asm\1\0\0\0")])
    assert a == build([("a.txt", b"A"), ("b.wasm", b"\0asm\1\0\0\0")])
    assert a[257:263] == b"ustar\0" and len(a) % 512 == 0
    (tmp_path / "x.tar").write_bytes(a)
    with tarfile.open(tmp_path / "x.tar") as t:
        assert [(m.name, m.size, m.mtime) for m in t.getmembers()] == [("a.txt", 1, 0), ("b.wasm", 8, 0)]
