"""Every kernel stack, and the verdict "stack overflow: STACK exhausted".

Contract: :func:`read_stacks` (reader, symbols, dwarf) lists the kernel's stacks
as frozen :class:`KernelStack`\\ s: the ``RUSTOS_*_STACK`` statics (the boot
stack and the IST stacks, each labelled with the TSS slots that point at it,
:mod:`rustos_dbg.inspect.hw.tss`) and every live thread's kernel stack from
the thread table (:mod:`.threads`: its guard page and top; a thread whose
guard is 0 runs on the boot stack). Each has a guard page (the 4 KiB below its
usable part), its usable size, its current depth (top minus the CPU's RSP when
RSP is inside it, else top minus a thread's saved RSP) and its high-water mark
from a *watermark scan*: the lowest nonzero qword of the usable part (stacks
start zeroed; a thread stack's slot is reused by later threads, so its mark is
the deepest of all of them; a value of zero pushed at the deepest point is
missed). A kernel without the thread table gives the static stacks only.

:func:`find_overflow` (stacks, log entries, reader, symbols) names a stack
overflow: the most recent exception delivery among the entries whose CR2 (a
#PF) or interrupted RSP lies in a stack's guard page gives a
:class:`StackOverflow`: the stack, the function that ran into the guard (the
faulting RIP's symbol) and the deepest frames, folded (``recurse x 64``),
from a scan of the stack above the faulting RSP for return addresses (a
qword in kernel code right after a ``call``) linked by saved frame pointers. Views: :func:`stacks_view`,
:func:`overflow_view`, and ``to_json``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..hw.common import GUARD_SIZE, find_stacks, is_kernel_address, to_json

__all__ = ["KernelStack", "StackOverflow", "read_stacks", "find_overflow", "stacks_view", "overflow_view",
           "to_json"]

#: Folded frames an overflow report shows.
MAX_FOLDED = 8
_PF = 14


@dataclass(frozen=True)
class KernelStack:
    """One kernel stack."""

    name: str                  #: ``RUSTOS_MAIN_STACK``, ``thread 3 (shell)``...
    role: str                  #: ``boot stack``, ``TSS IST1``, ``kernel stack of thread 3``...
    guard: int                 #: first byte of the guard page
    top: int                   #: one past the highest byte (the initial RSP)
    depth: int | None          #: bytes in use now (None: not on it)
    high_water: int | None     #: deepest use seen by the watermark scan (None: unreadable)

    @property
    def bottom(self) -> int:
        """The lowest usable byte (just above the guard page)."""
        return self.guard + GUARD_SIZE

    @property
    def size(self) -> int:
        """Usable bytes."""
        return self.top - self.bottom

    def in_guard(self, address: int) -> bool:
        """True when ``address`` lies in the guard page."""
        return self.guard <= address < self.bottom


@dataclass(frozen=True)
class StackOverflow:
    """A fault in a stack's guard page."""

    stack: KernelStack
    icount: int                #: when the fault happened
    vector: int
    address: int               #: the guard-page address (CR2, or the RSP)
    rip: int                   #: the instruction that ran into the guard
    function: str              #: its symbol
    frames: tuple[tuple[str, int], ...]   #: (function, consecutive frames), innermost first


def _watermark(reader, bottom: int, top: int) -> int | None:
    try:
        data = reader.read_virtual(bottom, top - bottom)
    except Exception:
        return None
    for i in range(0, len(data), 8):
        if any(data[i:i + 8]):
            return top - (bottom + i)
    return 0


def _depth(bottom: int, top: int, rsp: int | None) -> int | None:
    return top - rsp if rsp is not None and bottom - GUARD_SIZE <= rsp <= top else None


def read_stacks(reader, symbols=None, dwarf=None) -> tuple[KernelStack, ...]:
    """Every kernel stack (see the module contract), statics first, by address."""
    from ..hw.tss import read_tss

    try:
        rsp = reader.reg("rsp")
    except Exception:
        rsp = None
    statics = find_stacks(symbols)
    if not statics:
        from .common import NotThisKernel

        raise NotThisKernel("RUSTOS_MAIN_STACK")
    slots: dict[str, list[str]] = {}
    try:
        tss = read_tss(reader, stacks=statics)
        for slot in tss.rsp + tss.ist:
            if slot.stack is not None:
                slots.setdefault(slot.stack, []).append(slot.slot)
    except Exception:  # no TSS loaded yet
        pass
    found = []
    for s in statics:
        roles = (["boot stack"] if s.name == "RUSTOS_MAIN_STACK" else []) + \
            (["TSS " + ", ".join(slots[s.name])] if s.name in slots else [])
        role = ", ".join(roles) or "stack"
        found.append(KernelStack(s.name, role, s.base, s.top, _depth(s.guard_end, s.top, rsp),
                                 _watermark(reader, s.guard_end, s.top)))
    for t in _threads(reader, dwarf):
        if not t.stack_guard or not t.stack_top:
            continue
        bottom = t.stack_guard + GUARD_SIZE
        depth = _depth(bottom, t.stack_top, rsp if t.rsp is None else t.rsp)
        found.append(KernelStack(f"thread {t.tid} ({t.name})", f"kernel stack of thread {t.tid}", t.stack_guard,
                                 t.stack_top, depth, _watermark(reader, bottom, t.stack_top)))
    return tuple(found)


