"""Disassembly inspector (``dis``): N instructions at an address, Intel syntax, symbolized.

Contract: ``disassemble(reader, address, count)`` reads code (virtual, or
physical with ``physical=True``) page by page and decodes it with capstone
(x86-64, Intel syntax) into :class:`Instruction` records: bytes, mnemonic,
operands, the symbol label when the instruction starts a symbol, the
target of relative branches/calls, of RIP-relative memory operands and of
immediates that are kernel addresses, as ``symbol+off``, and ``current``
for the instruction at RIP (the reader's, or ``rip``).  Undecodable bytes become one-byte ``(bad)`` entries; an
unreadable address ends the listing with ``error`` set (nothing raised).
``disassemble_pieces`` yields the same listing in parts.
Views: ``format_disassembly``, ``to_json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

from capstone import CS_ARCH_X86, CS_GRP_CALL, CS_GRP_JUMP, CS_MODE_64, Cs
from capstone.x86_const import X86_OP_IMM, X86_OP_MEM, X86_REG_RIP

from .common import Symbolize, is_kernel_address, symbol_name, to_json
from .memdump import _read

__all__ = ["Instruction", "Disassembly", "disassemble", "disassemble_pieces", "format_disassembly", "to_json",
           "MAX_INSN"]

MAX_INSN = 15   #: longest x86 instruction in bytes


@dataclass(frozen=True)
class Instruction:
    """One decoded instruction."""

    address: int
    size: int
    data: bytes
    mnemonic: str
    op_str: str
    label: Optional[str] = None          #: symbol starting here
    symbol: Optional[str] = None         #: ``function+off`` of this address
    target: Optional[int] = None         #: branch/call target or RIP-relative address
    target_symbol: Optional[str] = None
    is_branch: bool = False
    current: bool = False                #: RIP points here


@dataclass(frozen=True)
class Disassembly:
    """A listing of consecutive instructions."""

    address: int
    count: int
    instructions: tuple[Instruction, ...]
    rip: Optional[int] = None
    error: Optional[str] = None


_CS: Optional[Cs] = None


def _engine() -> Cs:
    global _CS
    if _CS is None:
        _CS = Cs(CS_ARCH_X86, CS_MODE_64)
        _CS.detail = True
    return _CS


def _target(insn) -> tuple[Optional[int], bool]:
    """Branch target (relative jump/call immediate) or RIP-relative memory address."""
    branch = insn.group(CS_GRP_JUMP) or insn.group(CS_GRP_CALL)
    for op in insn.operands:
        if branch and op.type == X86_OP_IMM:
            return op.imm & ((1 << 64) - 1), True
        if op.type == X86_OP_MEM and op.mem.base == X86_REG_RIP:
            return (insn.address + insn.size + op.mem.disp) & ((1 << 64) - 1), branch
    for op in insn.operands:   # an absolute kernel address as an immediate
        if op.type == X86_OP_IMM and is_kernel_address(op.imm & ((1 << 64) - 1)):
            return op.imm & ((1 << 64) - 1), branch
    return None, branch


def disassemble(reader, address: int, count: int = 10, symbolize: Optional[Symbolize] = None,
                rip: Optional[int] = None, physical: bool = False) -> Disassembly:
    """Decode ``count`` instructions starting at ``address``."""
    if rip is None:
        try:
            rip = reader.reg("rip")
        except (KeyError, AttributeError):
            rip = None
    code, error = _read(reader, address, count * MAX_INSN, physical)
    cs = _engine()
    out: list[Instruction] = []
    offset = 0
    while len(out) < count and offset < len(code):
        for insn in cs.disasm(code[offset:], address + offset):
            out.append(_instruction(insn, symbolize, rip))
            offset += insn.size
            if len(out) >= count:
                break
        if len(out) >= count or offset >= len(code):
            break
        if error is not None and len(code) - offset < MAX_INSN:
            break      # cut short by unreadable memory, not by bad code
        a = address + offset
        out.append(Instruction(a, 1, code[offset:offset + 1], "(bad)", "",
                               symbol=symbol_name(symbolize, a), current=a == rip))
        offset += 1
    if len(out) >= count:
        error = None
    return Disassembly(address, count, tuple(out), rip, error)


def disassemble_pieces(reader, address: int, count: int, piece: int = 2000,
                       symbolize: Optional[Symbolize] = None, rip: Optional[int] = None,
                       physical: bool = False) -> Iterator[Disassembly]:
    """:func:`disassemble` of ``count`` instructions as consecutive listings of at
    most ``piece`` each (the same instructions, in order): a long listing can be
    shown while the rest is decoded, and abandoned part way."""
    left = count
    while left > 0:
        part = disassemble(reader, address, min(piece, left), symbolize, rip, physical)
        yield part
        if part.error or not part.instructions:
            return
        left -= len(part.instructions)
        last = part.instructions[-1]
        address = last.address + last.size


def _instruction(insn, symbolize: Optional[Symbolize], rip: Optional[int]) -> Instruction:
    sym = symbol_name(symbolize, insn.address)
    label = sym if sym is not None and "+0x" not in sym else None
    target, branch = _target(insn)
    return Instruction(insn.address, insn.size, bytes(insn.bytes), insn.mnemonic, insn.op_str,
                       label, sym, target,
                       symbol_name(symbolize, target) if target is not None else None,
                       branch, insn.address == rip)


def format_disassembly(d: Disassembly, show_bytes: bool = True) -> str:
    """Listing with ``<symbol>:`` label lines, ``=>`` at RIP, targets as ``<sym+off>``."""
    lines = []
    for i in d.instructions:
        if i.label:
            lines.append(f"<{i.label}>:")
        mark = "=>" if i.current else "  "
        off = ""
        if i.symbol and not i.label:
            off = f" <{i.symbol.rpartition('+')[2]}>" if "+0x" in i.symbol else ""
        text = f"{mark} {i.address:#018x}{off:<9}"
        if show_bytes:
            text += f" {i.data.hex(' '):<30}"
        text += f" {i.mnemonic} {i.op_str}".rstrip()
        if i.target is not None and i.target_symbol:
            text += f"  <{i.target_symbol}>"
        lines.append(text)
    if d.error:
        lines.append(f"   <unreadable: {d.error}>")
    return "\n".join(lines)
