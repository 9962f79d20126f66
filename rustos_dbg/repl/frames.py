"""Frames of the backtrace as selections (``frame N``, ``up``, ``down``) and their locals.

Contract: :func:`select_frame` (session, N) walks the backtrace of what the
session looks at (the CPU, or the thread or task selected; a selected frame
walks its own base again) and returns a :class:`~.selection.Selection` of
kind ``frame`` whose registers are the frame's as the walk recovered them:
``rip`` (the frame's pc), ``rsp``, ``rbp``; the innermost frame and the first
frame after an interrupt know every general register (from the CPU or the
saved ``TrapFrame``), and every frame the callee-saved registers (rbx,
r12-r15) its callees' prologues pushed, or left alone. Its ``detail`` is a :class:`FrameDetail` (the frame's
number, pc, CFA, function, what it was selected from). A frame number
outside the walk is a one-line ``CommandError``.

:func:`frame_locals` (session, ``params``) lists the locals of the selected
frame (frame 0 when none is selected) as :class:`LocalValue` s: the name, and
either a :class:`~rustos_dbg.dwarf.Value` (in memory or held in registers) or
why it is unavailable (``optimized out`` when no location covers the pc, a
register this frame does not recover...). :func:`find_local` finds one by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from capstone import CS_ARCH_X86, CS_MODE_64, Cs

from ..dwarf import Value, load
from ..dwarf.functions import function_table
from ..dwarf.location import FrameRegs, locate
from .registry import CommandError
from .selection import Selection

_CS = Cs(CS_ARCH_X86, CS_MODE_64)
#: Registers a callee saves for its caller (System V psABI §3.2.1; rbp is the frame chain).
_CALLEE_SAVED = ("rbx", "r12", "r13", "r14", "r15")
_GPRS = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13",
         "r14", "r15", "rip")


@dataclass(frozen=True)
class FrameDetail:
    """A selected frame: number, pc (a return address above frame 0), the pc its
    code is looked up at (``pc - 1`` for a return address), CFA, function symbol,
    the registers it knows, and the selection it was walked from (None: the CPU)."""

    index: int
    pc: int
    lookup_pc: int
    cfa: int | None
    symbol: str
    known: Mapping[str, int] = field(default_factory=dict)
    base: Any = None
    count: int = 0


@dataclass(frozen=True)
class LocalValue:
    """One parameter or variable of a frame: a value, or why there is none."""

    name: str
    param: bool
    type_name: str
    value: Value | None
    reason: str = ""


def _base_of(session):
    selection = session.selection
    if selection is not None and selection.kind == "frame":
        return selection.detail.base
    return selection


def _frames(session, base) -> list[FrameDetail]:
    """Every code frame of the walk from ``base`` (None: the CPU), innermost first."""
    from ..inspect.hw import bt
    from .selection import SelectedReader

    machine = session.machine
    reader = machine if base is None else SelectedReader(machine, base)
    walk = bt.backtrace(reader, symbols=machine.symbols, symbolize=machine.symbolize)
    known = {name: reader.reg(name) for name in _GPRS}
    exact = True                 # the pc is where execution is (not a return address)
    out: list[FrameDetail] = []
    previous_fp = None
    for entry in walk.frames:
        if entry.kind == "interrupt":
            info = entry.interrupt
            known = dict(info.registers) if info.complete else {}
            known.update(rip=info.rip, rsp=info.rsp, rbp=info.rbp)
            previous_fp, exact = None, True
            continue
        regs = dict(known)
        regs["rip"] = entry.pc
        if entry.frame_pointer is not None:
            regs["rbp"] = entry.frame_pointer
        if "rsp" not in regs and previous_fp is not None:
            regs["rsp"] = previous_fp + 16   # the callee's CFA: where this frame's stack ends
        lookup = entry.pc - 1 if entry.is_return else entry.pc
        out.append(FrameDetail(len(out), entry.pc, lookup, _cfa(machine, regs, lookup, exact),
                               entry.symbol or "?", regs, base))
        previous_fp = regs.get("rbp")
        known = _callers_saved(reader, machine, regs, lookup, exact)
        exact = False
    return out


def _callers_saved(reader, machine, regs: Mapping[str, int], pc: int, exact: bool) -> dict[str, int]:
    """The caller's callee-saved registers: the ones this frame's prologue pushed
    (``push rbp; mov rbp, rsp; push r15; ...; push rbx``, as LLVM lays it out with
    frame pointers: the n-th push lands at ``rbp - 8n``), read back from the
    stack; the others are unchanged from this frame's (when it knows them)."""
    out = {name: regs[name] for name in _CALLEE_SAVED if name in regs}
    sym = machine.symbols.containing(pc)
    if sym is None or "rbp" not in regs:
        return out
    try:
        code = reader.read_virtual(sym.address, 32)
        insns = list(_CS.disasm_lite(code, sym.address))
        if len(insns) < 2 or insns[0][2:] != ("push", "rbp") or insns[1][2:] != ("mov", "rbp, rsp"):
            return out
        if exact and pc <= insns[1][0]:
            return out
        slot = 1
        for address, _size, mnemonic, operand in insns[2:]:
            if mnemonic != "push" or operand not in _CALLEE_SAVED or (exact and address >= pc):
                break
            out[operand] = int.from_bytes(reader.read_virtual(regs["rbp"] - 8 * slot, 8), "little")
            slot += 1
    except Exception:  # unreadable code or stack: what is known so far
        pass
    return out


