"""DWARF types as Python objects, and Rust path names.

Contract: :class:`Type` wraps one recorded type DIE (:mod:`.index`) and is
created only by a :class:`~.debuginfo.DebugInfo`, which resolves the type
references lazily. :class:`Type` exposes ``kind`` (``struct``, ``union``, ``enum`` for C-like
enumerations, ``variant`` for Rust enums with data, ``base``, ``pointer``,
``array``, ``function``, ``void``), ``size``, ``align``, ``members``
(:class:`Member`: name, offset, type, size), ``target`` (pointers),
``element``/``count`` (arrays), ``enumerators``, ``discriminant`` and
``variants`` (:class:`Variant`) for Rust enums, ``params`` (generic
parameters) and ``containing_type`` (vtable types). Typedefs and qualifiers
are stripped on access.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .index import RawMember, RawType
from ..machine.errors import RustosDbgError

KIND_OF_TAG = {"DW_TAG_structure_type": "struct", "DW_TAG_union_type": "union",
          "DW_TAG_enumeration_type": "enum", "DW_TAG_base_type": "base",
          "DW_TAG_pointer_type": "pointer", "DW_TAG_reference_type": "pointer",
          "DW_TAG_array_type": "array", "DW_TAG_subroutine_type": "function",
          "DW_TAG_unspecified_type": "void"}
TRANSPARENT_TAGS = frozenset({"DW_TAG_typedef", "DW_TAG_const_type", "DW_TAG_volatile_type"})
_SIGNED_ENCODINGS = frozenset({0x05, 0x06, 0x0D})  # DW_ATE_signed, signed_char, signed_fixed
POINTER_SIZE = 8
#: Names that are not paths (references, pointers, tuples, slices, fn types, trait
#: impls): findable by their full name only, so ``KernelHeap`` does not also mean
#: ``&rustos::heap::KernelHeap``.
_NOT_A_PATH = ("&", "*", "(", "[", "<", "fn(", "unsafe ", "extern ", "dyn ")


class DwarfError(RustosDbgError, LookupError):
    """A name or offset the DWARF does not define (or defines ambiguously), or no ELF to read."""


def split_path(name: str) -> list[str]:
    """``a::b<c::d>::e`` -> ``["a", "b<c::d>", "e"]``: splits at top-level ``::`` only."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(name):
        ch = name[i]
        if ch in "<([{":
            depth += 1
        elif ch in ">)]}" and not (ch == ">" and i and name[i - 1] == "-"):
            depth -= 1
        elif ch == ":" and depth == 0 and name.startswith("::", i):
            parts.append(name[start:i])
            start = i + 2
            i += 1
        i += 1
    parts.append(name[start:])
    return parts


def normalize(name: str) -> str:
    """Canonical spacing: ``A<B,C>`` and ``A<B, C>`` compare equal."""
    return re.sub(r"\s*,\s*", ", ", name.strip())


class Names:
    """Qualified name -> entries, with lookup by unique top-level ``::`` suffix."""

    def __init__(self) -> None:
        self.exact: dict[str, list] = {}
        self.suffix: dict[str, set[str]] = {}

    def add(self, qname: str, entry) -> None:
        key = normalize(qname)
        if key not in self.exact and not key.startswith(_NOT_A_PATH):
            parts = split_path(key)
            for i in range(1, len(parts)):
                self.suffix.setdefault("::".join(parts[i:]), set()).add(key)
        self.exact.setdefault(key, []).append(entry)

    def lookup(self, name: str) -> tuple[str, list] | None:
        key = normalize(name)
        if key in self.exact:
            return key, self.exact[key]
        found = self.suffix.get(key.removeprefix("::"), set())
        if len(found) > 1:
            raise DwarfError(f"'{name}' is ambiguous: " + ", ".join(sorted(found)[:5]))
        if found:
            qname = next(iter(found))
            return qname, self.exact[qname]
        return None


class Member:
    """A field: name, byte offset in its parent, type, and where it is declared
    (``decl_file``/``decl_line``, None unless the DWARF says: rustc gives them to
    the variants of an async fn's state machine)."""

    __slots__ = ("name", "offset", "artificial", "decl_file", "decl_line", "_type", "_info")

    def __init__(self, raw: RawMember, info: "DebugInfo") -> None:
        self.name, self.offset, self.artificial = raw.name, raw.offset, raw.artificial
        self.decl_file, self.decl_line = raw.decl_file, raw.decl_line
        self._type, self._info = raw.type, info

    @property
    def type(self) -> "Type":
        return self._info.type_at(self._type)

    @property
    def size(self) -> int | None:
        return self.type.size

    def __repr__(self) -> str:
        return f"Member({self.name!r}, offset={self.offset}, type={self.type.name!r})"


