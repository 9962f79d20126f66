"""Any DWARF-typed guest value as Rust would show it (``p``, ``info locals``).

Contract: :func:`render` reads a :class:`~rustos_dbg.dwarf.Value` (or a
:class:`Pointer`, a typed address that is not in memory, e.g. a cast) into a
:class:`Shown` tree, a frozen model of plain data; :func:`format_shown` is its
text view (Rust's ``{:?}`` spelling), :func:`shown_json` its JSON view.

The spelling: integers in decimal, ``bool`` and ``char`` as Rust writes them;
C-like enums and Rust enums by variant name (``Some(3)``, ``None``,
``Ok(..)``, ``Running { .. }``); structs as ``Name { field: value }``, tuple
structs as ``Name(value)``; ``&str`` and ``String`` as quoted strings; slices and ``Vec``
as ``[a, b]`` (at most :data:`MAX_ELEMENTS` elements; a run of equal
elements as ``x <repeats N times>``); atomics, ``UnsafeCell``,
``Cell``, ``NonNull`` and other single-field wrappers of the kernel's sync
types unwrapped to what they hold; ``PhantomData`` left out; raw pointers and
references as ``0x..`` (their pointee is reached with ``*``); a page-table
entry (``PageTableEntry``) as its address and flags. Depth is bounded
(:data:`MAX_DEPTH`, deeper values are ``{..}``). Guest memory that cannot be
read becomes ``<unreadable 0x..>`` in place: rendering never raises for it.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

from ...dwarf import DwarfError, Type, Value
from ...machine.errors import GuestMemoryError

MAX_ELEMENTS = 512
MAX_DEPTH = 8
REPEATS = 4
_BOOL, _FLOAT, _UTF, _UCHAR = 0x02, 0x04, 0x10, 0x08
#: Wrappers shown as what they hold (by the last path segment of their name, generics dropped).
_UNWRAP = ("UnsafeCell", "Cell", "SyncUnsafeCell", "NonNull", "Unique", "ManuallyDrop", "MaybeUninit",
           "AtomicBool", "AtomicU8", "AtomicU16", "AtomicU32", "AtomicU64", "AtomicUsize", "AtomicI8",
           "AtomicI16", "AtomicI32", "AtomicI64", "AtomicIsize", "AtomicPtr", "Atomic", "Align1", "Align2", "Align4",
           "Align8", "Align16", "Cap", "Wrapping")
#: x86-64 page-table entry flags, bit -> name (Intel SDM Vol. 3A §4.5, Table 4-19).
PTE_FLAGS = ((0, "PRESENT"), (1, "WRITABLE"), (2, "USER_ACCESSIBLE"), (3, "WRITE_THROUGH"), (4, "NO_CACHE"),
             (5, "ACCESSED"), (6, "DIRTY"), (7, "HUGE_PAGE"), (8, "GLOBAL"), (63, "NO_EXECUTE"))
PTE_ADDRESS = 0x000F_FFFF_FFFF_F000


@dataclass(frozen=True)
class Pointer:
    """A typed address that lives nowhere in memory (the result of a cast or of ``&``)."""

    target: Type | None
    address: int

    @property
    def type_name(self) -> str:
        """``*mut TARGET``."""
        return f"*mut {self.target.name if self.target is not None else '()'}"


@dataclass(frozen=True)
class Shown:
    """One rendered value: ``kind`` (scalar, string, pointer, struct, tuple, enum,
    list, elided, error), the Rust ``type`` name, ``text`` for leaves (and the
    variant or struct name), ``fields`` (name, Shown) for structs and enum payloads,
    ``items`` for lists and tuples, ``value`` the plain number of a scalar or
    pointer, ``address`` where it lives (None when not in memory)."""

    kind: str
    type: str
    text: str = ""
    fields: tuple = ()
    items: tuple = ()
    value: object = None
    address: int | None = None
    more: int = 0   #: list elements left out


def _last(name: str) -> str:
    """``core::sync::atomic::AtomicU64`` -> ``AtomicU64``; ``Vec<u8, Global>`` -> ``Vec``."""
    from ...dwarf import split_path

    return split_path(name or "")[-1].split("<", 1)[0]


def _is_pte(typ: Type) -> bool:
    return _last(typ.name) == "PageTableEntry" and typ.size == 8


def _scalar(value: Value) -> Shown:
    typ, raw = value.type, value.raw()
    enc = typ.encoding
    if enc == _BOOL:
        flag = raw[0] != 0
        return Shown("scalar", typ.name, "true" if flag else "false", value=flag, address=value.address)
    if enc == _FLOAT and len(raw) in (4, 8):
        number = struct.unpack("<f" if len(raw) == 4 else "<d", raw)[0]
        return Shown("scalar", typ.name, repr(number), value=number, address=value.address)
    number = value.int()
    if enc == _UTF and len(raw) == 4:
        try:
            return Shown("scalar", typ.name, repr(chr(number)), value=number, address=value.address)
        except ValueError:
            pass
    return Shown("scalar", typ.name, str(number), value=number, address=value.address)


def _pointer(typ_name: str, address: int, where: int | None) -> Shown:
    return Shown("pointer", typ_name, f"{address:#x}", value=address, address=where)


def _slice(value: Value, depth: int) -> Shown:
    """``&[T]`` / ``&str``: ``data_ptr`` and ``length``."""
    typ = value.type
    ptr, length = value["data_ptr"].int(), value["length"].int()
    if typ.name in ("&str", "&mut str", "*const str", "*mut str"):
        return Shown("string", typ.name, json.dumps(value.str()), value=value.str(), address=value.address)
    target = value.type.member("data_ptr").type.target
    return _elements(typ.name, target, ptr, length, value.reader, depth, value.address)


def _elements(type_name: str, element: Type | None, address: int, count: int, reader, depth: int,
              where: int | None) -> Shown:
    if element is None or not element.size:
        return Shown("list", type_name, f"<{count} elements at {address:#x}>", value=address, address=where)
    shown = min(count, MAX_ELEMENTS)
    items = tuple(render(Value(element, address + i * element.size, reader), depth + 1) for i in range(shown))
    return Shown("list", type_name, items=items, address=where, more=count - shown)


def _vec(value: Value, depth: int) -> Shown | None:
    """``alloc::vec::Vec<T>``: its buffer pointer (found inside ``buf``) and ``len``."""
    typ = value.type
    element = typ.params.get("T")
    if element is None or not typ.has_member("len") or not typ.has_member("buf"):
        return None
    length = value["len"].int()
    node = value["buf"]
    for _ in range(6):  # RawVec { inner: RawVecInner { ptr: Unique { pointer: NonNull { pointer } } } }
        t = node.type
        if t.kind == "pointer":
            break
        name = next((n for n in ("ptr", "inner", "pointer") if t.has_member(n)), None)
        if name is None:
            return None
        node = node[name]
    else:
        return None
    return _elements(typ.name, element, node.int(), length, value.reader, depth, value.address)


def _string(value: Value) -> str | None:
    """A ``String``'s text, as ``{:?}`` shows it (its ``Vec<u8>``'s bytes), or None."""
    bytes_vec = _vec(value["vec"], MAX_DEPTH - 1)
    if bytes_vec is None or bytes_vec.more:
        return None
    return bytes(int(item.value) for item in bytes_vec.items).decode("utf-8", "replace")


def _fields(value: Value, depth: int) -> tuple:
    out = []
    for member in value.type.members:
        if member.name is None or _last(member.type.name) == "PhantomData":
            continue
        out.append((member.name, render(value.at(member.offset, member.type), depth + 1)))
    return tuple(out)


def _struct(value: Value, depth: int) -> Shown:
    typ = value.type
    name = typ.name
    last = _last(name)
    if last in _UNWRAP or (len(typ.members) == 1 and last in ("IrqMutex",)):
        inner = [m for m in typ.members if m.name is not None and _last(m.type.name) != "PhantomData"]
        if len(inner) == 1:
            return render(value.at(inner[0].offset, inner[0].type), depth)
    if typ.has_member("data_ptr") and typ.has_member("length"):
        return _slice(value, depth)
    if last == "Vec":
        vec = _vec(value, depth)
        if vec is not None:
            return vec
    if name == "alloc::string::String" and typ.has_member("vec"):
        text = _string(value)
        if text is not None:
            return Shown("string", name, json.dumps(text), value=text, address=value.address)
    if _is_pte(typ):
        raw = int.from_bytes(value.raw(), "little")
        flags = [n for bit, n in PTE_FLAGS if raw >> bit & 1]
        text = f"{raw & PTE_ADDRESS:#x} " + (" | ".join(flags) if flags else "(empty)")
        return Shown("scalar", name, text, value=raw, address=value.address)
    if depth >= MAX_DEPTH:
        return Shown("elided", name, "{..}", address=value.address)
    fields = _fields(value, depth)
    if fields and all(n.startswith("__") and n[2:].isdigit() for n, _ in fields):
        return Shown("tuple", name, _short(name) if not name.startswith("(") else "",
                     items=tuple(s for _, s in fields), address=value.address)
    return Shown("struct", name, _short(name), fields=fields, address=value.address)


def _short(name: str) -> str:
    """The name Rust's Debug prints: the last path segment, without generics."""
    return _last(name)


