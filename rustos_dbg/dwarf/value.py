"""Typed values in guest memory, read lazily through a GuestReader.

Contract: ``Value(type, address, reader)`` reads nothing until asked; a value
that lives in no memory (a register, a computed value) has ``address`` None and
its bytes given as ``data``.
``v["field"]`` is a member (struct, union, or a Rust enum's variant by name),
``v[i]`` an array element, ``v.int()`` an integer (base types, C-like enums,
pointers, and single-field wrappers such as ``UnsafeCell<u64>``,
``AtomicBool`` or ``NonNull<T>``), ``v.deref()`` the pointee of a pointer-like
value (raw pointer, reference, ``NonNull<T>``, ``Option<NonNull<T>>``,
``Option<&T>``) or None for a null pointer / ``None``. ``v.variant()``
decodes a Rust enum from its ``DW_TAG_variant_part`` (niche or tagged);
``v.option()`` gives the payload of ``Some`` or None. ``v.load()`` reads the
whole value once and serves its fields from that copy (one guest read for a
big structure). Guest reads raise ``GuestMemoryError``; DWARF shapes a method
cannot handle raise :class:`~.types.DwarfError`. Values never write.
"""

from __future__ import annotations

import struct

from .types import DwarfError, Type

MAX_STR = 4096


def _wrapped(typ: Type):
    """The only member of a single-field wrapper struct of the same size, else None."""
    if typ.kind != "struct":
        return None
    members = typ.members
    if len(members) != 1 or members[0].offset != 0:
        return None
    inner = members[0]
    return inner if inner.size == typ.size else None


