"""Backtrace inspector (``bt``): the RBP chain, across interrupt frames.

Contract: ``backtrace(reader, symbols=...)`` starts at the reader's RIP/RSP/
RBP (or the given ones) and follows frame pointers (``[rbp]`` = caller's
RBP, ``[rbp+8]`` = return address; the kernel is built with frame pointers,
docs/boot.md §1).  At the innermost frame (and the first frame after an
interrupt) a function entry, the instruction after ``push rbp``, or a ``ret``
are recognised so the caller is not skipped.  When a return address lies
in ``trap_common`` the 176-byte ``TrapFrame`` (docs/kernel-structures.md §8)
starts at that return address's slot + 8: it is decoded into an
``interrupt`` entry and the walk continues from its RIP/RSP/RBP.  When RIP
itself is in a trap stub or in ``trap_common`` (stopped right at delivery),
the partial frame is located by counting the pushes already executed.
Return addresses are symbolized at ``addr - 1`` (a call can end a
function).  The walk is bounded (``max_depth``) and stops cleanly, with a
``stop_reason``, on unreadable memory, RBP = 0, a non-kernel return address
or a frame pointer that does not grow.  An interrupt frame whose CS has RPL 3
came from ring 3: the walk goes on in user space from its RIP/RSP/RBP (the
reader's memory is the address space in use, and ``symbols`` name user code
when they know the program, see ``inspect.kernel.user_programs``), accepting
user-half return addresses only, and the view marks that frame
``from ring 3``.  Views: ``format_backtrace``, ``to_json``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Optional

from capstone import CS_ARCH_X86, CS_MODE_64, Cs

from .common import (KERNEL_BASE, Symbolize, return_symbol, symbol_name, to_json,
                     vector_name)

__all__ = ["TRAP_FRAME_FIELDS", "TRAP_FRAME_SIZE", "InterruptInfo", "BtFrame", "Backtrace",
           "TrapLayout", "decode_trap_frame", "backtrace", "format_backtrace", "to_json"]

#: ``TrapFrame`` fields, lowest address first (docs/kernel-structures.md §8).
TRAP_FRAME_FIELDS = ("r15", "r14", "r13", "r12", "r11", "r10", "r9", "r8", "rbp", "rdi",
                     "rsi", "rdx", "rcx", "rbx", "rax", "vector", "error_code", "rip", "cs",
                     "rflags", "rsp", "ss")
TRAP_FRAME_SIZE = 8 * len(TRAP_FRAME_FIELDS)   # 176
_RIP_OFFSET = 8 * TRAP_FRAME_FIELDS.index("rip")
STUB_SIZE, STUB_COUNT = 16, 256
#: Return addresses accepted on a ring-3 stack: the user half, above the null page.
USER_CODE_START, USER_HALF_END = 0x1000, 1 << 47


@dataclass(frozen=True)
class InterruptInfo:
    """An interrupt/exception frame found on the stack."""

    vector: int
    name: str
    error_code: int
    rip: int
    cs: int
    rflags: int
    rsp: int
    ss: int
    rbp: int
    frame_address: int          #: TrapFrame address (or of the CPU's frame when partial)
    complete: bool              #: a whole TrapFrame (else only the CPU frame was pushed)
    registers: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class BtFrame:
    """One line of the backtrace: a code address or an interrupt."""

    index: int
    kind: str                   #: ``frame`` or ``interrupt``
    pc: int
    symbol: Optional[str] = None
    frame_pointer: Optional[int] = None
    is_return: bool = False     #: pc is a return address
    interrupt: Optional[InterruptInfo] = None


@dataclass(frozen=True)
class Backtrace:
    """All frames, innermost first, and why the walk ended."""

    frames: tuple[BtFrame, ...]
    stop_reason: str


@dataclass(frozen=True)
class TrapLayout:
    """Where the kernel's interrupt entry code lives."""

    trap_common: int
    trap_common_end: int
    trap_stubs: int

    @classmethod
    def from_symbols(cls, symbols) -> Optional["TrapLayout"]:
        """From ``trap_common`` and ``trap_stubs`` (None when either is missing)."""
        common, stubs = symbols.find("trap_common"), symbols.find("trap_stubs")
        if common is None or stubs is None:
            return None
        end = common.address + common.size if common.size else (
            stubs.address if stubs.address > common.address else common.address + 0x80)
        return cls(common.address, end, stubs.address)

    def in_common(self, addr: int) -> bool:
        """True inside ``trap_common``."""
        return self.trap_common <= addr < self.trap_common_end

    def stub_vector(self, addr: int) -> Optional[int]:
        """The vector whose stub holds ``addr``."""
        off = addr - self.trap_stubs
        return off // STUB_SIZE if 0 <= off < STUB_SIZE * STUB_COUNT else None


