"""The heap sanitizer's models and lookups: a block, an error, the allocator's code.

Contract: :class:`HeapBlock` and :class:`HeapError` are the frozen verdict
models of :mod:`.sanitizer` (built of :class:`~.sites.Site`); :func:`ret_sites`
finds a function's ``ret`` instructions (following tail jumps) in the code
:func:`image_bytes` reads from the kernel ELF's loaded segments. No hooks here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .sites import Site


@dataclass(frozen=True)
class HeapBlock:
    """One block handed out by the allocator."""

    address: int
    size: int                #: bytes requested (the block may be larger: its size class)
    allocated: Site
    freed: Site | None = None

    @property
    def end(self) -> int:
        """One past its last byte."""
        return self.address + self.size


@dataclass(frozen=True)
class HeapError:
    """The sanitizer's verdict."""

    kind: str                #: ``use-after-free``, ``out-of-bounds``, ``double-free``, ``invalid-free``
    access: str              #: ``read``, ``write`` or ``free``
    address: int
    size: int
    event: Site         #: the access (or the call of ``__rust_dealloc``)
    block: HeapBlock | None  #: the block involved (the nearest one for an out-of-bounds access)

    def describe(self) -> str:
        """One line: what happened where."""
        what = f"{self.access} of {self.size} bytes at {self.address:#x}" if self.access != "free" else \
            f"free of {self.address:#x} ({self.size} bytes)"
        return f"heap {self.kind}: {what} by the instruction at {self.event.rip:#x}"


def ret_sites(read_code, symbols, start: int, depth: int = 2) -> list[int]:
    """The ``ret`` instructions of the function at ``start``, following tail jumps to
    other functions' starts (``depth`` levels)."""
    from capstone import CS_ARCH_X86, CS_MODE_64, Cs

    sym = symbols.containing(start)
    if sym is None or not sym.size:
        return []
    cs = Cs(CS_ARCH_X86, CS_MODE_64)
    found = []
    for insn in cs.disasm(read_code(sym.address, sym.size), sym.address):
        if insn.mnemonic == "ret":
            found.append(insn.address)
        elif insn.mnemonic == "jmp" and depth and insn.op_str.startswith("0x"):
            target = int(insn.op_str, 16)
            callee = symbols.containing(target)
            if callee is not None and callee.address == target and target != sym.address:
                found.extend(ret_sites(read_code, symbols, target, depth - 1))
    return found


def image_bytes(image, address: int, size: int) -> bytes:
    """``size`` bytes of the kernel ELF's loaded segments at virtual ``address``
    (empty when no segment holds them)."""
    for seg in image.segments:
        if seg.vaddr <= address and address + size <= seg.vaddr + len(seg.data):
            return seg.data[address - seg.vaddr:address - seg.vaddr + size]
    return b""
