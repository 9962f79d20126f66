#!/usr/bin/env python3
"""Writes a FAT32 disk image (no partition table) holding the given files in
its root directory, with the standard library only (no dosfstools/mtools).

Layout (Microsoft's FAT specification): 32 reserved sectors (boot sector at 0,
FSInfo at 1, backup boot sector at 6), two FATs, then the data area; one
512-byte sector per cluster and 66,000 data clusters (above FAT32's minimum of
65,525, so every FAT implementation calls it FAT32); root directory at cluster
2, each file in consecutive clusters. Names must be 8.3 (no long names).

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


def short_name(name: str) -> bytes:
    """The 11-byte 8.3 form of `name`; a one-line error when it has none."""
    base, _, ext = name.upper().partition(".")
    if not base or len(base) > 8 or len(ext) > 3 or not (base + ext).isalnum():
        raise SystemExit(f"mkdisk: {name!r} is not an 8.3 name")
    return base.ljust(8).encode() + ext.ljust(3).encode()


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
    if len(files) > SECTOR // 32 - 1:
        raise SystemExit("mkdisk: too many files for a one-cluster root directory")
    for i, (name, data) in enumerate(files, start=1):
        first = len(fat) if data else 0
        count = -(-len(data) // SECTOR)
        for k in range(count):
            sectors[DATA_START + first - 2 + k] = data[k * SECTOR:(k + 1) * SECTOR].ljust(SECTOR, b"\0")
            fat.append(first + k + 1 if k + 1 < count else EOC)
        entry = short_name(name) + struct.pack("<BBBHHHHHHHI", 0x20, 0, 0, 0, 0x21, 0x21, first >> 16, 0, 0x21, first & 0xFFFF, len(data))
        root[i * 32:(i + 1) * 32] = entry
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


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: mkdisk.py IMAGE NAME=PATH...", file=sys.stderr)
        return 2
    files = []
    for spec in argv[1:]:
        name, sep, path = spec.partition("=")
        if not sep or not Path(path).is_file():
            print(f"mkdisk: {spec!r} is not NAME=PATH of a file", file=sys.stderr)
            return 2
        files.append((name, Path(path).read_bytes()))
    with open(argv[0], "wb") as image:
        image.truncate(TOTAL * SECTOR)
        for number, data in sorted(build(files).items()):
            image.seek(number * SECTOR)
            image.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