def decode_trap_frame(data: bytes, address: int) -> InterruptInfo:
    """Decode 176 bytes of a ``TrapFrame`` found at ``address``."""
    values = dict(zip(TRAP_FRAME_FIELDS, struct.unpack(f"<{len(TRAP_FRAME_FIELDS)}Q", data)))
    gprs = tuple((k, values[k]) for k in TRAP_FRAME_FIELDS[:15])
    return InterruptInfo(values["vector"], vector_name(values["vector"] & 0xFF),
                         values["error_code"], values["rip"], values["cs"], values["rflags"],
                         values["rsp"], values["ss"], values["rbp"], address, True, gprs)


_CS = Cs(CS_ARCH_X86, CS_MODE_64)


def _pushed_slots(reader, start: int, stop: int) -> int:
    """Net qwords pushed by the straight-line code from ``start`` up to ``stop``."""
    code = reader.read_virtual(start, max(0, stop - start) + 16)
    slots = 0
    for addr, _size, mnemonic, ops in _CS.disasm_lite(code, start):
        if addr >= stop:
            break
        if mnemonic == "push":
            slots += 1
        elif mnemonic == "pop":
            slots -= 1
        elif mnemonic in ("add", "sub") and ops.startswith("rsp, "):
            delta = int(ops[5:], 0) // 8
            slots += -delta if mnemonic == "add" else delta
    return slots


def _stub_pushes(reader, stub: int) -> int:
    """Pushes a stub makes before its ``jmp``: 1 when the CPU pushed an error code."""
    pushes = 0
    for _addr, _size, mnemonic, _ops in _CS.disasm_lite(reader.read_virtual(stub, STUB_SIZE), stub):
        if mnemonic == "jmp":
            break
        pushes += mnemonic == "push"
    return pushes


def _partial_interrupt(reader, layout: TrapLayout, pc: int, sp: int, fp: int) -> InterruptInfo:
    """The interrupt frame when RIP is still in a stub or in trap_common."""
    vector = layout.stub_vector(pc)
    if vector is not None:
        stub = layout.trap_stubs + STUB_SIZE * vector
        done = _pushed_slots(reader, stub, pc)
        cpu_error = _stub_pushes(reader, stub) == 1
        rip_slot = sp + 8 * done + (8 if cpu_error else 0)
        error = struct.unpack("<Q", reader.read_virtual(rip_slot - 8, 8))[0] if cpu_error else 0
    else:
        rip_slot = sp + 8 * _pushed_slots(reader, layout.trap_common, pc) + 16
        vector, error = struct.unpack("<QQ", reader.read_virtual(rip_slot - 16, 16))
    rip, cs, rflags, rsp, ss = struct.unpack("<5Q", reader.read_virtual(rip_slot, 40))
    return InterruptInfo(vector, vector_name(vector & 0xFF), error, rip, cs, rflags, rsp, ss, fp,
                         rip_slot - _RIP_OFFSET, False)


def _in_ring3(reader, pc: int) -> bool:
    """True when the reader's registers are a ring-3 context (CS's RPL 3, RIP in the user half)."""
    try:
        return pc < USER_HALF_END and reader.reg("cs") & 3 == 3
    except (KeyError, AttributeError, TypeError):
        return False


def _func_start(symbols, symbolize, pc: int) -> Optional[int]:
    if symbols is not None:
        s = symbols.containing(pc)
        return s.address if s is not None and s.size else None
    name = symbol_name(symbolize, pc)
    if name is None:
        return None
    _, plus, off = name.rpartition("+0x")
    return pc - int(off, 16) if plus else pc


def _prologue_caller(reader, pc: int, sp: int, fp: int, start: Optional[int]):
    """(return address, its slot, caller's RBP) when the frame is not set up (yet/any more)."""
    q = lambda a: struct.unpack("<Q", reader.read_virtual(a, 8))[0]  # noqa: E731
    if reader.read_virtual(pc, 1) == b"\xc3" or pc == start:
        return q(sp), sp, fp
    if start is not None and pc == start + 1 and reader.read_virtual(start, 1) == b"\x55":
        return q(sp + 8), sp + 8, q(sp)
    return None


