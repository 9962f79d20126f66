"""Which ELF the DWARF layer reads: exactly the one it is given.

Contract: :func:`kernel_image` turns what a caller names into the
:class:`~rustos_dbg.machine.image.KernelImage` whose parse is used: a
``KernelImage`` (a machine's ``machine.image``) is used as it is; a path is
loaded with :func:`~rustos_dbg.machine.image.load_image` (one parse per file
while it is unchanged; a missing or invalid file is a ``KernelImageError``).
There is no default kernel: ``None`` (or anything else) is a
:class:`~.types.DwarfError` with one line. :func:`built` builds something from
the image's ELF once and keeps it on the image.
"""

from __future__ import annotations

import os

from ..machine.image import KernelImage, load_image
from .types import DwarfError


def kernel_image(elf) -> KernelImage:
    """The image of ``elf``: a ``KernelImage``, or the path of a kernel ELF."""
    if isinstance(elf, KernelImage):
        return elf
    if isinstance(elf, (str, os.PathLike)):
        return load_image(elf)
    if elf is None:
        raise DwarfError("no kernel ELF given for the debug information: pass the machine's image "
                         "(machine.image) or the path of the kernel ELF")
    raise DwarfError(f"cannot read debug information from a {type(elf).__name__}: "
                     "pass a KernelImage (machine.image) or the path of a kernel ELF")

