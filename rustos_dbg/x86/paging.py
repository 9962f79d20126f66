"""The one x86-64 page-table walker: translation and access checks.

Contract: no emulator here.  Physical memory is read only through a
``read_phys(addr, n) -> bytes`` callable (its exceptions propagate); results
are frozen dataclasses.  Rules: Intel SDM Vol. 3A §4.5 (4- and 5-level
paging), §4.6 (access rights), §4.7 (#PF error code), IA-32e mode only:

* ``walk`` records every entry visited and either the translation (physical
  address, page size, effective permissions) or the level and reason that
  stopped the walk (entry not present, reserved bit set, or a non-canonical
  address - which raises #GP, not #PF);
* ``Walk.fault_for(access, user=...)`` gives the exception an access would
  raise (``None`` if allowed): P/W/R/U/S/RSVD/I-D are set per §4.7;
  protection keys, shadow stacks and SGX are not modelled;
* ``translate`` is the short form (:mod:`.mappings` enumerates every leaf
  mapping reachable from CR3).

The guest-memory translation of the machine, its CPU accesses during
exception delivery, watchpoints, the ``walk`` and ``maps`` inspectors and
the gdb target all use this walker; it is lean enough for the CPU path
(entry flags are decoded only when asked for).

Accessed/dirty bits are never written; bit positions come from
:mod:`rustos_dbg.structs`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Optional

from .access import Access
from ..structs.bitfields import bit_fields, field_mask, field_value
from ..structs.control import CR0, CR3, CR4, EFER
from ..structs.frames import PAGE_FAULT_VECTOR, PageFaultErrorCode
from ..structs.paging import (ENTRIES_PER_TABLE, LEVEL_ENTRY_NAMES, PDE2M, PDPTE1G, PTE, PageLevel,
                              TableEntry, entry_layout, level_shift)

__all__ = ["ReadPhys", "Access", "StopReason", "PagingMode", "EntryFlags", "WalkStep",
           "Permissions", "Fault", "Walk", "walk", "mapped_address", "translate", "is_canonical", "reserved_bits",
           "GP_VECTOR", "FAULT_MNEMONICS", "FLAG_LABELS", "STOP_REASON_NAMES"]

#: Reads ``n`` bytes of guest-physical memory at ``addr``.
ReadPhys = Callable[[int, int], bytes]

#: Vector of the general-protection exception (#GP), raised for non-canonical addresses.
GP_VECTOR = 13
#: Mnemonics of the exceptions a walk can predict.
FAULT_MNEMONICS = {PAGE_FAULT_VECTOR: "#PF", GP_VECTOR: "#GP"}
#: Display labels of the ``EntryFlags`` boolean fields, in display order.
FLAG_LABELS = {"p": "P", "rw": "RW", "us": "US", "pwt": "PWT", "pcd": "PCD", "a": "A",
               "d": "D", "ps": "PS", "g": "G", "pat": "PAT", "xd": "XD"}

_MASK64 = (1 << 64) - 1
_P, _RW, _US, _XD, _PS = (field_mask(TableEntry, n) for n in ("p", "rw", "us", "xd", "ps"))
_PF = {n: field_mask(PageFaultErrorCode, n) for n in ("p", "wr", "us", "rsvd", "id")}
_CR3_ADDRESS = field_mask(CR3, "address")
_ADDR_51_0 = (1 << 52) - 1
_LEAF_RESERVED = {PDPTE1G: field_mask(PDPTE1G, "reserved"), PDE2M: field_mask(PDE2M, "reserved"),
                  PTE: 0, TableEntry: 0}



class StopReason(enum.IntEnum):
    """Why a walk did not produce a translation (display text: ``STOP_REASON_NAMES``)."""

    NOT_PRESENT = 1
    RESERVED_BIT = 2
    NON_CANONICAL = 3


#: Human-readable text for each :class:`StopReason`.
STOP_REASON_NAMES = {StopReason.NOT_PRESENT: "entry not present",
                     StopReason.RESERVED_BIT: "reserved bit set in entry",
                     StopReason.NON_CANONICAL: "non-canonical address (#GP)"}


def _bit(register, name: str, value: int) -> bool:
    """True if flag ``name`` of ``register`` (a structs layout) is set in ``value``."""
    return bool(value & field_mask(register, name))


@dataclass(frozen=True)
class PagingMode:
    """Control bits that change translation or access rights (defaults: WP=1, NXE=1)."""

    wp: bool = True          #: CR0.WP - supervisor writes honour R/W
    nxe: bool = True         #: IA32_EFER.NXE - XD bit enabled (else reserved)
    smep: bool = False       #: CR4.SMEP - no supervisor fetch from user pages
    smap: bool = False       #: CR4.SMAP - no supervisor data access to user pages unless AC
    la57: bool = False       #: CR4.LA57 - 5-level paging
    maxphyaddr: int = 52     #: physical-address width; bits 51:maxphyaddr are reserved

    @classmethod
    def from_registers(cls, cr0: int, cr4: int, efer: int, maxphyaddr: int = 52) -> "PagingMode":
        """Mode from raw CR0, CR4 and IA32_EFER values (cached: the CPU path asks often)."""
        return _mode_from_registers(cls, cr0, cr4, efer, maxphyaddr)

    @classmethod
    def _decode(cls, cr0: int, cr4: int, efer: int, maxphyaddr: int) -> "PagingMode":
        return cls(wp=_bit(CR0, "wp", cr0), nxe=_bit(EFER, "nxe", efer),
                   smep=_bit(CR4, "smep", cr4), smap=_bit(CR4, "smap", cr4),
                   la57=_bit(CR4, "la57", cr4), maxphyaddr=maxphyaddr)

    @property
    def top_level(self) -> PageLevel:
        """Level of the table CR3 points to."""
        return PageLevel.PML5 if self.la57 else PageLevel.PML4

    @property
    def va_bits(self) -> int:
        """Width of a canonical linear address (48 or 57)."""
        return 57 if self.la57 else 48


@lru_cache(maxsize=64)
def _mode_from_registers(cls, cr0: int, cr4: int, efer: int, maxphyaddr: int) -> PagingMode:
    return cls._decode(cr0, cr4, efer, maxphyaddr)


@dataclass(frozen=True)
class EntryFlags:
    """Decoded attribute bits of one entry; fields a format lacks read as False/0."""

    p: bool
    rw: bool
    us: bool
    pwt: bool
    pcd: bool
    a: bool
    d: bool
    ps: bool
    g: bool
    pat: bool
    xd: bool
    pk: int

    @classmethod
    def decode(cls, layout, raw: int) -> "EntryFlags":
        """Flags of entry ``raw`` read with ``layout`` (a :mod:`structs.paging` layout)."""
        fields = bit_fields(layout)

        def get(name: str) -> int:
            return field_value(layout, name, raw) if name in fields else 0

        return cls(**{name: bool(get(name)) for name in FLAG_LABELS}, pk=get("pk"))

    def labels(self) -> tuple[str, ...]:
        """Display labels of the flags that are set, e.g. ``("P", "RW", "A")``."""
        return tuple(label for n, label in FLAG_LABELS.items() if getattr(self, n))


@dataclass(frozen=True, slots=True)
class WalkStep:
    """One paging-structure entry read during a walk."""

    level: PageLevel
    index: int          #: index of the entry in its table (0..511)
    entry_addr: int     #: physical address of the entry
    raw: int            #: the entry's 64-bit value
    address: int        #: physical address in the entry (next table or page frame)
    leaf: bool          #: True if the entry maps a page
    reserved: int       #: mask of reserved bits found set (0 = none)

    @property
    def flags(self) -> EntryFlags:
        """The entry's decoded attribute bits."""
        return EntryFlags.decode(entry_layout(self.level, self.raw), self.raw)

    @property
    def name(self) -> str:
        """SDM name of the entry kind: PML4E, PDPTE, PDE, PTE..."""
        return LEVEL_ENTRY_NAMES[self.level]