def backtrace(reader, symbols=None, symbolize: Optional[Symbolize] = None, max_depth: int = 64,
              rip: Optional[int] = None, rsp: Optional[int] = None, rbp: Optional[int] = None,
              layout: Optional[TrapLayout] = None,
              code_start: int = KERNEL_BASE) -> Backtrace:
    """Walk the stack; ``symbols`` (find/containing/symbolize) gives names and ``trap_common``."""
    if symbolize is None and symbols is not None:
        symbolize = symbols.symbolize
    if layout is None and symbols is not None:
        layout = TrapLayout.from_symbols(symbols)
    pc = reader.reg("rip") if rip is None else rip
    sp = reader.reg("rsp") if rsp is None else rsp
    fp = reader.reg("rbp") if rbp is None else rbp
    frames: list[BtFrame] = []
    exact, floor = True, None     # floor: lowest acceptable next RBP on this stack
    user = _in_ring3(reader, pc)  # walking a ring-3 stack (a user thread's, or below a trap frame from ring 3)

    def add(kind, addr, **kw):
        frames.append(BtFrame(len(frames), kind, addr, **kw))

    def frame(addr, is_return, fp_):
        sym = return_symbol(symbolize, addr) if is_return else symbol_name(symbolize, addr)
        add("frame", addr, symbol=sym, frame_pointer=fp_, is_return=is_return)

    def interrupt(info: InterruptInfo):
        add("interrupt", info.rip, symbol=symbol_name(symbolize, info.rip), interrupt=info)
        return info.cs & 3 == 3     # it came from ring 3: the user stack follows

    while True:
        if sum(f.kind == "frame" for f in frames) >= max_depth:
            return Backtrace(tuple(frames), f"depth limit ({max_depth} frames)")
        frame(pc, not exact, fp)
        try:
            if exact and not user and layout is not None and (layout.in_common(pc) or
                                                 layout.stub_vector(pc) is not None):
                info = _partial_interrupt(reader, layout, pc, sp, fp)
                user = interrupt(info)
                pc, sp, fp, exact, floor = info.rip, info.rsp, info.rbp, True, None
                continue
            caller = None
            if exact:
                caller = _prologue_caller(reader, pc, sp, fp, _func_start(symbols, symbolize, pc))
            if caller is None:
                if fp == 0:
                    return Backtrace(tuple(frames), "end of the frame chain (rbp = 0)")
                if fp & 7 or (floor is not None and fp <= floor):
                    return Backtrace(tuple(frames), f"bad frame pointer {fp:#x}")
                saved = struct.unpack("<Q", reader.read_virtual(fp, 8))[0]
                if user and saved == 0:
                    # A program's entry (_start) was jumped to with rbp = 0, not called: its frame
                    # ends the stack (what lies above it is the program's arguments, not a return address).
                    return Backtrace(tuple(frames), "end of the frame chain (rbp = 0)")
                ret = struct.unpack("<Q", reader.read_virtual(fp + 8, 8))[0]
                caller, floor = (ret, fp + 8, saved), fp
            ret, slot, caller_fp = caller
            if user and not USER_CODE_START <= ret < USER_HALF_END:
                return Backtrace(tuple(frames), f"return address {ret:#x} is not user code")
            if not user and ret == 0 and caller_fp == 0:
                # The entry's own frame: a loader (Limine) pushed a return address of 0 and entered with rbp = 0.
                return Backtrace(tuple(frames), "end of the frame chain (the entry's return address is 0)")
            if not user and ret < code_start:
                return Backtrace(tuple(frames), f"return address {ret:#x} is not kernel code")
            if not user and layout is not None and layout.in_common(ret):
                frame(ret, True, caller_fp)
                info = decode_trap_frame(reader.read_virtual(slot + 8, TRAP_FRAME_SIZE), slot + 8)
                user = interrupt(info)
                pc, sp, fp, exact, floor = info.rip, info.rsp, info.rbp, True, None
                continue
            pc, sp, fp, exact = ret, slot + 8, caller_fp, False
        except Exception as e:   # GuestMemoryError: unreadable stack or code
            return Backtrace(tuple(frames), f"unreadable memory ({e})")


def format_backtrace(bt: Backtrace) -> str:
    """``#n  0x...  in symbol`` lines and ``<interrupt: vector N (name) error E>`` lines."""
    lines, n = [], 0
    for f in bt.frames:
        if f.kind == "interrupt":
            i = f.interrupt
            ring = "  from ring 3" if i.cs & 3 == 3 else ""
            lines.append(f"<interrupt: vector {i.vector} ({i.name}) error {i.error_code:#x}>"
                         f"  rip {i.rip:#x} rsp {i.rsp:#x} rflags {i.rflags:#x}{ring}")
            continue
        where = f" in {f.symbol}" if f.symbol else ""
        lines.append(f"#{n:<2} {f.pc:#018x}{where}")
        n += 1
    lines.append(f"({bt.stop_reason})")
    return "\n".join(lines)
