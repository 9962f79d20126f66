"""Instruction boundaries of a straight run of x86-64 code (a translation block).

Contract: :func:`block_layout` returns the byte offset of every instruction
in ``code`` decoded from its start, and whether any of them is port I/O
(IN, OUT, INS, OUTS). Bytes that do not decode at the end are one more
instruction (an invalid opcode ends a translation block). Results are cached
by the bytes (instruction lengths do not depend on the address).
"""

from __future__ import annotations

from functools import lru_cache

_PORT_IO = frozenset(("in", "out", "insb", "insw", "insd", "outsb", "outsw", "outsd"))
_decoder = None


@lru_cache(maxsize=1 << 16)
def block_layout(code: bytes) -> tuple[tuple[int, ...], bool]:
    """(offsets of the instructions in ``code``, True when one of them is port I/O)."""
    global _decoder
    if _decoder is None:
        from capstone import CS_ARCH_X86, CS_MODE_64, Cs

        _decoder = Cs(CS_ARCH_X86, CS_MODE_64)
    offsets: list[int] = []
    io = False
    end = 0
    for address, size, mnemonic, _ in _decoder.disasm_lite(code, 0):
        offsets.append(address)
        end = address + size
        if mnemonic in _PORT_IO or mnemonic.startswith(("rep ins", "rep outs")):
            io = True
    if end < len(code):
        offsets.append(end)
    return tuple(offsets), io
