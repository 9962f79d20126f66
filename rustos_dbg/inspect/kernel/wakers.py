"""Who holds a waker for which task: wakers found in the kernel's statics and futures by DWARF type.

Contract: :func:`find_wakers` (reader, info, roots) visits each root (a
name and a :class:`~rustos_dbg.dwarf.Value`: a static, or a task's future on
the heap) through the members whose DWARF type can hold a
``core::task::wake::Waker`` (or a bare ``RawWaker``): structures, arrays,
the active variant of an enum (``Option<Waker>`` holds one only when it is
``Some``) and ``Box``/``Arc`` pointers to such types (heap objects), and
returns every waker found as a :class:`WakerRef` (where it is held, its
``data`` and ``vtable``). :func:`waker_statics` lists the statics whose
type can hold one (computed once per DWARF). Which task a waker wakes is for
the caller to say (:mod:`.asynctasks`: the executor's ``TaskWaker`` id at
``data``). The path of a holder names the static, the array indices and the
fields of the kernel's own structures (``rustos::keyboard::SCANCODES.waker``,
``rustos::time::SLEEPERS[0]``); Rust's wrappers (``UnsafeCell``,
``Option``, ``IrqMutex``'s ``data``, tuples) are left out. Guest reads that
fail skip that holder; nothing raises on bad guest data.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from ...dwarf import DwarfError, Value
from ...machine.errors import GuestMemoryError

__all__ = ["WakerRef", "find_wakers", "waker_statics", "holds_waker"]

WAKER = "core::task::wake::Waker"
RAW_WAKER = "core::task::wake::RawWaker"
#: Pointers followed into the heap (one object each; a Vec's buffer is not one object).
_FOLLOW = ("alloc::boxed::Box<", "alloc::sync::Arc<")
MAX_DEPTH = 24
_MEMO: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class WakerRef:
    """One waker: where it is held (``holder``), at which address, its ``data`` and ``vtable``."""

    holder: str
    address: int
    data: int
    vtable: int


def _memo(info) -> dict:
    memo = _MEMO.get(info)
    if memo is None:
        memo = _MEMO[info] = {}
    return memo


def _followed(typ):
    """(pointer type, pointee) of a ``Box<T>``/``Arc<T>`` (``ArcInner<T>``), or None.

    The pointer is the first member at offset 0, level by level (Box -> Unique ->
    NonNull -> ``*const T``; Arc -> NonNull -> ``*const ArcInner<T>``)."""
    if not typ.name.startswith(_FOLLOW):
        return None
    for _ in range(6):
        if typ.kind == "pointer":
            target = typ.target
            return (typ, target) if target is not None and target.kind not in ("void", "function") else None
        members = [m for m in typ.members if m.name not in (None, "phantom", "alloc", "__1")]
        if not members or members[0].offset != 0:
            return None
        typ = members[0].type
    return None


def holds_waker(info, typ) -> bool:
    """Whether a value of ``typ`` can hold a waker (memoised per DWARF; cycles count as no)."""
    memo = _memo(info)
    key = typ.offset
    if key in memo:
        return memo[key]
    memo[key] = False  # in progress: a cycle through a pointer holds nothing new
    name = typ.name
    if name in (WAKER, RAW_WAKER):
        result = True
    elif typ.kind == "array":
        result = typ.element is not None and holds_waker(info, typ.element)
    elif typ.kind == "variant":
        result = any(holds_waker(info, v.member.type) for v in typ.variants)
    elif typ.kind in ("struct", "union"):
        followed = _followed(typ)
        if followed is not None:
            result = holds_waker(info, followed[1])
        else:
            result = any(holds_waker(info, m.type) for m in typ.members if m.type is not None)
    else:
        result = False
    memo[key] = result
    return result


def waker_statics(info) -> tuple:
    """The statics (``Variable``) whose type can hold a waker, by address."""
    memo = _memo(info)
    if "statics" not in memo:
        found, seen = [], set()
        for symbol in info.symbols or ():
            if symbol.kind != "object" or not symbol.address:
                continue
            for var in info.variables_at(symbol.address):
                if var.type is None or var.address in seen:
                    continue
                try:
                    if holds_waker(info, var.type):
                        found.append(var)
                        seen.add(var.address)
                except DwarfError:
                    continue
        memo["statics"] = tuple(sorted(found, key=lambda v: v.address))
    return memo["statics"]


def _own(typ) -> bool:
    """Whether ``typ``'s field names belong in a holder's path (the kernel's structures)."""
    name = typ.name
    return name.startswith("rustos") and not name.startswith("rustos::sync::")


class _Walk:
    def __init__(self, info) -> None:
        self.info = info
        self.found: list[WakerRef] = []
        self.seen: set[int] = set()

    def visit(self, value: Value, path: str, depth: int = 0) -> None:
        """Records the wakers under ``value``; an unreadable part is skipped, the rest still visited."""
        try:
            self._visit(value, path, depth)
        except (GuestMemoryError, DwarfError, IndexError):
            pass

    def _visit(self, value: Value, path: str, depth: int) -> None:
        typ = value.type
        if depth > MAX_DEPTH or not holds_waker(self.info, typ):
            return
        if typ.name in (WAKER, RAW_WAKER):
            raw = value["waker"] if typ.name == WAKER else value
            self.found.append(WakerRef(path, value.address, raw["data"].int(), raw["vtable"].int()))
            return
        if typ.kind == "array":
            for i in range(typ.count or 0):
                self.visit(value.element(i), f"{path}[{i}]", depth + 1)
            return
        if typ.kind == "variant":
            variant = value.active_variant()
            if variant is not None:
                self.visit(value.at(variant.member.offset, variant.member.type), path, depth + 1)
            return
        followed = _followed(typ)
        if followed is not None:
            address = value.at(0, followed[0]).int()
            if address and address not in self.seen:
                self.seen.add(address)
                self.visit(Value(followed[1], address, value.reader), f"*{path}", depth + 1)
            return
        for member in typ.members:
            if member.type is None or not holds_waker(self.info, member.type):
                continue
            named = _own(typ) and member.name and not member.name.startswith("__")
            self.visit(value.at(member.offset, member.type), f"{path}.{member.name}" if named else path, depth + 1)


def find_wakers(reader, info, roots) -> tuple[WakerRef, ...]:
    """Every waker held under ``roots`` (``(name, Value)`` pairs), in the order visited."""
    walk = _Walk(info)
    for name, value in roots:
        walk.visit(value, name)
    return tuple(walk.found)
