"""TSS inspector: the 64-bit task-state segment TR points at, and its stacks.

Contract: ``read_tss(reader, symbols=...)`` reads TR ``(selector, base,
limit, flags)``, decodes the TSS (``rustos_dbg.structs.tss.Tss64``, Intel
SDM Vol. 3A §7.7) and, for each of RSP0-2 and IST1-7, a :class:`StackSlot`:
the ``RUSTOS_*_STACK`` static whose range [symbol, symbol+size] holds the
pointer, its usable size (size minus the 4 KiB guard page), the depth ever
used (stacks are zeroed ``.bss``: top minus the lowest non-zero qword of the
usable part), the live depth when the current RSP is inside it, and whether
the guard page (the symbol's first page) is unmapped in the current page
tables (``paging.walk`` on CR3).  Zero pointers give empty slots.  An
unreadable TSS raises ``GuestMemoryError``; an unreadable stack gives
``used_bytes = None``.  Views: ``format_tss``, ``to_json``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterable, Optional

from ...structs.tss import TSS64_SIZE, Tss64
from ...x86.paging import walk
from .common import (StackRange, PhysCache, find_stacks, paging_mode, stack_containing,
                     to_json)

__all__ = ["StackSlot", "TssInfo", "read_tss", "decode_stack_slot", "stack_usage",
           "guard_unmapped", "format_tss", "to_json"]


@dataclass(frozen=True)
class StackSlot:
    """One stack pointer of the TSS and the stack it points into."""

    slot: str                        #: ``RSP0`` ... ``IST7``
    pointer: int
    stack: Optional[str] = None      #: ``RUSTOS_DF_STACK``...
    stack_base: Optional[int] = None  #: symbol address (guard page start)
    usable_bottom: Optional[int] = None
    top: Optional[int] = None        #: symbol address + size
    usable_size: Optional[int] = None
    at_top: Optional[bool] = None    #: pointer == top (the expected value)
    used_bytes: Optional[int] = None  #: depth ever used (non-zero bytes below the top)
    live_depth: Optional[int] = None  #: top - RSP when RSP is inside this stack
    guard_unmapped: Optional[bool] = None

    @property
    def empty(self) -> bool:
        """True when the slot holds 0 (unused)."""
        return self.pointer == 0


@dataclass(frozen=True)
class TssInfo:
    """The TSS TR points at."""

    selector: int
    base: int
    limit: int
    rsp: tuple[StackSlot, ...]       #: RSP0..RSP2
    ist: tuple[StackSlot, ...]       #: IST1..IST7
    iomap_base: int
    io_bitmap: bool                  #: True when iomap_base lies inside the limit
    current_rsp: Optional[int] = None


def stack_usage(reader, stack: StackRange) -> Optional[int]:
    """Bytes below ``stack.top`` down to the lowest non-zero qword (None if unreadable)."""
    try:
        data = reader.read_virtual(stack.guard_end, stack.usable_size)
    except Exception:
        return None
    qwords = struct.unpack(f"<{len(data) // 8}Q", data)
    for i, q in enumerate(qwords):
        if q:
            return stack.top - (stack.guard_end + 8 * i)
    return 0


def guard_unmapped(reader, stack: StackRange, cr3: Optional[int] = None,
                   read_phys=None) -> Optional[bool]:
    """True when the guard page of ``stack`` has no translation under ``cr3``."""
    try:
        cr3 = reader.reg("cr3") if cr3 is None else cr3
        result = walk(read_phys or PhysCache(reader.read_physical), cr3, stack.base,
                      paging_mode(reader))
    except Exception:
        return None
    return not result.ok


def decode_stack_slot(reader, slot: str, pointer: int, stacks: Iterable[StackRange],
                      rsp: Optional[int] = None, cr3: Optional[int] = None,
                      read_phys=None) -> StackSlot:
    """A :class:`StackSlot` for ``pointer`` (memory is read for usage and guard)."""
    stack = stack_containing(stacks, pointer) if pointer else None
    if stack is None:
        return StackSlot(slot, pointer)
    live = stack.top - rsp if rsp is not None and stack.guard_end <= rsp <= stack.top else None
    return StackSlot(slot, pointer, stack.name, stack.base, stack.guard_end, stack.top,
                     stack.usable_size, pointer == stack.top, stack_usage(reader, stack), live,
                     guard_unmapped(reader, stack, cr3, read_phys))


def read_tss(reader, symbols=None, stacks: Optional[Iterable[StackRange]] = None,
             base: Optional[int] = None, limit: Optional[int] = None) -> TssInfo:
    """Decode the TSS of TR (``base``/``limit`` override) with its stacks.

    ``symbols`` (an iterable of symbols with name/address/size) provides the
    ``RUSTOS_*_STACK`` ranges, or pass ``stacks`` directly.
    """
    selector = 0
    if base is None or limit is None:
        selector, reg_base, reg_limit, _ = reader.reg("tr")
        base = reg_base if base is None else base
        limit = reg_limit if limit is None else limit
    stacks = tuple(stacks) if stacks is not None else find_stacks(symbols)
    tss = Tss64.parse(reader.read_virtual(base, TSS64_SIZE))
    try:
        rsp = reader.reg("rsp")
    except KeyError:
        rsp = None
    try:
        cr3 = reader.reg("cr3")
    except KeyError:
        cr3 = None
    read_phys = PhysCache(reader.read_physical)

    def slot(name: str, pointer: int) -> StackSlot:
        return decode_stack_slot(reader, name, pointer, stacks, rsp, cr3, read_phys)

    return TssInfo(selector=selector, base=base, limit=limit,
                   rsp=tuple(slot(f"RSP{i}", tss[f"rsp{i}"]) for i in range(3)),
                   ist=tuple(slot(f"IST{i}", tss[f"ist{i}"]) for i in range(1, 8)),
                   iomap_base=tss.iomap_base, io_bitmap=tss.iomap_base <= limit,
                   current_rsp=rsp)


def _slot_line(s: StackSlot) -> str:
    if s.empty:
        return f"  {s.slot:<5} 0"
    if s.stack is None:
        return f"  {s.slot:<5} {s.pointer:#018x}  (not in a known stack)"
    where = "top" if s.at_top else f"top{s.pointer - s.top:+#x}"
    used = "unreadable" if s.used_bytes is None else f"{s.used_bytes:#x}"
    live = f", live depth {s.live_depth:#x}" if s.live_depth is not None else ""
    guard = {True: "unmapped", False: "MAPPED", None: "unknown"}[s.guard_unmapped]
    return (f"  {s.slot:<5} {s.pointer:#018x}  {s.stack} {where}: usable {s.usable_size:#x}, "
            f"used {used}{live}, guard {s.stack_base:#x} {guard}")


def format_tss(info: TssInfo) -> str:
    """Header (TR), RSP0-2, IST1-7 with their stacks, and the I/O map base."""
    lines = [f"TSS selector {info.selector:#06x} at {info.base:#x} limit {info.limit:#x}"]
    lines += [_slot_line(s) for s in info.rsp + info.ist]
    bitmap = "I/O bitmap present" if info.io_bitmap else "beyond the limit: no I/O bitmap"
    lines.append(f"  I/O map base {info.iomap_base:#x} ({bitmap})")
    return "\n".join(lines)
