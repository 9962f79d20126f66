"""Bad Multiboot2 headers, and kernels of no known protocol: one line naming what is missing.

Each case patches a copy of the built test kernel, as a broken build would leave it.
"""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

from rustos_dbg import KernelImageError, Machine
from rustos_dbg.structs import multiboot2 as mb2

ROOT = Path(__file__).resolve().parents[2]


def _header_at(raw: bytes) -> int:
    return next(at for at in range(0, 32768, 8) if struct.unpack_from("<I", raw, at)[0] == mb2.HEADER_MAGIC)


def _fix_checksum(raw: bytearray, at: int) -> None:
    magic, arch, length = struct.unpack_from("<III", raw, at)
    struct.pack_into("<I", raw, at + 12, -(magic + arch + length) & 0xFFFF_FFFF)


def _bad_checksum(raw, at):
    raw[at + 12] ^= 1


def _no_end_tag(raw, at):
    struct.pack_into("<I", raw, at + 8, struct.unpack_from("<I", raw, at + 8)[0] - 8)
    _fix_checksum(raw, at)


def _needs_acpi(raw, at):
    first = at + 16 + 8   # the information request's first requested type
    types = list(struct.unpack_from("<6I", raw, first))
    types[-1] = 14        # ACPI's old RSDP
    struct.pack_into("<6I", raw, first, *types)


def _mips(raw, at):
    struct.pack_into("<I", raw, at + 4, 4)
    _fix_checksum(raw, at)


def _no_header(raw, at):
    struct.pack_into("<I", raw, at, 0)


CASES = [
    (_bad_checksum, "bad checksum"),
    (_no_end_tag, "no end tag"),
    (_needs_acpi, "requires information tag 14"),
    (_mips, "architecture 4"),
    (_no_header, "no PVH entry note (Xen ELF note type 18), no Multiboot2 header"),
]


@pytest.fixture(params=CASES, ids=[f.__name__.strip("_") for f, _ in CASES])
def broken(request, mb2_elf, tmp_path):
    patch, needle = request.param
    raw = bytearray(mb2_elf.read_bytes())
    patch(raw, _header_at(raw))
    path = tmp_path / "broken.elf"
    path.write_bytes(raw)
    return path, needle


def test_the_machine_refuses_it_in_one_line(broken):
    path, needle = broken
    with pytest.raises(KernelImageError) as info:
        Machine.boot(path)
    message = str(info.value)
    assert "\n" not in message and needle in message and str(path) in message, message


def test_the_cli_exits_with_one_error_line(broken):
    path, needle = broken
    done = subprocess.run([sys.executable, "-m", "rustos_dbg", "run", str(path), "--headless", "--timeout", "5"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], done.stderr


def test_the_structures_build_what_they_parse(mb2_elf):
    raw = mb2_elf.read_bytes()
    at = _header_at(raw)
    for struct_, data in [(mb2.Header, raw[at:at + 16]), (mb2.HeaderTag, raw[at + 16:at + 24]),
                          (mb2.BasicMeminfo, struct.pack("<4I", 4, 16, 639, 130048)),
                          (mb2.MmapEntry, struct.pack("<QQII", 0x100000, 0x7f00000, 1, 0)),
                          (mb2.ModuleHead, struct.pack("<4I", 3, 26, 0x200000, 0x200026)),
                          (mb2.FramebufferCommon, struct.pack("<IIQIIIBBH", 8, 32, 0xB8000, 160, 80, 25, 16, 2, 0))]:
        assert struct_.build(struct_.parse(data)) == data
    assert mb2.Header.parse(raw[at:at + 16]).magic == mb2.HEADER_MAGIC
