#!/usr/bin/env python3
"""Writes a FAT32 disk image (no partition table) holding the given files in
its root directory, with the standard library only (no dosfstools/mtools).

Layout (Microsoft's FAT specification): 32 reserved sectors (boot sector at 0,
FSInfo at 1, backup boot sector at 6), two FATs, then the data area; one
512-byte sector per cluster and 66,000 data clusters (above FAT32's minimum of
65,525, so every FAT implementation calls it FAT32); root directory at cluster
2, each file in consecutive clusters. A name that is not 8.3 (e.g.
`nullderef`) gets long-name (VFAT) entries, up to 26 ASCII characters, before
a generated short name (`NULLDE~1`).

Usage: mkdisk.py IMAGE NAME=PATH...   (e.g. note.txt=kernel/user/note.txt)
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

SECTOR = 512
RESERVED = 32
FATS = 2
CLUSTERS = 66_000
FAT_SECTORS = (CLUSTERS + 2) * 4 // SECTOR + 1
DATA_START = RESERVED + FATS * FAT_SECTORS
TOTAL = DATA_START + CLUSTERS
EOC = 0x0FFF_FFFF


LONG_MAX = 26
LFN_OFFSETS = (1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30)


def short_name(name: str) -> bytes | None:
    """The 11-byte 8.3 form of `name`, or None when it has none."""
    base, _, ext = name.upper().partition(".")
    if not base or len(base) > 8 or len(ext) > 3 or not (base + ext).replace("_", "").replace("-", "").isalnum():
        return None
    return base.ljust(8).encode() + ext.ljust(3).encode()


def checksum(short: bytes) -> int:
    """The short name's checksum that its long-name entries carry."""
    total = 0
    for b in short:
        total = (((total & 1) << 7) + (total >> 1) + b) & 0xFF
    return total


def names_for(name: str, taken: set[bytes]) -> tuple[bytes, list[bytes]]:
    """The short name and the long-name entries (in disk order) of `name`; a one-line error when it cannot have them."""
    short = short_name(name)
    if short is not None:
        return short, []
    if not (0 < len(name) <= LONG_MAX) or not name.isascii() or not name.isprintable() or "/" in name:
        raise SystemExit(f"mkdisk: {name!r} is not a name of 1-{LONG_MAX} printable ASCII characters")
    base, _, ext = name.upper().rpartition(".") if "." in name else (name.upper(), "", "")
    keep = lambda s: "".join(c for c in s if c.isalnum())
    for n in range(1, 10):
        short = (keep(base)[:6] + f"~{n}").ljust(8).encode() + keep(ext)[:3].ljust(3).encode()
        if short not in taken:
            break
    chars = [ord(c) for c in name] + [0]
    pieces = -(-len(name) // 13)
    entries = []
    for ord_ in range(pieces, 0, -1):
        raw = bytearray(32)
        raw[0] = ord_ | (0x40 if ord_ == pieces else 0)
        raw[11], raw[13] = 0x0F, checksum(short)
        for i, at in enumerate(LFN_OFFSETS):
            pos = (ord_ - 1) * 13 + i
            struct.pack_into("<H", raw, at, chars[pos] if pos < len(chars) else 0xFFFF)
        entries.append(bytes(raw))
    return short, entries


def boot_sector() -> bytes:
    """The boot sector with the FAT32 BIOS parameter block."""
    bpb = struct.pack(
        "<3s8sHBHBHHBHHHIIIHHIHH12sBBBI11s8s",
        b"\xEB\x58\x90", b"RUSTOS  ", SECTOR, 1, RESERVED, FATS, 0, 0, 0xF8, 0, 32, 64, 0, TOTAL,
        FAT_SECTORS, 0, 0, 2, 1, 6, b"\0" * 12, 0x80, 0, 0x29, 0x12345678, b"RUSTOS     ", b"FAT32   ",
    )
    return bpb.ljust(510, b"\0") + b"\x55\xAA"


def fs_info(free: int, next_free: int) -> bytes:
    """The FSInfo sector."""
    sector = bytearray(SECTOR)
    struct.pack_into("<I", sector, 0, 0x41615252)
    struct.pack_into("<III", sector, 484, 0x61417272, free, next_free)
    struct.pack_into("<I", sector, 508, 0xAA550000)
    return bytes(sector)


def build(files: list[tuple[str, bytes]]) -> dict[int, bytes]:
    """The image's non-zero sectors, by number."""
    fat = [0x0FFF_FFF8, EOC, EOC]  # media, reserved, root directory (cluster 2)
    root = bytearray(SECTOR)
    root[0:11] = b"RUSTOS     "
    root[11] = 0x08  # volume label
    sectors: dict[int, bytes] = {}
    taken: set[bytes] = set()
    at = 32
    for name, data in files:
        first = len(fat) if data else 0
        count = -(-len(data) // SECTOR)
        for k in range(count):
            sectors[DATA_START + first - 2 + k] = data[k * SECTOR:(k + 1) * SECTOR].ljust(SECTOR, b"\0")
            fat.append(first + k + 1 if k + 1 < count else EOC)
        short, longs = names_for(name, taken)
        taken.add(short)
        entry = short + struct.pack("<BBBHHHHHHHI", 0x20, 0, 0, 0, 0x21, 0x21, first >> 16, 0, 0x21, first & 0xFFFF, len(data))
        for raw in [*longs, entry]:
            if at + 32 > SECTOR:
                raise SystemExit("mkdisk: too many files for a one-cluster root directory")
            root[at:at + 32] = raw
            at += 32
    if len(fat) > CLUSTERS + 2:
        raise SystemExit("mkdisk: the files do not fit on the disk")
    sectors[DATA_START] = bytes(root)
    fat_bytes = b"".join(struct.pack("<I", v) for v in fat)
    for copy in range(FATS):
        for k in range(-(-len(fat_bytes) // SECTOR)):
            sectors[RESERVED + copy * FAT_SECTORS + k] = fat_bytes[k * SECTOR:(k + 1) * SECTOR].ljust(SECTOR, b"\0")
    sectors[0] = sectors[6] = boot_sector()
    sectors[1] = fs_info(CLUSTERS + 2 - len(fat), len(fat))
    return sectors


def named_files(specs: list[str], prog: str) -> list[tuple[str, bytes]] | None:
    """(NAME, the file's bytes) of each ``NAME=PATH``; None after one line on stderr
    naming the first that is not (``prog`` starts the line). Shared with mkinitrd.py."""
    files = []
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not Path(path).is_file():
            print(f"{prog}: {spec!r} is not NAME=PATH of a file", file=sys.stderr)
            return None
        files.append((name, Path(path).read_bytes()))
    return files


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: mkdisk.py IMAGE NAME=PATH...", file=sys.stderr)
        return 2
    files = named_files(argv[1:], "mkdisk")
    if files is None:
        return 2
    with open(argv[0], "wb") as image:
        image.truncate(TOTAL * SECTOR)
        for number, data in sorted(build(files).items()):
            image.seek(number * SECTOR)
            image.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