def _variant(value: Value, depth: int) -> Shown:
    name, payload = value.variant()
    typ_name = value.type.name
    if name is None:
        return Shown("error", typ_name, "<no variant matches the discriminant>", address=value.address)
    fields = () if payload is None or depth >= MAX_DEPTH else _fields(payload, depth)
    if fields and all(n.startswith("__") and n[2:].isdigit() for n, _ in fields):
        return Shown("enum", typ_name, name, items=tuple(s for _, s in fields), address=value.address)
    return Shown("enum", typ_name, name, fields=fields, address=value.address)


def render(value, depth: int = 0) -> Shown:
    """The :class:`Shown` tree of ``value`` (a ``Value`` or a :class:`Pointer`)."""
    if isinstance(value, Pointer):
        return _pointer(value.type_name, value.address, None)
    typ = value.type
    try:
        kind = typ.kind
        if kind in ("base",):
            return _scalar(value)
        if kind == "enum":
            number = value.int()
            name = value.type.enumerators.get(number)
            return Shown("scalar", typ.name, name if name is not None else f"{number} (no variant)",
                         value=number, address=value.address)
        if kind == "pointer":
            return _pointer(typ.name, value.int(), value.address)
        if kind == "variant":
            return _variant(value, depth)
        if kind in ("struct", "union"):
            return _struct(value.load() if depth == 0 and (typ.size or 0) <= 65536 else value, depth)
        if kind == "array":
            count = typ.count or 0
            return _elements(typ.name, typ.element, value.address, count, value.reader, depth, value.address) \
                if value.address is not None else Shown("list", typ.name, items=tuple(
                    render(value.element(i), depth + 1) for i in range(min(count, MAX_ELEMENTS))))
        if kind == "function":
            return Shown("scalar", typ.name, f"<function at {value.address:#x}>", address=value.address)
        return Shown("elided", typ.name, "()", address=value.address)
    except GuestMemoryError as e:
        where = f"{value.address:#x}" if value.address is not None else "?"
        return Shown("error", typ.name, f"<unreadable {where}: {e}>", address=value.address)
    except (DwarfError, IndexError) as e:
        return Shown("error", typ.name, f"<{e}>", address=value.address)


