"""The kernel's locks: every spin lock among its statics, found from DWARF types.

Contract: :func:`read_locks` (reader, dwarf) lists the statics whose DWARF
type is a lock (the kernel's ``rustos::sync::IrqMutex<T>`` and
``spin::mutex::Mutex<T>`` / ``SpinMutex<T>``; :data:`LOCK_TYPES`), finds
each one's lock word by member names (``locked``, ``inner`` -> ``lock``:
the first ``Atomic<bool>`` reached; never a hand-written offset), reads it
and returns a frozen :class:`Locks`: per :class:`Lock` its name, type, the
word's address and whether it is held (nonzero). Who holds a lock and who
spins on it are not guest state: the REPL adds them (:class:`Holder`, from
the recorded history's last write that took the word; ``spinners``, the CPU
when the loop it spins in reads the word). Views: :func:`locks_view` and
:func:`to_json`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .common import ImageReader, debug_info, to_json, try_bytes

__all__ = ["Lock", "Locks", "Holder", "read_locks", "locks_view", "to_json", "LOCK_TYPES"]

#: Type-name prefixes of the locks, and what to call them.
LOCK_TYPES = {"rustos::sync::IrqMutex<": "IrqMutex", "spin::mutex::Mutex<": "spin::Mutex",
              "spin::mutex::spin::SpinMutex<": "spin::SpinMutex"}
_WORD_MEMBERS = ("locked", "lock", "inner")


@dataclass(frozen=True)
class Holder:
    """The instruction that took a held lock (its last 0 -> nonzero write)."""

    icount: int
    rip: int
    symbol: str
    line: str | None
    context: str              #: ``task 3``, ``the IRQ0 handler (task 2 interrupted)``...
    interrupts: bool | None   #: RFLAGS.IF just before it (None: not known)
    ago_instructions: int
    ago_ms: float


@dataclass(frozen=True)
class Lock:
    """One lock static."""

    name: str
    kind: str                 #: ``IrqMutex``, ``spin::Mutex``...
    type_name: str
    address: int              #: the static
    word: int                 #: its lock word
    held: bool | None         #: None: the word is unreadable
    holder: Holder | None = None
    spinners: tuple[str, ...] = ()


@dataclass(frozen=True)
class Locks:
    """Every lock static, by address."""

    locks: tuple[Lock, ...]

    def lock(self, name: str) -> Lock | None:
        """The lock whose name is ``name`` or ends with ``::name``."""
        return next((k for k in self.locks if k.name == name or k.name.endswith("::" + name)), None)


def _word_offset(typ) -> int | None:
    """Offset of the lock word (the first ``Atomic<bool>`` through the lock members)."""
    offset = 0
    for _ in range(4):
        if typ.name.startswith(("core::sync::atomic::Atomic<bool>", "core::sync::atomic::AtomicBool")):
            return offset
        member = next((m for name in _WORD_MEMBERS for m in typ.members if m.name == name), None)
        if member is None:
            return None
        offset += member.offset
        typ = member.type
    return None


def read_locks(reader, dwarf) -> Locks:
    """Every lock static and its state (see the module)."""
    info = debug_info(dwarf)
    reader = ImageReader(reader)
    found = []
    for symbol in info.symbols:
        if symbol.kind != "object" or not symbol.address:
            continue
        for var in info.variables_at(symbol.address):
            kind = next((k for p, k in LOCK_TYPES.items() if var.type is not None and var.type.name.startswith(p)),
                        None)
            offset = _word_offset(var.type) if kind else None
            if offset is None or any(k.address == var.address for k in found):
                continue
            raw = try_bytes(reader, var.address + offset, 1)
            found.append(Lock(var.name, kind, var.type.name, var.address, var.address + offset,
                              None if raw is None else raw != b"\0"))
    return Locks(tuple(sorted(found, key=lambda k: k.address)))


def _holder_text(h: Holder) -> str:
    irq = "" if h.interrupts is None else f", interrupts {'on' if h.interrupts else 'off'}"
    line = f" at {h.line}" if h.line else ""
    return (f"taken at icount {h.icount} by {h.rip:#x} <{h.symbol}>{line} in {h.context}{irq}, "
            f"{h.ago_instructions} instructions ({h.ago_ms:.1f} ms) ago")


def locks_view(locks: Locks) -> str:
    """One line per lock (held ones first with their holder and spinners)."""
    lines = []
    for k in sorted(locks.locks, key=lambda k: (not k.held, k.address)):
        state = {True: "HELD", False: "free", None: "unreadable"}[k.held]
        lines.append(f"{state:<6} {k.name} ({k.kind}, word {k.word:#x})")
        if k.holder is not None:
            lines.append(f"         {_holder_text(k.holder)}")
        elif k.held:
            lines.append("         holder: unknown (no recorded history, or not taken within it)")
        for spinner in k.spinners:
            lines.append(f"         spinning: {spinner}")
    return "\n".join(lines) or "no locks among the kernel's statics"