def _cfa(machine, regs: Mapping[str, int], pc: int, returned: bool) -> int | None:
    """The canonical frame address: rbp + 16 once ``push rbp; mov rbp, rsp`` ran
    (the kernel keeps frame pointers, docs/boot.md §1); at a function's entry
    rsp + 8, after its ``push rbp`` rsp + 16."""
    sym = machine.symbols.containing(pc)
    if not returned and sym is not None and "rsp" in regs:
        if pc == sym.address:
            return regs["rsp"] + 8
        if pc == sym.address + 1:
            return regs["rsp"] + 16
    return regs["rbp"] + 16 if "rbp" in regs else None


def select_frame(session, index: int) -> Selection:
    """The selection of frame ``index`` of the current walk (see the module)."""
    base = _base_of(session)
    frames = _frames(session, base)
    if not 0 <= index < len(frames):
        raise CommandError(f"no frame {index} (the backtrace has {len(frames)} frame(s): 0-{len(frames) - 1})")
    detail = frames[index]
    detail = FrameDetail(detail.index, detail.pc, detail.lookup_pc, detail.cfa, detail.symbol, detail.known,
                         base, len(frames))
    registers = {k: v for k, v in detail.known.items()}
    name = detail.symbol.split("+0x")[0].rsplit("::", 1)[-1]
    prefix = f"{base.label} " if base is not None else ""
    cr3 = base.cr3 if base is not None else None
    return Selection("frame", index, f"{prefix}frame {index} {name}", registers, cr3, detail)


def current_frame(session) -> FrameDetail:
    """The selected frame, or frame 0 of what the session looks at."""
    selection = session.selection
    if selection is not None and selection.kind == "frame":
        return selection.detail
    frames = _frames(session, selection)
    if not frames:
        raise CommandError("no frame: the backtrace is empty")
    return frames[0]


def frame_locals(session, params: bool | None = None) -> tuple[FrameDetail, list[LocalValue]]:
    """(the frame, its locals): ``params`` True for the arguments only, False for the
    variables only, None for both."""
    frame = current_frame(session)
    machine = session.machine
    table = function_table(machine.image)
    function = table.function_at(frame.lookup_pc)
    if function is None:
        raise CommandError(f"no debug info for the function at {frame.pc:#x} ({frame.symbol})")
    info = load(machine.image)
    reader = session.reader()
    regs = FrameRegs(frame.known, frame.cfa, reader.read_virtual)
    out = []
    for local in function.visible(frame.lookup_pc):
        if params is not None and local.param != params:
            continue
        typ = info.type_at(local.type) if local.type is not None else None
        type_name = typ.name if typ is not None else "?"
        place = locate(local.location, frame.lookup_pc, regs, function.frame_base)
        if typ is None:
            out.append(LocalValue(local.name, local.param, type_name, None, "its type is not in the DWARF"))
        elif place.kind == "unavailable":
            out.append(LocalValue(local.name, local.param, type_name, None, place.reason))
        elif place.kind == "memory":
            out.append(LocalValue(local.name, local.param, type_name, Value(typ, place.address, reader)))
        else:
            data = place.data.ljust(typ.size or 0, b"\0")[:typ.size] if typ.size else place.data
            out.append(LocalValue(local.name, local.param, type_name, Value(typ, None, reader, data)))
    return frame, out


def find_local(session, name: str) -> LocalValue | None:
    """The innermost local called ``name`` of the current frame (None when it has none)."""
    try:
        _, found = frame_locals(session)
    except CommandError:
        return None
    matches = [v for v in found if v.name == name]
    return matches[-1] if matches else None
