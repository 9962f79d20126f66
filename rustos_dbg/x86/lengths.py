"""Instruction boundaries of a straight run of x86-64 code (a translation block).

Contract: :func:`instruction_length` gives the length of the 64-bit-mode
instruction at an offset of a byte string (legacy prefixes, REX, the one-,
two- and three-byte opcode maps, VEX and EVEX; Intel SDM Vol. 2A §2.1-2.3
and Appendix A); :func:`block_layout` gives the offset of every instruction
of a block decoded from its start, whether one of them is port I/O (IN,
OUT, INS, OUTS), and whether the last one may set RFLAGS.IF (STI, POPF,
IRET). It decodes lengths only: an opcode that is invalid in 64-bit
mode counts as one byte, and bytes left at the end (an instruction cut by the
block's end) count as one more instruction. With ``code64=False`` both decode
32-bit protected-mode code instead (a boot path before its switch to long
mode): 0x40-0x4F are INC/DEC, ``moffs`` are 4 bytes, far JMP/CALL take a
``ptr16:32``, C4/C5/62 with a memory operand are LES/LDS/BOUND; 16-bit
addressing (a 0x67 prefix there) is not decoded. Pure Python, no disassembler:
the run loop decodes every new block, so this stays cheap to import.
"""

from __future__ import annotations

from functools import lru_cache

_PREFIXES = frozenset((0xF0, 0xF2, 0xF3, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65, 0x66, 0x67))
_PORT_IO = frozenset((0x6C, 0x6D, 0x6E, 0x6F, 0xE4, 0xE5, 0xE6, 0xE7, 0xEC, 0xED, 0xEE, 0xEF))
_SETS_IF = frozenset((0xFB, 0x9D, 0xCF))  # STI, POPF, IRET


def _set(*spans) -> frozenset[int]:
    out: set[int] = set()
    for span in spans:
        if isinstance(span, tuple):
            out.update(range(span[0], span[1] + 1))
        else:
            out.add(span)
    return frozenset(out)


# One-byte map (SDM Vol. 2D Table A-2): opcodes with a ModRM byte.
_MODRM1 = _set((0x00, 0x03), (0x08, 0x0B), (0x10, 0x13), (0x18, 0x1B), (0x20, 0x23), (0x28, 0x2B),
               (0x30, 0x33), (0x38, 0x3B), 0x63, 0x69, 0x6B, (0x80, 0x8F), (0xC0, 0xC1),
               (0xC6, 0xC7), (0xD0, 0xD3), (0xD8, 0xDF), (0xF6, 0xF7), (0xFE, 0xFF))
# Immediate bytes: 1 (ib), 2 (iw), 3 (iw + ib); "z" is 2 or 4 by operand size.
_IMM1_B = _set(0x04, 0x0C, 0x14, 0x1C, 0x24, 0x2C, 0x34, 0x3C, 0x6A, 0x6B, (0x70, 0x7F), 0x80, 0x83,
               0xA8, (0xB0, 0xB7), 0xC0, 0xC1, 0xC6, 0xCD, 0xD4, 0xD5, (0xE0, 0xE7), 0xEB)
_IMM1_Z = _set(0x05, 0x0D, 0x15, 0x1D, 0x25, 0x2D, 0x35, 0x3D, 0x68, 0x69, 0x81, 0xA9, 0xC7)
_IMM1_FIXED = {0xC2: 2, 0xCA: 2, 0xC8: 3}
_REL_Z = frozenset((0xE8, 0xE9))
# Two-byte map (0F xx, SDM Table A-3): opcodes without a ModRM byte, and with an ib.
_NO_MODRM2 = _set((0x04, 0x09), (0x0A, 0x0C), 0x0E, (0x30, 0x37), 0x77, (0x80, 0x8F), (0xA0, 0xA2),
                  (0xA8, 0xAA), (0xC8, 0xCF))
_IMM2_B = _set(0x0F, (0x70, 0x73), 0xA4, 0xAC, 0xBA, 0xC2, (0xC4, 0xC6))


def _modrm_length(code: bytes, i: int) -> int:
    """Bytes of the ModRM at ``i`` with its SIB and displacement (64-bit addressing)."""
    modrm = code[i]
    mod, rm = modrm >> 6, modrm & 7
    if mod == 3:
        return 1
    n = 1
    if rm == 4:
        n += 1
        if mod == 0 and code[i + 1] & 7 == 5:
            n += 4
    elif mod == 0 and rm == 5:
        n += 4  # RIP-relative
    if mod == 1:
        n += 1
    elif mod == 2:
        n += 4
    return n