@dataclass(frozen=True, slots=True)
class Permissions:
    """Effective access rights of a translation, combined over all levels (§4.6)."""

    present: bool
    writable: bool      #: R/W = 1 at every level
    user: bool          #: U/S = 1 at every level (a user-mode address)
    executable: bool    #: not (NXE and XD = 1 at some level)


@dataclass(frozen=True, slots=True)
class Fault:
    """An exception an access would raise: vector and error code."""

    vector: int
    error_code: int

    @property
    def mnemonic(self) -> str:
        """``"#PF"`` or ``"#GP"``."""
        return FAULT_MNEMONICS[self.vector]


@dataclass(frozen=True, slots=True)
class Walk:
    """Outcome of walking the paging structures for one linear address."""

    vaddr: int
    cr3: int
    mode: PagingMode
    steps: tuple[WalkStep, ...]
    paddr: Optional[int] = None                 #: translation, if the walk succeeded
    page_size: Optional[int] = None
    permissions: Optional[Permissions] = None
    stop_level: Optional[PageLevel] = None      #: level whose entry stopped the walk
    stop_reason: Optional[StopReason] = None

    @property
    def ok(self) -> bool:
        """True when the address has a translation."""
        return self.paddr is not None

    def fault_for(self, access: Access = Access.READ, *, user: bool = False,
                  ac: bool = False) -> Optional[Fault]:
        """Exception raised by ``access`` at this address, or ``None`` if it is allowed.

        ``user`` selects a user-mode (CPL 3) access; ``ac`` is RFLAGS.AC, which
        lifts SMAP for explicit supervisor data accesses.  A non-canonical
        address gives #GP(0) (#SS(0) for stack references, not modelled).
        """
        if self.stop_reason is StopReason.NON_CANONICAL:
            return Fault(GP_VECTOR, 0)
        m = self.mode
        code = ((_PF["wr"] if access is Access.WRITE else 0) | (_PF["us"] if user else 0)
                | (_PF["id"] if access is Access.EXECUTE and (m.nxe or m.smep) else 0))
        if self.stop_reason is StopReason.NOT_PRESENT:
            return Fault(PAGE_FAULT_VECTOR, code)
        if self.stop_reason is StopReason.RESERVED_BIT:
            return Fault(PAGE_FAULT_VECTOR, code | _PF["p"] | _PF["rsvd"])
        perms = self.permissions
        if user:
            allowed = perms.user and (access is Access.READ
                                      or (access is Access.WRITE and perms.writable)
                                      or (access is Access.EXECUTE and perms.executable))
        elif access is Access.EXECUTE:
            allowed = perms.executable and not (m.smep and perms.user)
        else:
            allowed = not (m.smap and perms.user and not ac) and (
                access is Access.READ or perms.writable or not m.wp)
        return None if allowed else Fault(PAGE_FAULT_VECTOR, code | _PF["p"])


