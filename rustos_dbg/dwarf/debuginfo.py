"""Lookup of the kernel's statics and types by (Rust) name, and of statics by address.

Contract: a :class:`DebugInfo` is built from one :class:`~.index.Index` and
never touches the ELF again. Names are the qualified names rustc writes
(``rustos::heap::KernelHeap``, ``rustos::sync::IrqMutex<rustos::heap::KernelHeap>``,
``core::option::Option<core::ptr::non_null::NonNull<linked_list_allocator::hole::Hole>>``);
a lookup also accepts a suffix at a top-level ``::`` (``heap::KernelHeap``,
``KernelHeap``) when it names one path-like type only (``&T``, ``*const T``,
tuples and ``<T as Trait>`` names are found by their full spelling only).
Unknown or ambiguous names raise :class:`~.types.DwarfError`; ``find_*``
return None for unknown ones. A name defined in several compile units
resolves to its first complete definition (not a declaration). A static the
DWARF lacks is looked up in the ELF symbol table (then its type is None).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..machine.symbols import demangle
from .index import Index
from .types import KIND_OF_TAG, TRANSPARENT_TAGS, DwarfError, Type, Names


@dataclass(frozen=True)
class Variable:
    """A static: qualified name, address and type (None when only the symbol table knows it)."""

    name: str
    address: int
    type: Type | None


class DebugInfo:
    """Lookup of types and statics by name, and of statics by address."""

    def __init__(self, index: Index, path=None) -> None:
        self.path = path
        self._index = index
        self._types: dict[int, Type] = {}
        self._type_names = Names()
        for raw in index.types.values():
            if raw.qname is not None:
                self._type_names.add(raw.qname, raw)
        self._var_names = Names()
        self._by_address: dict[int, list] = {}
        for var in index.variables:
            self._var_names.add(var.qname, var)
            if var.linkage_name:
                self._var_names.add(var.linkage_name, var)
                readable = demangle(var.linkage_name)
                if readable not in (var.linkage_name, var.qname):
                    self._var_names.add(readable, var)
            if var.address:
                self._by_address.setdefault(var.address, []).append(var)

    def detach_symbols(self) -> None:
        """Drops the ELF symbol table and path (before caching this lookup on disk)."""
        self._index.elf_symbols, self.path = None, None

    def attach_symbols(self, symbols, path) -> None:
        """Gives a lookup read from the cache its ELF's symbol table and path."""
        self._index.elf_symbols, self.path = symbols, path

    @property
    def symbols(self):
        """The ELF symbol table (``rustos_dbg.machine.symbols.SymbolTable``)."""
        return self._index.elf_symbols

    def type_at(self, offset: int) -> Type:
        """The type whose DIE is at ``offset`` (typedefs and qualifiers followed)."""
        seen = 0
        raw = self._index.types.get(offset)
        while raw is not None and raw.tag in TRANSPARENT_TAGS and raw.type is not None and seen < 16:
            raw, seen = self._index.types.get(raw.type), seen + 1
        if raw is None:
            raise DwarfError(f"no type DIE at {offset:#x}")
        typ = self._types.get(raw.offset)
        if typ is None:
            typ = self._types[raw.offset] = Type(raw, self)
        return typ

    def find_type(self, name: str) -> Type | None:
        """The type called ``name`` (qualified, or a unique suffix), or None."""
        hit = self._type_names.lookup(name)
        if hit is None:
            return None
        raws = hit[1]
        best = next((r for r in raws if not r.declaration and (r.size is not None or r.tag not in KIND_OF_TAG
                     or KIND_OF_TAG[r.tag] in ("pointer", "array", "function"))), raws[0])
        return self.type_at(best.offset)

    def type(self, name: str) -> Type:
        """Like :meth:`find_type`; an unknown name is a :class:`DwarfError`."""
        typ = self.find_type(name)
        if typ is None:
            raise DwarfError(f"no type named '{name}' in the DWARF")
        return typ

    def find_variable(self, name: str) -> Variable | None:
        """The static called ``name`` (qualified, plain, or mangled), or None."""
        hit = self._var_names.lookup(name)
        if hit is not None:
            var = next((v for v in hit[1] if v.address), hit[1][0])  # 0: a discarded copy
            return Variable(var.qname, var.address, self.type_at(var.type) if var.type is not None else None)
        sym = self.symbols.find(name) if self.symbols is not None else None
        return Variable(sym.name, sym.address, None) if sym is not None else None

    def variable(self, name: str) -> Variable:
        """Like :meth:`find_variable`; an unknown name is a :class:`DwarfError`."""
        var = self.find_variable(name)
        if var is None:
            raise DwarfError(f"no variable named '{name}' in the DWARF or the symbol table")
        return var

    def variables_at(self, address: int) -> list[Variable]:
        """Every static whose address is ``address`` (e.g. a trait-object vtable)."""
        return [Variable(v.qname, v.address, self.type_at(v.type) if v.type is not None else None)
                for v in self._by_address.get(address, [])]

    def symbolize(self, address: int) -> str | None:
        """The ELF symbol exactly at ``address`` (demangled), or None."""
        sym = self.symbols.containing(address) if self.symbols is not None else None
        return sym.name if sym is not None and sym.address == address else None

    def value(self, reader, what, type: "Type | str | None" = None):
        """A :class:`~.value.Value`: ``what`` is a static's name, a :class:`Variable`,
        or an address (then ``type`` is required)."""
        from .value import Value

        if isinstance(what, str):
            what = self.variable(what)
        if isinstance(what, Variable):
            typ = what.type if type is None else type
            address = what.address
        else:
            typ, address = type, int(what)
        if isinstance(typ, str):
            typ = self.type(typ)
        if typ is None:
            raise DwarfError(f"no type known for {what!r}")
        return Value(typ, address, reader)
