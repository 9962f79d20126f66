"""Where a local lives at a pc: DWARF location expressions evaluated against a frame.

Contract: :func:`locate` (a :class:`~.functions.RawLocal`'s ``location``, the
pc, a :class:`FrameRegs`) returns a :class:`Place`: ``memory`` (an address),
``value`` (the bytes themselves: a register, ``DW_OP_stack_value``,
``DW_OP_implicit_value``, or pieces put together) or ``unavailable`` with
the reason (``optimized out`` when no entry of a location list covers the
pc, or the register or operation this frame cannot give). It never raises for
a well-formed expression; guest reads (``DW_OP_deref``) raise
``GuestMemoryError``. The operations are those of DWARF 5 §2.5-2.6 that rustc
emits: ``addr``, ``const*``, ``lit*``, ``reg*``/``regx``, ``breg*``/``bregx``,
``fbreg`` (against the function's ``DW_AT_frame_base``), ``call_frame_cfa``,
``plus``, ``plus_uconst``, ``minus``, ``dup``, ``deref``, ``piece``,
``stack_value``, ``implicit_value``, ``nop``. ``DW_OP_entry_value`` (a
parameter's value at the call, which the frame no longer holds) is
unavailable. Registers use the x86-64 psABI's DWARF numbers
(:data:`DWARF_REGISTERS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

#: DWARF register number -> x86-64 register name (System V psABI, Figure 3.36).
DWARF_REGISTERS = ("rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
                   "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip")
MASK = (1 << 64) - 1


@dataclass(frozen=True)
class FrameRegs:
    """What a frame knows: the registers it has (by name; a frame above the
    innermost one knows rip, rsp and rbp only), its CFA, and memory."""

    registers: Mapping[str, int]
    cfa: int | None
    read: Callable[[int, int], bytes]


@dataclass(frozen=True)
class Place:
    """Where a value is: ``kind`` memory (``address``), value (``data``) or unavailable (``reason``)."""

    kind: str
    address: int | None = None
    data: bytes | None = None
    reason: str = ""


class _Unavailable(Exception):
    pass


def _leb128(code: bytes, pos: int, signed: bool) -> tuple[int, int]:
    """A LEB128 number at ``pos`` (DWARF 5 §7.6), and the position after it."""
    value = shift = 0
    while True:
        byte = code[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            if signed and byte & 0x40:
                value -= 1 << shift
            return value, pos


def _uleb(code: bytes, pos: int) -> tuple[int, int]:
    return _leb128(code, pos, signed=False)


def _sleb(code: bytes, pos: int) -> tuple[int, int]:
    return _leb128(code, pos, signed=True)


def _reg(frame: FrameRegs, number: int) -> int:
    name = DWARF_REGISTERS[number] if number < len(DWARF_REGISTERS) else f"DWARF register {number}"
    if name not in frame.registers:
        raise _Unavailable(f"in register {name}, which this frame does not recover")
    return frame.registers[name]


_FIXED = {0x08: (1, False), 0x09: (1, True), 0x0A: (2, False), 0x0B: (2, True),
          0x0C: (4, False), 0x0D: (4, True), 0x0E: (8, False), 0x0F: (8, True)}


def _evaluate(code: bytes, frame: FrameRegs, frame_base: bytes | None) -> Place:
    """One expression (no location list)."""
    stack: list[int] = []
    pieces: list[bytes] = []
    pos = 0
    place: Place | None = None   # a register or implicit location, awaiting a piece or the end
    while pos < len(code):
        op = code[pos]
        pos += 1
        if op == 0x03:
            stack.append(int.from_bytes(code[pos:pos + 8], "little"))
            pos += 8
        elif op in _FIXED:
            n, signed = _FIXED[op]
            stack.append(int.from_bytes(code[pos:pos + n], "little", signed=signed) & MASK)
            pos += n
        elif op == 0x10:
            value, pos = _uleb(code, pos)
            stack.append(value & MASK)
        elif op == 0x11:
            value, pos = _sleb(code, pos)
            stack.append(value & MASK)
        elif 0x30 <= op <= 0x4F:
            stack.append(op - 0x30)
        elif 0x50 <= op <= 0x6F or op == 0x90:
            number = op - 0x50
            if op == 0x90:
                number, pos = _uleb(code, pos)
            place = Place("value", data=_reg(frame, number).to_bytes(8, "little"))
        elif 0x70 <= op <= 0x8F or op == 0x92:
            number = op - 0x70
            if op == 0x92:
                number, pos = _uleb(code, pos)
            offset, pos = _sleb(code, pos)
            stack.append((_reg(frame, number) + offset) & MASK)
        elif op == 0x91:
            offset, pos = _sleb(code, pos)
            if frame_base is None:
                raise _Unavailable("the function has no frame base")
            base = _evaluate(frame_base, frame, None)
            if base.kind == "unavailable":
                raise _Unavailable(base.reason)
            address = base.address if base.kind == "memory" else int.from_bytes(base.data[:8], "little")
            stack.append((address + offset) & MASK)
        elif op == 0x9C:
            if frame.cfa is None:
                raise _Unavailable("the frame's CFA is not known")
            stack.append(frame.cfa)
        elif op == 0x12:
            stack.append(stack[-1])
        elif op == 0x06:
            stack.append(int.from_bytes(frame.read(stack.pop(), 8), "little"))
        elif op == 0x22:
            b, a = stack.pop(), stack.pop()
            stack.append((a + b) & MASK)
        elif op == 0x1C:
            b, a = stack.pop(), stack.pop()
            stack.append((a - b) & MASK)
        elif op == 0x23:
            value, pos = _uleb(code, pos)
            stack.append((stack.pop() + value) & MASK)
        elif op == 0x9F:
            place = Place("value", data=stack.pop().to_bytes(8, "little"))
        elif op == 0x9E:
            n, pos = _uleb(code, pos)
            place = Place("value", data=bytes(code[pos:pos + n]))
            pos += n
        elif op == 0x93:
            n, pos = _uleb(code, pos)
            if place is None and stack:
                place = Place("memory", address=stack.pop())
            if place is None:
                raise _Unavailable("a piece of it is optimized out")
            data = place.data if place.kind == "value" else frame.read(place.address, n)
            pieces.append(bytes(data[:n]).ljust(n, b"\0"))
            place, stack = None, []
        elif op == 0x96:
            pass
        elif op == 0xA3:
            raise _Unavailable("optimized out (its value at the function's entry is not kept)")
        else:
            raise _Unavailable(f"unsupported DWARF operation {op:#04x}")
    if pieces:
        return Place("value", data=b"".join(pieces))
    if place is not None:
        return place
    if not stack:
        raise _Unavailable("optimized out")
    return Place("memory", address=stack[-1])


def locate(location, pc: int, frame: FrameRegs, frame_base: bytes | None) -> Place:
    """Where the local with this ``location`` is at ``pc`` (see the module)."""
    if location is None:
        return Place("unavailable", reason="optimized out")
    if isinstance(location, tuple):
        code = next((expr for lo, hi, expr in location if lo <= pc < hi), None)
        if code is None:
            return Place("unavailable", reason="optimized out")
    else:
        code = location
    if not code:
        return Place("unavailable", reason="optimized out")
    try:
        return _evaluate(code, frame, frame_base)
    except _Unavailable as e:
        return Place("unavailable", reason=str(e))
    except IndexError:
        return Place("unavailable", reason="malformed location expression")
