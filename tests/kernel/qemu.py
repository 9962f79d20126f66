"""Runs the kernel in QEMU for tests: boot, feed serial input, collect output."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class QemuRun:
    """What a QEMU run printed on serial and how it ended."""

    output: str
    status: int | None  # None when the run was stopped by us


def qemu_binary() -> str:
    """The qemu-system-x86_64 on PATH (scripts/test installs it)."""
    path = shutil.which("qemu-system-x86_64")
    if path is None:
        raise RuntimeError("qemu-system-x86_64 is not installed (scripts/test installs it)")
    return path


def qemu_command(elf: Path, append: str = "", disk: Path | None = None, extra: tuple[str, ...] = (),
                 initrd: Path | None = None) -> list[str]:
    """The command line of the acceptance criteria (with `disk` as the primary IDE master, `extra` options,
    `initrd` as the PVH module)."""
    drive = ["-drive", f"file={disk},format=raw,if=ide,index=0"] if disk else []
    drive += ["-initrd", str(initrd)] if initrd else []
    return [
        qemu_binary(), "-kernel", str(elf), "-serial", "stdio", "-display", "none", "-no-reboot",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-append", append, *drive, *extra,
    ]


def run_qemu(
    elf: Path, append: str = "", stdin: bytes = b"", until: str | None = None, timeout: float = 60, disk: Path | None = None,
    extra: tuple[str, ...] = (),
    initrd: Path | None = None,
) -> QemuRun:
    """Boots `elf` (with `disk` attached and the ramdisk `initrd`, if given), writes `stdin` to the serial port, and waits for QEMU to exit,
    for `until` (a regex) to appear in the output, or for `timeout` seconds."""
    proc = subprocess.Popen(qemu_command(elf, append, disk, extra, initrd), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    chunks: list[bytes] = []

    def reader() -> None:
        assert proc.stdout is not None
        for chunk in iter(lambda: proc.stdout.read1(4096), b""):
            chunks.append(chunk)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    assert proc.stdin is not None
    proc.stdin.write(stdin)
    proc.stdin.flush()
    deadline = time.monotonic() + timeout
    pattern = re.compile(until) if until else None
    status: int | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            status = proc.returncode
            break
        if pattern and pattern.search(b"".join(chunks).decode(errors="replace")):
            break
        time.sleep(0.05)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    thread.join(timeout=5)
    return QemuRun(b"".join(chunks).decode(errors="replace"), status)


def disk_copy(elf: Path, tmp_path: Path) -> Path:
    """A copy of the disk `scripts/build-kernel` wrote beside `elf` (build/disk.img), for a run that writes to it."""
    copy = tmp_path / "disk.img"
    shutil.copyfile(Path(elf).with_name("disk.img"), copy)
    return copy


TEST_LINE = re.compile(r"^test (\S+) \.\.\. (ok|FAILED)", re.M)
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$", re.M)


def kernel_results(output: str) -> dict[str, str]:
    """Test name -> 'ok' / 'FAILED' from a test-mode run."""
    return dict(TEST_LINE.findall(output))
