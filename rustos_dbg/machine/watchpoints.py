"""Watchpoints: stop right after an instruction reads or writes a watched range.

Contract: a watchpoint is a set of Unicorn memory hooks (``UC_HOOK_MEM_WRITE``,
``UC_HOOK_MEM_READ`` or both) on the physical pages that its virtual range maps
to (memory hooks see physical addresses with paging on; the range is
translated page by page with the machine's page walk). The hook must not stop
the engine itself (Unicorn would replay the store), so it records the hit,
with the watched range's value before the access, and calls
``request_stop_after()``; the machine then stops before the next instruction
and calls :meth:`Watchpoints.settle`, which reads the value after the access,
evaluates the watchpoint's condition and returns the hit to report (or None:
the run goes on). The stop therefore reports the accessing instruction as
completed, as x86 data breakpoints (traps) do. Kinds are numbered as GDB's
Z2/Z3/Z4.

A watchpoint on a range that is not mapped yet is *pending*: instead of the
range, the page-table entry that stopped its walk is hooked for writes; after
an instruction writes that entry the walk is tried again (a deeper entry may
be hooked next), and the watchpoint is armed once the whole range is mapped,
before any later instruction can touch it. A change of CR3 is not seen by a
hook: the machine calls :meth:`Watchpoints.refresh` at each slice boundary
while a watchpoint is pending (nothing is done, or paid, when none is).
A non-canonical address can never be mapped and raises ``GuestMemoryError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import IntEnum

from unicorn import UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE

from .breakpoints import condition_holds
from .engine import flush_tlb
from .errors import GuestMemoryError

PAGE = 4096


class WatchKind(IntEnum):
    """What access triggers a watchpoint (GDB's Z2, Z3, Z4)."""

    WRITE = 2
    READ = 3
    ACCESS = 4


#: Names as ``Stop.access`` gives them.
WATCH_NAMES = {WatchKind.WRITE: "write", WatchKind.READ: "read", WatchKind.ACCESS: "access"}


@dataclass(frozen=True)
class WatchHit:
    """A triggered watchpoint: its start address and kind, the accessed address,
    the access ("read"/"write"), the value written (as Unicorn reports it), the
    instruction's RIP, and the watched range's value (little-endian) before
    (``old``) and after (``new``) the instruction; None where unreadable. For a
    read, ``old`` is the value read (and ``new`` equals it unless the same
    instruction also wrote the range)."""

    address: int
    kind: WatchKind
    accessed: int
    access: str
    value: int | None
    rip: int
    old: int | None = None
    new: int | None = None


@dataclass(frozen=True)
class Watch:
    """One watchpoint as listed: range, kind, condition (a callable or None) and
    whether it is still pending (its range not mapped yet)."""

    address: int
    length: int
    kind: WatchKind
    condition: object = field(default=None, compare=False)
    pending: bool = False


@dataclass
class _Entry:
    condition: object = None
    handles: list = field(default_factory=list)   # the range's hooks, once armed
    traps: list = field(default_factory=list)     # page-table entry hooks, while pending
    cr3: int | None = None                        # CR3 of the pending walk

    @property
    def pending(self) -> bool:
        return not self.handles


class Watchpoints:
    """The watchpoints of one engine."""

    def __init__(self, uc, read_rip, request_stop_after, walk, read_cr3=None) -> None:
        """``read_rip()`` gives the current RIP; ``request_stop_after()`` stops after this
        instruction; ``walk(vaddr)`` gives the page walk of a virtual address (an object
        with ``ok``, ``paddr``, ``stop_reason`` and ``steps[-1].entry_addr``);
        ``read_cr3()`` gives CR3 (for pending watchpoints)."""
        self._uc = uc
        self._walk = walk
        self._cr3 = read_cr3 or (lambda: 0)
        self._rip = read_rip
        self._stop_after = request_stop_after
        self._entries: dict[tuple[int, int, WatchKind], _Entry] = {}
        self._hits: list[tuple[tuple[int, int, WatchKind], WatchHit]] = []
        self._recheck = False

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def pending(self) -> bool:
        """True while a watchpoint waits for its range to be mapped."""
        return any(e.pending for e in self._entries.values())

    def list(self) -> list[tuple[int, int, WatchKind]]:
        """(address, length, kind) of each watchpoint."""
        return sorted(self._entries)

    def watches(self) -> list[Watch]:
        """Every watchpoint, with its condition and pending state, by address."""
        return [Watch(a, n, k, e.condition, e.pending) for (a, n, k), e in sorted(self._entries.items())]

    def add(self, address: int, length: int, kind: WatchKind, condition=None) -> bool:
        """Watches ``length`` bytes at virtual ``address``; ``condition()`` (if given)
        decides at each hit whether to stop (an exception in it counts as true).
        Adding an existing watchpoint replaces its condition. Returns True when the
        watchpoint is armed, False when it is pending (its range not mapped yet)."""
        key = (address, length, WatchKind(kind))
        entry = self._entries.get(key)
        if entry is not None:
            entry.condition = condition
            return not entry.pending
        if (address & 0xFFFF_FFFF_FFFF_FFFF) >> 47 not in (0, 0x1FFFF):
            raise GuestMemoryError(f"address {address:#x} is not canonical", address)
        entry = self._entries[key] = _Entry(condition)
        return self._try_arm(key, entry)

    def remove(self, address: int, length: int, kind: WatchKind) -> bool:
        """Removes a watchpoint; False if there was none."""
        entry = self._entries.pop((address, length, WatchKind(kind)), None)
        if entry is None:
            return False
        for h in entry.handles + entry.traps:
            self._uc.hook_del(h)
        return True

    # --- arming -----------------------------------------------------------------------------

    def _chunks(self, key):
        address, length, _ = key
        vaddr, left = address, max(length, 1)
        while left > 0:
            size = min(left, PAGE - (vaddr & (PAGE - 1)))
            yield vaddr, size
            vaddr, left = vaddr + size, left - size

    def _try_arm(self, key, entry: _Entry) -> bool:
        """Arms the watchpoint if its whole range is mapped, else (re)sets its traps."""
        for h in entry.traps:
            self._uc.hook_del(h)
        entry.traps = []
        chunks, missing, wanted = [], [], list(self._chunks(key))
        for vaddr, size in wanted:
            walk = self._walk(vaddr)
            if walk.ok:
                chunks.append((vaddr, walk.paddr, size))
            elif walk.steps:
                missing.append(walk.steps[-1].entry_addr)
        if len(chunks) < len(wanted):
            entry.cr3 = self._cr3()
            for slot in sorted(set(missing)):
                entry.traps.append(self._uc.hook_add(UC_HOOK_MEM_WRITE, self._trap, None, slot, slot + 7))
            self._flush()
            return False
        kind = key[2]
        for vstart, pstart, size in chunks:
            data = (key, vstart, pstart)
            if kind in (WatchKind.WRITE, WatchKind.ACCESS):
                entry.handles.append(self._uc.hook_add(UC_HOOK_MEM_WRITE, self._hit, data, pstart, pstart + size - 1))
            if kind in (WatchKind.READ, WatchKind.ACCESS):
                entry.handles.append(self._uc.hook_add(UC_HOOK_MEM_READ, self._hit, data, pstart, pstart + size - 1))
        self._flush()
        return True

    def _flush(self) -> None:
        # Accesses through TLB entries filled before the hook existed skip it.
        flush_tlb(self._uc)
        self._uc.ctl_flush_tb()

    def rearm(self) -> None:
        """Arms every watchpoint again from the page tables now (after a restore of
        the machine's memory), pending where its range is not mapped."""
        self._hits, self._recheck = [], False
        for key, entry in self._entries.items():
            for h in entry.handles:
                self._uc.hook_del(h)
            entry.handles = []
            self._try_arm(key, entry)

    def refresh(self) -> None:
        """Tries again to arm the pending watchpoints whose walk was made under
        another CR3 (called at slice boundaries while :attr:`pending`)."""
        cr3 = self._cr3()
        for key, entry in list(self._entries.items()):
            if entry.pending and entry.cr3 != cr3:
                self._try_arm(key, entry)

    # --- hits ----------------------------------------------------------------------------------

    def _value(self, key) -> int | None:
        address, length, _ = key
        try:
            data = b"".join(bytes(self._uc.mem_read(w.paddr, size))
                            for w, size in ((self._walk(v), s) for v, s in self._chunks(key)))
        except Exception:
            return None
        return int.from_bytes(data, "little")

    def _trap(self, uc, access: int, paddr: int, size: int, value: int, data) -> None:
        self._recheck = True
        self._stop_after()

    def _hit(self, uc, access: int, paddr: int, size: int, value: int, data) -> None:
        key, vstart, pstart = data
        start, length, kind = key
        accessed = vstart + (paddr - pstart)
        if accessed + size <= start or accessed >= start + max(length, 1):
            return
        if any(k == key for k, _ in self._hits):
            return  # the same watchpoint again within one instruction
        name = "write" if access == 17 else "read"  # UC_MEM_WRITE = 17, UC_MEM_READ = 16
        self._hits.append((key, WatchHit(start, kind, accessed, name, value if name == "write" else None,
                                         self._rip(), old=self._value(key))))
        self._stop_after()

    def settle(self) -> WatchHit | None:
        """After the instruction that hit (or wrote a trapped page-table entry):
        arms pending watchpoints that are mapped now, and returns the first hit
        whose condition holds, with its ``new`` value (None: nothing to report)."""
        hits, self._hits = self._hits, []
        if self._recheck:
            self._recheck = False
            for key, entry in list(self._entries.items()):
                if entry.pending:
                    self._try_arm(key, entry)
        for key, hit in hits:
            entry = self._entries.get(key)
            if entry is None:
                continue  # removed meanwhile
            if entry.condition is not None and not condition_holds(entry.condition):
                continue
            return replace(hit, new=self._value(key))
        return None

