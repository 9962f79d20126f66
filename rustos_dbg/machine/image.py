"""The kernel ELF: validation, loadable segments and boot entry points.

:func:`load_image` reads a RustOS kernel with pyelftools and checks what the
boot contract (docs/boot.md) needs: an ELF64 for x86-64 with loadable
segments, the PVH note (Xen note type 18), and the 64-bit entry symbol
``pvh_start64``. Every failure is a :class:`KernelImageError` with one line.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from .errors import KernelImageError
from .symbols import SymbolTable

XEN_ELFNOTE_PHYS32_ENTRY = 18
ENTRY64_SYMBOL = "pvh_start64"


@dataclass(frozen=True)
class Segment:
    """A PT_LOAD segment: file bytes to copy to ``paddr``, zero-filled to ``memsz``."""

    paddr: int
    vaddr: int
    data: bytes
    memsz: int
    flags: int


@dataclass(frozen=True)
class KernelImage:
    """A validated kernel ELF."""

    path: Path
    segments: tuple[Segment, ...]
    pvh_entry32: int
    entry64: int
    symbols: SymbolTable


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


def load_image(path: str | Path) -> KernelImage:
    """Reads and validates the kernel at ``path``."""
    path = Path(path)
    if not path.exists():
        raise KernelImageError(f"kernel ELF '{path}' not found")
    if not path.is_file():
        raise KernelImageError(f"'{path}' is not a file")
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
        import io

        elf = ELFFile(io.BytesIO(raw))
        if elf["e_machine"] != "EM_X86_64":
            raise KernelImageError(f"'{path}' is for {elf['e_machine']}, not x86-64")
        segments = tuple(
            Segment(s["p_paddr"], s["p_vaddr"], s.data(), s["p_memsz"], s["p_flags"])
            for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"
        )
        for seg in segments:
            if len(seg.data) > seg.memsz:
                raise KernelImageError(f"'{path}' has a segment larger in the file than in memory")
        entry32 = _pvh_entry(elf)
        symbols = SymbolTable.from_elf(elf)
    except KernelImageError:
        raise
    except (ELFError, struct.error, ValueError, KeyError, IndexError, AssertionError, OSError) as e:
        raise KernelImageError(f"'{path}' is truncated or malformed ({type(e).__name__}: {e})") from None
    if not segments:
        raise KernelImageError(f"'{path}' has no loadable segments")
    if entry32 is None:
        raise KernelImageError(f"'{path}' has no PVH entry note (Xen ELF note type 18): not a PVH kernel")
    entry64 = symbols.address_of(ENTRY64_SYMBOL)
    if entry64 is None:
        raise KernelImageError(f"'{path}' has no '{ENTRY64_SYMBOL}' symbol: the 64-bit entry of docs/boot.md is missing")
    return KernelImage(path, segments, entry32, entry64, symbols)
