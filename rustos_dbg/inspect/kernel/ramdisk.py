"""The ramdisk (``RUSTOS_RAMDISK``): where the PVH module is, its state, its files.

Contract: :func:`read_ramdisk` (reader, dwarf) finds ``RUSTOS_RAMDISK``
through DWARF, parses it with the ``Ramdisk`` layout
(:mod:`rustos_dbg.structs.kernel`, docs/kernel-structures.md §16) and, when
there is a module, reads its bytes through the physical window and lists the
archive's members with Python's ``tarfile`` (a second reader, independent of
the kernel's): :class:`RamdiskFile` (name, size, byte offset of the data).
``problems`` notes a bad magic or version, an unreadable module, an archive
that Python cannot read while the kernel says mounted, and a member count
that differs from the kernel's ``files``. Only an unreadable
``RUSTOS_RAMDISK`` raises. Views: :func:`ramdisk_view` and :func:`to_json`.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass

from ...structs import kernel as layouts
from ...x86.layout import PHYS_OFFSET
from .common import Problem, debug_info, kernel_part, magic_problem, static, to_json, try_bytes

__all__ = ["RamdiskFile", "Ramdisk", "read_ramdisk", "ramdisk_view", "to_json"]

#: Largest module read back.
MAX_MODULE = 64 << 20


@dataclass(frozen=True)
class RamdiskFile:
    """One member of the archive."""

    name: str
    size: int
    offset: int   #: of its data in the archive


@dataclass(frozen=True)
class Ramdisk:
    """``RUSTOS_RAMDISK`` and the archive's members."""

    address: int
    phys: int
    size: int
    module_count: int
    state: str
    files: tuple[RamdiskFile, ...]
    problems: tuple[Problem, ...]


def read_ramdisk(reader, dwarf=None) -> Ramdisk:
    """Decodes ``RUSTOS_RAMDISK`` and lists its archive (see the module contract)."""
    info = debug_info(dwarf)
    value = static(reader, info, "RUSTOS_RAMDISK")
    rd = kernel_part(value, layouts.Ramdisk)
    problems = magic_problem("ramdisk", rd, "RDSK")
    state = layouts.RAMDISK_STATE_NAMES.get(rd.state, f"unknown ({rd.state})")
    files: tuple[RamdiskFile, ...] = ()
    if rd.phys and 0 < rd.size <= MAX_MODULE:
        data = try_bytes(reader, PHYS_OFFSET + rd.phys, rd.size)
        if data is None:
            problems.append(Problem("ramdisk", f"the module at phys {rd.phys:#x} ({rd.size} bytes) is unreadable"))
        else:
            try:
                with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                    files = tuple(RamdiskFile(m.name, m.size, m.offset_data) for m in tar.getmembers())
            except tarfile.TarError as e:
                if state == "mounted":
                    problems.append(Problem("ramdisk", f"the kernel mounted it, but Python's tarfile cannot read it: {e}"))
            if state == "mounted" and files and len(files) != rd.files:
                problems.append(Problem("ramdisk", f"the kernel counts {rd.files} files, tarfile {len(files)}"))
    return Ramdisk(value.address, rd.phys, rd.size, rd.module_count, state, files, tuple(problems))


def ramdisk_view(r: Ramdisk) -> str:
    """Compact text: the module, its state, then the files like `ls /ram`."""
    if not r.phys:
        lines = [f"ramdisk: none ({r.module_count} PVH modules)"]
    else:
        where = " at /ram" if r.state == "mounted" else ""
        lines = [f"ramdisk: {r.state}{where}, phys {r.phys:#x}-{r.phys + r.size:#x} ({r.size} bytes)"]
        lines += [f"  {f.size:>10} {f.name}" for f in r.files]
    if r.problems:
        lines.append(f"check: {len(r.problems)} problem(s)")
        lines += [f"  - {p}" for p in r.problems]
    return "\n".join(lines)
