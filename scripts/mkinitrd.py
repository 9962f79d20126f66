#!/usr/bin/env python3
"""Writes the ramdisk: a POSIX ustar archive of the files given, at its top level.

Usage: mkinitrd.py OUT NAME=PATH...

Contract: the archive is reproducible (members in the order given, mtime 0,
uid/gid 0, mode 0644, no pax headers: ``tarfile.USTAR_FORMAT``), so the same
inputs give the same bytes. Only the standard library is used.
"""

from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path

from mkdisk import named_files


def build(members: list[tuple[str, bytes]]) -> bytes:
    """The archive of (name, data) members, in order."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: mkinitrd.py OUT NAME=PATH...", file=sys.stderr)
        return 2
    members = named_files(argv[1:], "mkinitrd")
    if members is None:
        return 2
    Path(argv[0]).write_bytes(build(members))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