def is_canonical(vaddr: int, va_bits: int = 48) -> bool:
    """True if bits 63:va_bits-1 of ``vaddr`` are all equal (Intel SDM Vol. 1 §3.3.7.1)."""
    top = vaddr >> (va_bits - 1)
    return top == 0 or top == (1 << (65 - va_bits)) - 1


def reserved_bits(level: PageLevel, layout, raw: int, mode: PagingMode) -> int:
    """Reserved bits set in a present entry (§4.5 tables; XD reserved when NXE=0)."""
    bad = raw & _ADDR_51_0 & ~((1 << mode.maxphyaddr) - 1) | raw & _LEAF_RESERVED[layout]
    if not mode.nxe:
        bad |= raw & _XD
    if level >= PageLevel.PML4:
        bad |= raw & _PS
    return bad


#: The levels a walk visits from each top level, the shift of each, the layouts of
#: large pages (PS=1), and the address mask of each layout: precomputed for the CPU path.
_LEVELS = {top: tuple(map(PageLevel, range(top, 0, -1))) for top in (PageLevel.PML4, PageLevel.PML5)}
_SHIFTS = {level: level_shift(level) for level in PageLevel}
_BIG_PAGES = {PageLevel.PDPT: PDPTE1G, PageLevel.PD: PDE2M}
_ADDRESS_MASKS = {layout: field_mask(layout, "address") for layout in (TableEntry, PTE, PDPTE1G, PDE2M)}