def format_shown(shown: Shown, indent: int = 0) -> str:
    """Rust's ``{:?}`` spelling of a :class:`Shown` (one line while short, else
    one field per line, as ``{:#?}`` does)."""
    flat = _flat(shown)
    if len(flat) + indent <= 100 or not (shown.fields or shown.items):
        return flat
    pad, inner = " " * indent, " " * (indent + 4)
    if shown.fields:
        body = ",\n".join(f"{inner}{name}: {format_shown(s, indent + 4)}" for name, s in shown.fields)
        return f"{shown.text} {{\n{body},\n{pad}}}" if shown.text else f"{{\n{body},\n{pad}}}"
    if shown.items:
        texts = [format_shown(s, indent + 4) for s in shown.items]
        if all(not (s.fields or s.items) for s in shown.items):
            texts = _runs(texts)
        body = ",\n".join(f"{inner}{text}" for text in texts)
        if shown.more:
            body += f",\n{inner}...{shown.more} more"
        if shown.kind == "list":
            return f"[\n{body},\n{pad}]"
        return f"{shown.text}(\n{body},\n{pad})"
    return flat


def _runs(texts: list[str]) -> list[str]:
    """Runs of :data:`REPEATS` or more equal elements as ``X <repeats N times>`` (as gdb does)."""
    out, i = [], 0
    while i < len(texts):
        j = i
        while j < len(texts) and texts[j] == texts[i]:
            j += 1
        out.extend([f"{texts[i]} <repeats {j - i} times>"] if j - i >= REPEATS else texts[i:j])
        i = j
    return out


def _flat(shown: Shown) -> str:
    if shown.kind == "list" and (shown.items or shown.more or not shown.text):
        parts = _runs([_flat(s) for s in shown.items]) + ([f"...{shown.more} more"] if shown.more else [])
        return "[" + ", ".join(parts) + "]"
    if shown.fields:
        body = ", ".join(f"{name}: {_flat(s)}" for name, s in shown.fields)
        return f"{shown.text} {{ {body} }}" if shown.text else f"{{ {body} }}"
    if shown.kind in ("tuple", "enum") and shown.items:
        return f"{shown.text}(" + ", ".join(_flat(s) for s in shown.items) + ")"
    if shown.kind == "tuple" and not shown.text:
        return "()"
    return shown.text


def _plain(shown: Shown):
    """The JSON form: scalars as numbers, structs as objects, lists as arrays."""
    if isinstance(shown.value, bool):
        return shown.value
    if shown.kind in ("scalar", "pointer", "string") and shown.value is not None and not _is_named(shown):
        return shown.value
    if shown.kind == "list":
        return [_plain(s) for s in shown.items]
    if shown.kind == "enum":
        payload = {n: _plain(s) for n, s in shown.fields} if shown.fields else [_plain(s) for s in shown.items]
        return {"variant": shown.text, "fields": payload} if payload else {"variant": shown.text}
    if shown.fields:
        return {n: _plain(s) for n, s in shown.fields}
    if shown.kind == "tuple":
        return [_plain(s) for s in shown.items]
    return shown.text


def _is_named(shown: Shown) -> bool:
    """A scalar whose text is a name (C-like enum variant, bool, char, PTE flags)."""
    return shown.kind == "scalar" and shown.text != str(shown.value)


def shown_json(shown: Shown, expression: str = "") -> str:
    """JSON of a rendered value: ``{"expression", "type", "address", "value", "text"}``."""
    return json.dumps({"expression": expression, "type": shown.type, "address": shown.address,
                       "value": _plain(shown), "text": format_shown(shown)})