class Value:
    """A value of a DWARF type at a guest virtual address."""

    __slots__ = ("type", "address", "reader", "_data")

    def __init__(self, type: Type, address: int, reader, data: bytes | None = None) -> None:
        self.type, self.address, self.reader, self._data = type, address, reader, data

    # --- bytes ---------------------------------------------------------------

    @property
    def size(self) -> int:
        size = self.type.size
        if size is None:
            raise DwarfError(f"{self.type.name} has no known size")
        return size

    def raw(self) -> bytes:
        """The value's bytes (one guest read unless already loaded)."""
        if self._data is not None:
            return self._data
        return bytes(self.reader.read_virtual(self.address, self.size))

    def load(self) -> "Value":
        """The same value with its bytes read now; fields then come from that copy."""
        return self if self._data is not None else Value(self.type, self.address, self.reader, self.raw())

    def at(self, offset: int, typ: Type) -> "Value":
        """The value of type ``typ`` at ``offset`` bytes into this one."""
        data = None
        if self._data is not None and typ.size is not None and offset + typ.size <= len(self._data):
            data = self._data[offset:offset + typ.size]
        return Value(typ, None if self.address is None else self.address + offset, self.reader, data)

    def cast(self, typ: Type) -> "Value":
        """The same address seen as ``typ``."""
        return self.at(0, typ)

    # --- structure -------------------------------------------------------------

    def __getitem__(self, key):
        if isinstance(key, int):
            return self.element(key)
        return self.field(key)

    def field(self, name: str) -> "Value":
        """Member ``name`` (for a Rust enum, the variant ``name``'s payload)."""
        typ = self.type
        if typ.kind == "variant":
            for variant in typ.variants:
                if variant.name == name:
                    return self.at(variant.member.offset, variant.member.type)
        member = typ.member(name)
        return self.at(member.offset, member.type)

    def fields(self) -> list[str]:
        """Member names."""
        return [m.name for m in self.type.members if m.name]

    def element(self, index: int) -> "Value":
        """Array element ``index`` (negative counts from the end)."""
        typ = self.type
        if typ.kind != "array":
            raise DwarfError(f"{typ.name} is not an array")
        count = typ.count or 0
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError(f"index {index} out of range for {typ.name} ({count} elements)")
        element = typ.element
        return self.at(index * element.size, element)

    def __len__(self) -> int:
        if self.type.kind != "array":
            raise DwarfError(f"{self.type.name} is not an array")
        return self.type.count or 0

    def __iter__(self):
        return (self.element(i) for i in range(len(self)))

    def ints(self) -> list[int]:
        """All elements of an array of integers, from one read."""
        element = self.type.element if self.type.kind == "array" else None
        if element is None or element.size not in (1, 2, 4, 8):
            raise DwarfError(f"{self.type.name} is not an array of integers")
        code = {1: "b", 2: "h", 4: "i", 8: "q"}[element.size]
        code = code if element.signed else code.upper()
        return list(struct.unpack(f"<{len(self)}{code}", self.raw()))

    # --- scalars ----------------------------------------------------------------

    def int(self) -> int:
        """The integer value (base type, C-like enum, pointer, or a wrapper of one)."""
        typ = self.type
        if typ.kind in ("base", "enum", "pointer"):
            return int.from_bytes(self.raw(), "little", signed=typ.kind != "pointer" and typ.signed)
        inner = _wrapped(typ)
        if inner is not None:
            return self.at(0, inner.type).int()
        raise DwarfError(f"{typ.name} ({typ.kind}) is not an integer")

    def __int__(self) -> int:
        return self.int()

    def __index__(self) -> int:
        return self.int()

    def bool(self) -> bool:
        return self.int() != 0

    def enum_name(self) -> str | None:
        """The enumerator name of a C-like enum value (None if unnamed)."""
        if self.type.kind != "enum":
            raise DwarfError(f"{self.type.name} is not an enumeration")
        return self.type.enumerators.get(self.int())

    # --- Rust enums and pointers ------------------------------------------------------

    def active_variant(self):
        """The :class:`~.types.Variant` of a Rust enum its discriminant selects (None if none)."""
        typ = self.type
        if typ.kind != "variant":
            raise DwarfError(f"{typ.name} is not a Rust enum")
        variants = typ.variants
        discr = typ.discriminant
        chosen = variants[0] if variants else None
        if discr is not None:
            dtype = discr.type
            value = int.from_bytes(self.at(discr.offset, dtype).raw(), "little")  # unsigned
            mask = (1 << (8 * dtype.size)) - 1
            exact = [v for v in variants if v.discr_value is not None and v.discr_value & mask == value]
            default = [v for v in variants if v.discr_value is None]
            chosen = (exact or default or [None])[0]
        return chosen

    def variant(self) -> tuple[str | None, "Value | None"]:
        """(variant name, payload) of a Rust enum, by its discriminant."""
        chosen = self.active_variant()
        if chosen is None:
            return None, None
        return chosen.name, self.at(chosen.member.offset, chosen.member.type)

    def is_option(self) -> bool:
        typ = self.type
        return typ.kind == "variant" and {v.name for v in typ.variants} == {"None", "Some"}

    def option(self) -> "Value | None":
        """The ``Some`` payload (its ``__0`` field) of an ``Option``, or None."""
        if not self.is_option():
            raise DwarfError(f"{self.type.name} is not an Option")
        name, payload = self.variant()
        if name != "Some" or payload is None:
            return None
        return payload["__0"] if payload.type.has_member("__0") else payload

    def pointer(self) -> int | None:
        """The address held by a pointer-like value; None for ``None``."""
        typ = self.type
        if typ.kind == "pointer":
            return self.int()
        if self.is_option():
            inner = self.option()
            return None if inner is None else inner.pointer()
        inner = _wrapped(typ)
        if inner is not None:
            return self.at(0, inner.type).pointer()
        raise DwarfError(f"{typ.name} ({typ.kind}) is not pointer-like")

    def deref(self) -> "Value | None":
        """The pointee of a pointer-like value; None for a null pointer or ``None``."""
        typ = self.type
        while typ.kind != "pointer":
            if self.is_option():
                inner = self.option()
                return None if inner is None else inner.deref()
            inner = _wrapped(typ)
            if inner is None:
                raise DwarfError(f"{typ.name} ({typ.kind}) is not pointer-like")
            return self.at(0, inner.type).deref()
        address = self.int()
        if address == 0:
            return None
        target = typ.target
        if target is None or target.kind == "void":
            raise DwarfError(f"cannot dereference {typ.name}: no pointee type")
        return Value(target, address, self.reader)

    def str(self, limit: int = MAX_STR) -> str:
        """The text of a ``&str`` (``data_ptr``, ``length``), at most ``limit`` bytes."""
        ptr, length = self["data_ptr"].int(), self["length"].int()
        data = bytes(self.reader.read_virtual(ptr, min(length, limit))) if length else b""
        return data.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"Value({self.type.name!r} at {self.address:#x})"