@dataclass(frozen=True)
class Variant:
    """One variant of a Rust enum: discriminant value (None = any other value),
    its name, and its payload member (a struct named after the variant)."""

    discr_value: int | None
    member: Member

    @property
    def name(self) -> str | None:
        return self.member.name

    @property
    def type_name(self) -> str | None:
        """The short name of the payload's type (an async fn's ``Suspend0``, ``Returned``...)."""
        return self.member.type.short_name


class Type:
    """A DWARF type, typedefs and qualifiers stripped."""

    __slots__ = ("_raw", "_info", "__weakref__")

    def __init__(self, raw: RawType, info: "DebugInfo") -> None:
        self._raw, self._info = raw, info

    offset = property(lambda self: self._raw.offset, doc="DIE offset in .debug_info")
    @property
    def name(self) -> str:
        """The qualified name; for unnamed arrays and pointers, a Rust spelling (``[u64; 9]``)."""
        raw = self._raw
        if raw.qname or raw.name:
            return raw.qname or raw.name
        kind = self.kind
        if kind == "array":
            element = self.element
            return f"[{element.name if element else '?'}; {raw.count}]"
        if kind == "pointer":
            target = self.target
            return f"*const {target.name if target else '()'}"
        return f"<anonymous {kind}>"

    short_name = property(lambda self: self._raw.name)
    align = property(lambda self: self._raw.align)
    encoding = property(lambda self: self._raw.encoding)
    declaration = property(lambda self: self._raw.declaration)

    @property
    def kind(self) -> str:
        raw = self._raw
        if raw.tag == "DW_TAG_structure_type" and raw.variant_part is not None:
            return "variant"
        if raw.tag == "DW_TAG_base_type" and not raw.size:
            return "void"
        return KIND_OF_TAG.get(raw.tag, "void")

    @property
    def size(self) -> int | None:
        raw = self._raw
        if raw.size is not None:
            return raw.size
        if self.kind == "pointer":
            return POINTER_SIZE
        if self.kind == "array" and raw.count is not None and raw.type is not None:
            element = self.element.size
            return None if element is None else element * raw.count
        return None

    @property
    def signed(self) -> bool:
        if self.kind == "enum" and self._raw.type is not None:
            return self._info.type_at(self._raw.type).signed
        return self._raw.encoding in _SIGNED_ENCODINGS

    @property
    def members(self) -> tuple[Member, ...]:
        return tuple(Member(m, self._info) for m in self._raw.members)

    def member(self, name: str) -> Member:
        for m in self._raw.members:
            if m.name == name:
                return Member(m, self._info)
        names = ", ".join(str(m.name) for m in self._raw.members)
        raise DwarfError(f"{self.name} has no member '{name}' (members: {names})")

    def has_member(self, name: str) -> bool:
        return any(m.name == name for m in self._raw.members)

    @property
    def target(self) -> "Type | None":
        """What a pointer points to (None for ``*const ()``-like void targets)."""
        return self._info.type_at(self._raw.type) if self._raw.type is not None else None

    element = target
    count = property(lambda self: self._raw.count)

    @property
    def enumerators(self) -> dict[int, str]:
        return {value: name for name, value in self._raw.enumerators}

    @property
    def params(self) -> dict[str, "Type | None"]:
        return {n: (self._info.type_at(t) if t is not None else None) for n, t in self._raw.params}

    @property
    def containing_type(self) -> "Type | None":
        off = self._raw.containing_type
        return self._info.type_at(off) if off is not None else None

    @property
    def discriminant(self) -> Member | None:
        part = self._raw.variant_part
        return Member(part.discr_member, self._info) if part and part.discr_member else None

    @property
    def variants(self) -> tuple[Variant, ...]:
        part = self._raw.variant_part
        if part is None:
            return ()
        return tuple(Variant(v.discr_value, Member(v.member, self._info)) for v in part.variants if v.member)

    def __eq__(self, other) -> bool:
        return isinstance(other, Type) and other._raw is self._raw

    def __hash__(self) -> int:
        return hash(self._raw.offset)

    def __repr__(self) -> str:
        return f"Type({self.name!r}, kind={self.kind}, size={self.size})"