def _threads(reader, dwarf):
    if dwarf is None:
        return ()
    from .threads import read_threads

    try:
        return read_threads(reader, dwarf).threads
    except Exception:  # a kernel without the thread table, or not set up yet
        return ()


def _is_return_address(reader, value: int, cache: dict) -> bool:
    """True when ``value`` follows a ``call`` in kernel code (E8 rel32, or FF /2)."""
    if not is_kernel_address(value):
        return False
    if value not in cache:
        try:
            code = reader.read_virtual(value - 7, 7)
            cache[value] = code[2] == 0xE8 or any(code[7 - n] == 0xFF and (code[8 - n] >> 3) & 7 == 2
                                                   for n in (2, 3, 6, 7))
        except Exception:
            cache[value] = False
    return cache[value]


def _return_addresses(reader, stack: KernelStack, rsp: int) -> list[int]:
    """The return addresses above ``rsp``: the frame-pointer chain whose links stay
    on the stack (``[slot]`` = the caller's saved RBP, ``[slot+8]`` = a return
    address), begun at the lowest such slot; stale return addresses left in
    frames' unwritten locals are skipped that way. Falls back to every return
    address found when no chain of two frames exists."""
    low = max(rsp, stack.bottom)
    try:
        data = reader.read_virtual(low, stack.top - low)
    except Exception:
        return []
    words = [int.from_bytes(data[i:i + 8], "little") for i in range(0, len(data) - 7, 8)]
    cache: dict = {}
    returns = {i for i, w in enumerate(words) if _is_return_address(reader, w, cache)}
    for start in sorted(i - 1 for i in returns if i >= 1):
        chain, slot = [], start
        while 0 <= slot < len(words) - 1 and slot + 1 in returns:
            chain.append(words[slot + 1])
            link = words[slot]
            if not low + 8 * slot < link < stack.top or (link - low) % 8:
                break
            slot = (link - low) // 8
        if len(chain) >= 2:
            return chain
    return [words[i] for i in sorted(returns)]


def _folded_frames(reader, symbols, stack: KernelStack, rsp: int, first: str) -> tuple[tuple[str, int], ...]:
    """The functions above ``rsp`` on ``stack``, innermost first, consecutive ones folded."""
    names = [first]
    for value in _return_addresses(reader, stack, rsp):
        sym = symbols.containing(value - 1) if symbols is not None else None
        names.append(sym.name if sym is not None else f"{value:#x}")
    folded: list[list] = []
    for name in names:
        if folded and folded[-1][0] == name:
            folded[-1][1] += 1
        else:
            folded.append([name, 1])
    return tuple((n, c) for n, c in folded)


def find_overflow(stacks, entries, reader, symbols=None) -> StackOverflow | None:
    """The latest exception among ``entries`` (exception-log entries) that hit a guard page."""
    for entry in reversed(list(entries)):
        if entry.vector >= 32:
            continue
        candidates = ([entry.cr2] if entry.vector == _PF and entry.cr2 is not None else []) + [entry.old_rsp]
        for address in candidates:
            stack = next((s for s in stacks if s.in_guard(address)), None)
            if stack is None:
                continue
            sym = symbols.containing(entry.rip) if symbols is not None else None
            function = sym.name if sym is not None else f"{entry.rip:#x}"
            frames = _folded_frames(reader, symbols, stack, entry.old_rsp, function)
            return StackOverflow(stack, entry.icount, entry.vector, address, entry.rip, function, frames)
    return None


def _size(n: int | None) -> str:
    return "-" if n is None else f"{n:#x}"


def stacks_view(stacks) -> str:
    """One row per stack: name, role, range, size, depth now, high-water mark."""
    lines = [f"  {'STACK':<24} {'ROLE':<26} {'GUARD':>18} {'TOP':>18} {'SIZE':>7} {'DEPTH':>7} {'HIGH':>7}"]
    for s in stacks:
        high = _size(s.high_water)
        if s.high_water is not None and s.size:
            high += f" ({100 * s.high_water // s.size}%)"
        lines.append(f"  {s.name:<24} {s.role:<26} {s.guard:>#18x} {s.top:>#18x} {s.size:>#7x} {_size(s.depth):>7} "
                     f"{high}")
    lines.append("  (DEPTH: in use now, top minus RSP, or a thread's saved RSP; HIGH: deepest use by a watermark "
                 "scan of the zeroed stack)")
    return "\n".join(lines)


def overflow_view(overflow: StackOverflow, now_icount: int | None = None) -> str:
    """``stack overflow: STACK exhausted`` and the folded frames."""
    s = overflow.stack
    ago = f", {now_icount - overflow.icount} instructions before this stop" if now_icount is not None else ""
    lines = [f"stack overflow: {s.name} exhausted ({s.role}, {s.size:#x} bytes): {overflow.function} ran into its "
             f"guard page at {overflow.address:#x} (vector {overflow.vector}, icount {overflow.icount}{ago})"]
    for name, count in overflow.frames[:MAX_FOLDED]:
        lines.append(f"  {name}" + (f" x {count}" if count > 1 else ""))
    if len(overflow.frames) > MAX_FOLDED:
        lines.append(f"  ... {len(overflow.frames) - MAX_FOLDED} more")
    return "\n".join(lines)
