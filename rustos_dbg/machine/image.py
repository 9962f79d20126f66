"""The kernel ELF: validation, loadable segments, boot entry points, and the one parse of it.

:func:`load_image` reads a kernel with pyelftools and checks what every
loader needs: an ELF64 for x86-64 with loadable segments. It keeps the PVH
entry (Xen note type 18, None without one) and the file's first 32 KiB
(:attr:`KernelImage.head`, where a Multiboot2 header must lie); which boot
protocol the kernel speaks is decided by :func:`~.boot.boot_plan`. Every
failure is a :class:`KernelImageError` with one line.

A :class:`KernelImage` is the only parse of its file: it holds the file's bytes
as one pyelftools ``ELFFile``, the section headers and the symbol table, and
whatever else is built from the ELF (the DWARF index, the line table, see
:mod:`rustos_dbg.dwarf`) is built on first use with :meth:`KernelImage.derived`
and kept on the image. :func:`load_image` returns the same image again for the
same file while it is unchanged (same resolved path, modification time and
size; the two most recent files are kept), so every machine booted from one
kernel file, and every consumer of its debug information, shares one parse.
"""

from __future__ import annotations

import io
import struct
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from .errors import KernelImageError
from .symbols import Section, SymbolTable, read_sections

XEN_ELFNOTE_PHYS32_ENTRY = 18
#: How much of the file a Multiboot2 header may lie in (Multiboot2 §3.1.1).
HEAD_BYTES = 32 * 1024
#: How many kernel files :func:`load_image` keeps parsed.
KEEP_IMAGES = 2


@dataclass(frozen=True)
class Segment:
    """A PT_LOAD segment: file bytes to copy to ``paddr``, zero-filled to ``memsz``."""

    paddr: int
    vaddr: int
    data: bytes
    memsz: int
    flags: int
    align: int = 0x1000


@dataclass(frozen=True, eq=False)
class KernelImage:
    """A validated kernel ELF, parsed once: ``elf`` is its pyelftools ``ELFFile``
    (over the file's bytes, read through :meth:`derived` only: pyelftools reads
    are not thread-safe)."""

    path: Path
    segments: tuple[Segment, ...]
    pvh_entry32: int | None
    symbols: SymbolTable
    sections: tuple[Section, ...] = ()
    head: bytes = b""  #: the file's first :data:`HEAD_BYTES` bytes
    elf: Any = field(default=None, repr=False)
    entry: int = 0  #: the ELF header's ``e_entry``
    _derived: dict = field(default_factory=dict, init=False, repr=False)
    _lock: Any = field(default_factory=threading.RLock, init=False, repr=False)

    def derived(self, key: str, build: Callable[["KernelImage"], Any]) -> Any:
        """``build(self)``, computed on the first call with ``key`` and kept on the image
        (one build at a time per image)."""
        with self._lock:
            if key not in self._derived:
                self._derived[key] = build(self)
            return self._derived[key]


def _pvh_entry(elf: ELFFile) -> int | None:
    for segment in elf.iter_segments():
        if segment["p_type"] != "PT_NOTE":
            continue
        for note in segment.iter_notes():
            if note["n_name"] == "Xen" and note["n_type"] == XEN_ELFNOTE_PHYS32_ENTRY:
                desc = note["n_desc"]
                raw = desc.encode("latin-1") if isinstance(desc, str) else bytes(desc)
                return struct.unpack("<Q", raw[:8].ljust(8, b"\0"))[0] if len(raw) >= 4 else None
    return None


_IMAGES: "OrderedDict[tuple, KernelImage]" = OrderedDict()
_IMAGES_LOCK = threading.Lock()


def load_image(path: str | Path) -> KernelImage:
    """Reads and validates the kernel at ``path`` (the same image again while the file is unchanged)."""
    path = Path(path)
    if not path.exists():
        raise KernelImageError(f"kernel ELF '{path}' not found")
    if not path.is_file():
        raise KernelImageError(f"'{path}' is not a file")
    try:
        st = path.stat()
        key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    except OSError as e:
        raise KernelImageError(f"cannot read '{path}': {e.strerror}") from None
    with _IMAGES_LOCK:
        image = _IMAGES.get(key)
        if image is None:
            image = _IMAGES[key] = _parse(path)
            while len(_IMAGES) > KEEP_IMAGES:
                _IMAGES.popitem(last=False)
        _IMAGES.move_to_end(key)
        return image


def _parse(path: Path) -> KernelImage:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise KernelImageError(f"cannot read '{path}': {e.strerror}") from None
    if raw[:4] != b"\x7fELF":
        raise KernelImageError(f"'{path}' is not an ELF file")
    if len(raw) < 64:
        raise KernelImageError(f"'{path}' is truncated (only {len(raw)} bytes)")
    if raw[4] != 2:
        raise KernelImageError(f"'{path}' is a 32-bit ELF; RustOS is an x86-64 (ELF64) kernel")
    try:
        elf = ELFFile(io.BytesIO(raw))
        if elf["e_machine"] != "EM_X86_64":
            raise KernelImageError(f"'{path}' is for {elf['e_machine']}, not x86-64")
        segments = tuple(
            Segment(s["p_paddr"], s["p_vaddr"], s.data(), s["p_memsz"], s["p_flags"], s["p_align"])
            for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"
        )
        for seg in segments:
            if len(seg.data) > seg.memsz:
                raise KernelImageError(f"'{path}' has a segment larger in the file than in memory")
        entry32 = _pvh_entry(elf)
        sections = read_sections(elf)
        symbols = SymbolTable.from_elf(elf, sections)
    except KernelImageError:
        raise
    except (ELFError, struct.error, ValueError, KeyError, IndexError, AssertionError, OSError) as e:
        raise KernelImageError(f"'{path}' is truncated or malformed ({type(e).__name__}: {e})") from None
    if not segments:
        raise KernelImageError(f"'{path}' has no loadable segments")
    return KernelImage(path, segments, entry32, symbols, sections, raw[:HEAD_BYTES], elf, elf["e_entry"])