def instruction_length(code: bytes, i: int = 0, code64: bool = True) -> tuple[int, int]:
    """(length, opcode) of the instruction at ``code[i]``: the opcode is its
    one-byte-map opcode, or 0x0F00 | byte for the other maps (IndexError if
    ``code`` ends inside it); ``code64=False``: a 32-bit code segment's."""
    start = i
    opsize = adsize = False
    rex_w = False
    while True:
        b = code[i]
        if b in _PREFIXES:
            opsize |= b == 0x66
            adsize |= b == 0x67
            rex_w = False
            i += 1
        elif 0x40 <= b <= 0x4F and code64:
            rex_w = bool(b & 8)
            i += 1
        else:
            break
    i += 1
    iz = 2 if opsize and not rex_w else 4  # also the size of rel16/rel32
    if b == 0x0F:
        op = code[i]
        i += 1
        if op == 0x38:
            i += 1
            return i + _modrm_length(code, i) - start, 0x0F00 | op
        if op == 0x3A:
            i += 1
            return i + _modrm_length(code, i) + 1 - start, 0x0F00 | op
        if 0x20 <= op <= 0x23:
            i += 1  # MOV to/from CR/DR: always the register form
        elif op not in _NO_MODRM2:
            i += _modrm_length(code, i)
        if op in _IMM2_B:
            i += 1
        elif 0x80 <= op <= 0x8F:
            i += iz
        return i - start, 0x0F00 | op
    if not code64:
        legacy = _legacy32(code, i, b, opsize)
        if legacy is not None:
            return i + legacy - start, b
    if b in (0xC4, 0xC5, 0x62):
        # VEX (2 or 3 bytes) or EVEX (4 bytes): the map decides ModRM and imm8.
        if b == 0xC5:
            opmap = 1
            i += 1
        elif b == 0xC4:
            opmap = code[i] & 0x1F
            i += 2
        else:
            opmap = code[i] & 0x07
            i += 3
        op = code[i]
        i += 1
        if not (opmap == 1 and op == 0x77 and b != 0x62):  # vzeroupper/vzeroall
            i += _modrm_length(code, i)
        if opmap == 3 or (opmap == 1 and op in _IMM2_B):
            i += 1
        return i - start, 0x0F00 | op
    if b in _MODRM1:
        modrm = code[i]
        i += _modrm_length(code, i)
        if b in (0xF6, 0xF7) and (modrm >> 3) & 7 in (0, 1):  # TEST r/m, imm
            i += 1 if b == 0xF6 else iz
    if b in _IMM1_B:
        i += 1
    elif b in _IMM1_Z:
        i += iz
    elif b in _IMM1_FIXED:
        i += _IMM1_FIXED[b]
    elif b in _REL_Z:
        i += iz
    elif 0xB8 <= b <= 0xBF:
        i += 8 if rex_w else iz
    elif 0xA0 <= b <= 0xA3:
        i += 4 if adsize else 8  # moffs
    return i - start, b


def _legacy32(code: bytes, i: int, b: int, opsize: bool) -> int | None:
    """Bytes after the opcode byte at ``i - 1`` of a 32-bit-mode instruction whose length
    differs from 64-bit mode's, or None when it does not."""
    if b in (0xEA, 0x9A):
        return 4 if opsize else 6          # ptr16:16 / ptr16:32
    if 0xA0 <= b <= 0xA3:
        return 4                           # moffs32
    if b in (0xC4, 0xC5, 0x62) and code[i] >> 6 != 3:
        return _modrm_length(code, i)      # LES, LDS, BOUND
    if b == 0x82:
        return _modrm_length(code, i) + 1  # the 0x80 group's alias
    if 0xB8 <= b <= 0xBF:
        return 2 if opsize else 4
    return None


@lru_cache(maxsize=1 << 16)
def block_layout(code: bytes, code64: bool = True) -> tuple[tuple[int, ...], bool, bool]:
    """(offsets of the instructions in ``code``, True when one of them is port
    I/O, True when the last one is STI, POPF or IRET: it may set RFLAGS.IF);
    ``code64=False``: 32-bit code."""
    offsets: list[int] = []
    io = False
    op = None
    i, end = 0, len(code)
    while i < end:
        offsets.append(i)
        try:
            n, op = instruction_length(code, i, code64)
        except IndexError:
            op = None
            break
        io = io or op in _PORT_IO
        i += n
    return tuple(offsets), io, op in _SETS_IF