def walk(read_phys: ReadPhys, cr3: int, vaddr: int, mode: Optional[PagingMode] = None) -> Walk:
    """Walk the paging structures rooted at ``cr3`` for linear address ``vaddr``."""
    mode = mode or PagingMode()
    if not 0 <= vaddr <= _MASK64:
        raise ValueError(f"linear address {vaddr:#x} is not a 64-bit value")
    if not is_canonical(vaddr, mode.va_bits):
        return Walk(vaddr, cr3, mode, (), stop_reason=StopReason.NON_CANONICAL)
    table = cr3 & _CR3_ADDRESS
    steps: list[WalkStep] = []
    writable = user = True
    xd = False
    for level in _LEVELS[mode.top_level]:
        shift = _SHIFTS[level]
        index = (vaddr >> shift) & (ENTRIES_PER_TABLE - 1)
        entry_addr = table + 8 * index
        raw = int.from_bytes(read_phys(entry_addr, 8), "little")
        layout = PTE if level is PageLevel.PT else (_BIG_PAGES.get(level, TableEntry) if raw & _PS else TableEntry)
        leaf = layout is not TableEntry
        present = bool(raw & _P)
        bad = reserved_bits(level, layout, raw, mode) if present else 0
        address = raw & _ADDRESS_MASKS[layout]
        steps.append(WalkStep(level, index, entry_addr, raw, address, leaf and present, bad))
        if not present or bad:
            reason = StopReason.RESERVED_BIT if present else StopReason.NOT_PRESENT
            return Walk(vaddr, cr3, mode, tuple(steps), stop_level=level, stop_reason=reason)
        writable &= bool(raw & _RW)
        user &= bool(raw & _US)
        xd |= bool(raw & _XD)
        if leaf:
            size = 1 << shift
            perms = Permissions(True, writable, user, not (mode.nxe and xd))
            return Walk(vaddr, cr3, mode, tuple(steps), paddr=address | (vaddr & (size - 1)),
                        page_size=size, permissions=perms)
        table = address
    raise AssertionError("a PTE always ends the walk")


def mapped_address(read_phys: ReadPhys, cr3: int, vaddr: int, mode: PagingMode) -> Optional[int]:
    """:func:`walk`'s physical address for ``vaddr`` without its record: None
    where the walk stops (not canonical, not present, a reserved bit), whose
    reason :func:`walk` then gives. For the hot paths (a debugger's reads)."""
    if not is_canonical(vaddr, mode.va_bits):
        return None
    table = cr3 & _CR3_ADDRESS
    for level in _LEVELS[mode.top_level]:
        shift = _SHIFTS[level]
        raw = int.from_bytes(read_phys(table + 8 * ((vaddr >> shift) & (ENTRIES_PER_TABLE - 1)), 8), "little")
        if not raw & _P:
            return None
        layout = PTE if level is PageLevel.PT else (_BIG_PAGES.get(level, TableEntry) if raw & _PS else TableEntry)
        if reserved_bits(level, layout, raw, mode):
            return None
        address = raw & _ADDRESS_MASKS[layout]
        if layout is not TableEntry:
            return address | (vaddr & ((1 << shift) - 1))
        table = address
    raise AssertionError("a PTE always ends the walk")


def translate(read_phys: ReadPhys, cr3: int, vaddr: int, mode: Optional[PagingMode] = None,
              access: Optional[Access] = None, *, user: bool = False) -> Optional[int]:
    """Physical address for ``vaddr``, or ``None`` if unmapped (or if ``access`` would fault)."""
    result = walk(read_phys, cr3, vaddr, mode)
    if not result.ok or (access is not None and result.fault_for(access, user=user)):
        return None
    return result.paddr
