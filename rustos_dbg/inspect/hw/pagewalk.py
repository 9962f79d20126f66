"""Page-walk inspector (``walk VADDR``): every paging-structure entry for one address.

Contract: ``walk_address(reader, vaddr)`` runs ``rustos_dbg.x86.paging.walk``
on the reader's CR3 (page tables read physically, CR0/CR4/EFER give the
mode) and returns a :class:`WalkReport`: per level the entry's physical
address, raw value and flags; then either the physical address, page size
and effective permissions, or the level and reason that stopped the walk;
and for a read, a write and an instruction fetch, the exception each would
raise (``#PF`` with its error code decoded per Intel SDM Vol. 3A §4.7, or
``#GP`` for a non-canonical address) - supervisor mode unless ``user``.
Unreadable tables read as zeros (not present).  Views: ``format_walk``,
``to_json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ...x86.paging import FAULT_MNEMONICS, STOP_REASON_NAMES, Access, PagingMode, walk
from .common import PhysCache, Symbolize, describe_pf_error, paging_mode, symbol_name, to_json

__all__ = ["WalkLevel", "AccessCheck", "WalkReport", "walk_address", "format_walk",
           "permission_string", "to_json"]


@dataclass(frozen=True)
class WalkLevel:
    """One entry read during the walk."""

    name: str                   #: PML4E, PDPTE, PDE, PTE
    index: int
    entry_addr: int             #: physical address of the entry
    raw: int
    flags: tuple[str, ...]      #: set flags: P, RW, US, PWT, PCD, A, D, PS, G, PAT, XD
    address: int                #: next table or page frame
    leaf: bool
    reserved: int               #: reserved bits found set


@dataclass(frozen=True)
class AccessCheck:
    """What one kind of access at the address would do."""

    access: str                 #: read, write, execute
    allowed: bool
    vector: Optional[int] = None
    mnemonic: Optional[str] = None
    error_code: Optional[int] = None
    error_text: Optional[str] = None


@dataclass(frozen=True)
class WalkReport:
    """Translation of one linear address."""

    vaddr: int
    cr3: int
    levels: tuple[WalkLevel, ...]
    ok: bool
    paddr: Optional[int]
    page_size: Optional[int]
    permissions: Optional[str]   #: ``RWX`` style, ``-`` for a missing right
    user_page: Optional[bool]    #: U/S=1 at every level
    stop_level: Optional[str]    #: entry name that stopped the walk
    stop_reason: Optional[str]
    accesses: tuple[AccessCheck, ...]
    user_mode: bool              #: the accesses were checked as CPL 3
    symbol: Optional[str] = None


def permission_string(writable: bool, executable: bool, readable: bool = True) -> str:
    """``R-X``-style string."""
    return ("R" if readable else "-") + ("W" if writable else "-") + ("X" if executable else "-")


def walk_address(reader, vaddr: int, user: bool = False, cr3: Optional[int] = None,
                 mode: Optional[PagingMode] = None,
                 symbolize: Optional[Symbolize] = None) -> WalkReport:
    """Walk ``vaddr`` under ``cr3`` (default: the reader's CR3)."""
    vaddr &= (1 << 64) - 1
    cr3 = reader.reg("cr3") if cr3 is None else cr3
    mode = mode or paging_mode(reader)
    result = walk(PhysCache(reader.read_physical), cr3, vaddr, mode)
    levels = tuple(WalkLevel(s.name, s.index, s.entry_addr, s.raw, s.flags.labels(), s.address,
                             s.leaf, s.reserved) for s in result.steps)
    checks = []
    for access in (Access.READ, Access.WRITE, Access.EXECUTE):
        fault = result.fault_for(access, user=user)
        name = access.name.lower()
        if fault is None:
            checks.append(AccessCheck(name, True))
            continue
        text = describe_pf_error(fault.error_code) if fault.vector == 14 else "non-canonical address"
        checks.append(AccessCheck(name, False, fault.vector, FAULT_MNEMONICS[fault.vector],
                                  fault.error_code, text))
    perms = result.permissions
    stop_level = None
    if result.stop_reason is not None and result.steps:
        stop_level = result.steps[-1].name
    return WalkReport(
        vaddr=vaddr, cr3=cr3, levels=levels, ok=result.ok, paddr=result.paddr,
        page_size=result.page_size,
        permissions=permission_string(perms.writable, perms.executable) if perms else None,
        user_page=perms.user if perms else None, stop_level=stop_level,
        stop_reason=STOP_REASON_NAMES[result.stop_reason] if result.stop_reason else None,
        accesses=tuple(checks), user_mode=user, symbol=symbol_name(symbolize, vaddr))


_SIZES = {4096: "4 KiB", 2 << 20: "2 MiB", 1 << 30: "1 GiB"}


def format_walk(report: WalkReport) -> str:
    """The walk, one line per entry, the result, then read/write/fetch outcomes."""
    sym = f" <{report.symbol}>" if report.symbol else ""
    lines = [f"walk {report.vaddr:#x}{sym} (CR3 {report.cr3:#x})"]
    for lv in report.levels:
        if "P" in lv.flags:
            what = f"{' '.join(lv.flags)}  -> {'page' if lv.leaf else 'table'} {lv.address:#x}"
        else:
            what = "not present"
        lines.append(f"  {lv.name:<5} [{lv.index:3d}] at {lv.entry_addr:#x} = {lv.raw:#018x}  {what}")
        if lv.reserved:
            lines.append(f"        reserved bits set: {lv.reserved:#x}")
    if report.ok:
        size = _SIZES.get(report.page_size, f"{report.page_size:#x}")
        owner = "user" if report.user_page else "supervisor"
        lines.append(f"  -> phys {report.paddr:#x} ({size} page, {report.permissions}, {owner})")
    else:
        where = f" at {report.stop_level}" if report.stop_level else ""
        lines.append(f"  -> not mapped: {report.stop_reason}{where}")
    mode = "user" if report.user_mode else "supervisor"
    for c in report.accesses:
        if c.allowed:
            lines.append(f"  {mode} {c.access}: ok")
        else:
            lines.append(f"  {mode} {c.access}: {c.mnemonic} error {c.error_code:#x} {c.error_text}")
    return "\n".join(lines)
