"""The files a boot reads besides the kernel: boot modules, the ramdisk and the disk image.

Contract: each function reads or opens its file at boot, and turns every
failure into the one-line error of its kind (:class:`KernelImageError` for a
module, :class:`InitrdError` for a ramdisk that cannot be read or placed,
:class:`DiskImageError` for a disk image).
"""

from __future__ import annotations

from pathlib import Path

from .boot import BootModule
from .errors import DiskImageError, InitrdError, KernelImageError


def read_modules(modules) -> tuple[BootModule, ...]:
    """Each boot module (a path, or (path, string)) read."""
    out = []
    for module in modules:
        path, text = (module, None) if isinstance(module, (str, Path)) else module
        path = Path(path)
        try:
            out.append(BootModule(path.read_bytes(), path.name, text))
        except OSError as e:
            raise KernelImageError(f"boot module '{path}': {e.strerror}") from None
    return tuple(out)


def read_initrd(path: Path | None, ram_bytes: int) -> bytes | None:
    """The ramdisk's bytes (None: no ramdisk); an :class:`InitrdError` when it cannot be read or placed."""
    if path is None:
        return None
    from .boot_pvh import initrd_address

    try:
        data = path.read_bytes()
    except OSError as e:
        raise InitrdError(f"ramdisk '{path}': {e.strerror}") from None
    try:
        initrd_address(ram_bytes, len(data))
    except ValueError as e:
        raise InitrdError(f"ramdisk '{path}': {e}") from None
    return data


def open_disk(path: Path | None):
    """The :class:`~rustos_dbg.devices.disk.DiskImage` at ``path`` (None: no disk)."""
    if path is None:
        return None
    from ..devices.disk import DiskError, DiskImage

    try:
        return DiskImage(path)
    except DiskError as e:
        raise DiskImageError(str(e)) from None
