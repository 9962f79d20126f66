"""The files a command line boots with: ``--disk``, ``--initrd`` and ``--module``, and the loader's notes.

Contract: :func:`boot_files` turns a ``run``/``debug`` command line into the
``disk``, ``initrd`` and ``modules`` arguments of ``Machine.boot``: a disk
image or ramdisk beside the kernel ELF is used unless one is named or
``none`` is given (the ramdisk only for a PVH kernel, whose module it is);
:func:`print_boot_notes` prints what the loader said (a Limine request it does
not serve), one line each on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path


def boot_files(elf: Path, args) -> dict:
    """``disk``, ``modules`` and ``initrd`` for ``Machine.boot`` from ``args`` (argparse's)."""
    return dict(disk=disk_for(elf, args.disk), modules=modules_for(args.module),
                initrd=initrd_for(elf, args.initrd))


def modules_for(options: list[str]) -> list[tuple[str, str | None]]:
    """``--module FILE[,STRING]`` options as (path, string or None)."""
    out = []
    for option in options:
        path, _, text = option.partition(",")
        out.append((path, text or None))
    return out


def print_boot_notes(machine) -> None:
    """The loader's notes (e.g. a Limine request it does not serve), one line each on stderr."""
    for note in machine.boot_plan.notes:
        print(f"rustos-dbg: note: {note}", file=sys.stderr, flush=True)


def initrd_for(elf: Path, option: str | None) -> Path | None:
    """The ramdisk of ``--initrd``: as :func:`disk_for` with ``initrd.tar``, the default
    only for a PVH kernel (the ramdisk is its module; other kernels take ``--module``)."""
    from .machine.image import load_image

    if option is None and load_image(elf).pvh_entry32 is None:
        return None
    return disk_for(elf, option, "initrd.tar")


def disk_for(elf: Path, option: str | None, name: str = "disk.img") -> Path | None:
    """The disk image to attach: ``--disk FILE``, none for ``--disk none``, else
    ``disk.img`` beside the kernel ELF when it exists (``build/disk.img``); with
    ``name="initrd.tar"`` the same for the ramdisk (``--initrd``)."""
    if option is not None:
        return None if option == "none" else Path(option)
    beside = Path(elf).with_name(name)
    return beside if beside.is_file() else None
