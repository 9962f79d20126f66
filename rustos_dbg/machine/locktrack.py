"""IRQ-unsafe locks at first sight: lockdep's rule, applied from outside the kernel.

Contract: :class:`LockTracker` (``Machine.lock_tracker``) watches the lock words
it is given (``enable({address: name})``; the REPL finds them from DWARF, see
``rustos_dbg.inspect.kernel.locks``) with one ``UC_HOOK_MEM_WRITE`` hook per
word on its physical byte. A write of a nonzero value over a zero byte is an
*acquisition* (a failing ``cmpxchg`` writes the held value back: not one).
Each acquisition is classified by the kernel's context (``RUSTOS_TRAP``,
:mod:`.kcontext`): ``irq`` inside the handler of an external interrupt
(vector 32 or above), ``thread`` outside any handler with RFLAGS.IF set
(interrupts on), anything else not counted (a handler of an exception, or
interrupts off, as ``IrqMutex`` takes its locks). The first acquisition of
each lock in each class is kept (:class:`~.sites.Site`); the first time one
lock has both, an :class:`IrqUnsafeLock` verdict is recorded in
:attr:`LockTracker.unsafe`: the interrupt can arrive while the thread holds
the lock, and its handler then spins forever. With ``stop`` set, that run
stops (``StopKind.IRQ_UNSAFE_LOCK``) before the next translated block, long
before the deadlock itself. The hooks only read guest state: instruction
counts are those of a run without them, up to that stop.
"""

from __future__ import annotations

from dataclasses import dataclass

from unicorn import UC_HOOK_MEM_WRITE

from .engine import flush_tlb
from .kcontext import context_probe
from .sites import Site, site_here

_IF = 1 << 9
#: Vectors of external interrupts (the PIC's, remapped above the exceptions).
FIRST_IRQ_VECTOR = 32


@dataclass(frozen=True)
class Acquisition:
    """One lock taken: where, in which kernel context, with interrupts on or off."""

    site: Site
    context: str          #: ``task 2``, ``the IRQ0 handler (task 2 interrupted)``...
    interrupts: bool


@dataclass(frozen=True)
class IrqUnsafeLock:
    """A lock taken both with interrupts on outside handlers and inside an IRQ handler."""

    name: str
    word: int
    thread: Acquisition
    irq: Acquisition

    def describe(self) -> str:
        """One line."""
        return f"IRQ-unsafe lock {self.name}: taken with interrupts on and in an interrupt handler"


class LockTracker:
    """Lock acquisitions of one machine, tracked while enabled."""

    def __init__(self, machine) -> None:
        """Tracks ``machine``'s lock words once :meth:`enable` names them."""
        self._m = machine
        self.enabled = False
        #: Stop the run at the first IRQ-unsafe lock found.
        self.stop = True
        #: Every IRQ-unsafe lock found, in the order found.
        self.unsafe: list[IrqUnsafeLock] = []
        #: Per lock word, the first acquisition in each class ("thread", "irq").
        self.first: dict[int, dict[str, Acquisition]] = {}
        self._names: dict[int, str] = {}
        self._hooks: list[int] = []
        self._probe = None
        self._pending: IrqUnsafeLock | None = None

    def enable(self, words: dict[int, str], stop: bool = True) -> int:
        """Watches the lock words ``{virtual address: lock name}`` (those not mapped now
        are skipped); returns how many are watched."""
        m = self._m
        self.disable()
        self.stop, self._names = stop, dict(words)
        self._probe = context_probe(m)
        self._trap = self._physical("RUSTOS_TRAP")
        for address, name in sorted(words.items()):
            try:
                paddr = m.memory.translate(address)
            except Exception:
                continue
            self._hooks.append(m.uc.hook_add(UC_HOOK_MEM_WRITE, self._on_write, address, paddr, paddr))
        self.enabled = True
        flush_tlb(m.uc)
        m.uc.ctl_flush_tb()
        return len(self._hooks)

    def _physical(self, name: str) -> int | None:
        """The physical address of kernel static ``name`` (statics never move), or None."""
        address = self._m.symbols.address_of(name)
        try:
            return None if address is None else self._m.memory.translate(address)
        except Exception:
            return None

    def _in_irq(self) -> bool | None:
        """True inside an external interrupt's handler, False outside every handler,
        None inside another handler (one physical read: this runs at every acquisition)."""
        if self._trap is None:
            trap = self._probe().trap
        else:
            value = int.from_bytes(self._m.read_physical(self._trap, 8), "little")
            trap = value - 1 if value else None
        if trap is None:
            return False
        return True if trap >= FIRST_IRQ_VECTOR else None

    def disable(self) -> None:
        """Removes the hooks (what was found is kept)."""
        m = self._m
        for h in self._hooks:
            m.uc.hook_del(h)
        self._hooks, self.enabled, self._pending = [], False, None
        flush_tlb(m.uc)

    def reset(self) -> None:
        """Forgets every acquisition and verdict."""
        self.unsafe, self.first, self._pending = [], {}, None

    def _on_write(self, uc, access: int, paddr: int, size: int, value: int, word: int) -> None:
        if not value & 0xFF or self._m.read_physical(paddr, 1) != b"\0":
            return   # a release, or a write over a held lock
        m = self._m
        interrupts = bool(m.cpu.reg("rflags") & _IF)
        in_irq = self._in_irq()
        if in_irq:
            kind = "irq"
        elif in_irq is False and interrupts:
            kind = "thread"
        else:
            return
        seen = self.first.setdefault(word, {})
        if kind in seen:
            return
        seen[kind] = Acquisition(site_here(m, m.cpu.reg("rip")), self._probe().describe(), interrupts)
        if len(seen) == 2:
            verdict = IrqUnsafeLock(self._names.get(word, f"{word:#x}"), word, seen["thread"], seen["irq"])
            self.unsafe.append(verdict)
            if self.stop:
                self._pending = verdict
                m.control.watch_due = True
                counter = m.clock.counter or m.runner.stopper
                if counter is not None:
                    counter.limit = counter.count   # stop before the next block (never inside the access)

    def settle(self):
        """Between slices: the stop for a verdict found in this slice (None: none)."""
        verdict, self._pending = self._pending, None
        if verdict is None:
            return None
        from .stops import Stop, StopKind

        m = self._m
        return Stop(StopKind.IRQ_UNSAFE_LOCK, m.cpu.reg("rip"), m.icount, address=verdict.word, detail=verdict,
                    message=verdict.describe())
