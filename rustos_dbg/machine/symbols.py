"""The kernel's symbols: lookup by name (mangled or demangled) and by address.

Rust symbols are demangled with the ``demangle`` package (legacy and v0
schemes); the hash suffix of legacy names is dropped. ``lookup`` accepts a
mangled name, a full demangled path, or a path suffix at a ``::`` boundary
(``shell::start`` finds ``rustos::shell::start``); ``symbolize`` turns an
address into ``name+0xoff``.

An address is labelled with a symbol only inside that symbol's extent
(:meth:`SymbolTable.containing`): ``[address, address + size)`` for a sized
symbol; for an unsized one (assembly labels), from its address up to the next
symbol, within the allocated ELF section that holds it (and not past the end
of a sized symbol it lies in). Absolute symbols (``SHN_ABS``: constants such as
``boot_pd_i = 0x200``) are found by name but never label an address, so a
small register value is not shown as ``<boot_pd_i+0x4e0>``.
"""

from __future__ import annotations

import bisect
import re
import struct
from functools import lru_cache
from dataclasses import dataclass

from .errors import SymbolError

_LEGACY_HASH = re.compile(r"::h[0-9a-f]{16}$")


@lru_cache(maxsize=None)
def _cached_demangle(raw: str) -> str:
    return demangle(raw)


def demangle(name: str) -> str:
    """The readable form of a (Rust) symbol name; other names unchanged."""
    if not (name.startswith("_R") or name.startswith("_ZN")):
        return name
    try:
        import demangle as _demangle  # imported on first use: it is slow to import

        text = _demangle.demangle(name)
    except Exception:
        return name
    return _LEGACY_HASH.sub("", text) if isinstance(text, str) else name


#: Elf64_Sym (System V ABI, "Symbol Table"): st_name, st_info, st_other, st_shndx, st_value, st_size.
_ELF64_SYM = struct.Struct("<IBBHQQ")
_STT_OBJECT, _STT_FUNC, _STT_SECTION, _STT_FILE = 1, 2, 3, 4
_SHN_UNDEF, _SHN_LORESERVE = 0, 0xFF00


def _iter_elf64_symbols(data: bytes):
    """The fields of each Elf64_Sym in a little-endian ``.symtab`` (read in C: pyelftools
    parsing each symbol cost most of the start-up time)."""
    usable = len(data) - len(data) % _ELF64_SYM.size
    return _ELF64_SYM.iter_unpack(memoryview(data)[:usable])


#: ELF section flags (``sh_flags``).
SHF_ALLOC, SHF_EXECINSTR = 0x2, 0x4


@dataclass(frozen=True)
class Section:
    """One ELF section header: name, address, size and ``sh_flags``."""

    name: str
    address: int
    size: int
    flags: int

    @property
    def end(self) -> int:
        """The first address past the section."""
        return self.address + self.size

    @property
    def alloc(self) -> bool:
        """True when the section occupies memory at run time (``SHF_ALLOC``)."""
        return bool(self.flags & SHF_ALLOC)

    @property
    def executable(self) -> bool:
        """True for code (``SHF_EXECINSTR``)."""
        return bool(self.flags & SHF_EXECINSTR)

    def contains(self, address: int) -> bool:
        """True when ``address`` is inside the (allocated) section."""
        return self.alloc and self.address <= address < self.end


def read_sections(elf) -> tuple[Section, ...]:
    """Every section header of a pyelftools ``ELFFile``, by index."""
    return tuple(Section(sec.name, sec["sh_addr"], sec["sh_size"], sec["sh_flags"]) for sec in elf.iter_sections())


@dataclass(frozen=True)
class Symbol:
    """One symbol: its raw name, address, size, kind and section (None: absolute or
    unknown); ``name`` is the readable form."""

    raw: str
    address: int
    size: int
    kind: str  # "func", "object" or "other"
    section: Section | None = None

    @property
    def name(self) -> str:
        """The demangled name (computed once per raw name)."""
        return _cached_demangle(self.raw)


class SymbolTable:
    """All named symbols of the kernel, sorted by address."""

    def __init__(self, symbols: list[Symbol]) -> None:
        """Index ``symbols`` by address and by name."""
        # At one address the last symbol labels it: linker-script markers ("__boot_start")
        # sort before the code's own labels ("pvh_start32").
        self._symbols = sorted(symbols, key=lambda s: (s.address, -s.size, not s.raw.startswith("__")))
        # Only symbols with an extent label addresses: sized ones, and unsized ones in an allocated section.
        self._located = [s for s in self._symbols if s.size or (s.section is not None and s.section.alloc)]
        self._starts = [s.address for s in self._located]
        self._by_raw: dict[str, Symbol] = {}
        for s in self._symbols:
            self._by_raw.setdefault(s.raw, s)
        self._by_name: dict[str, Symbol] | None = None

    def _names(self) -> dict[str, Symbol]:
        if self._by_name is None:
            self._by_name = {}
            for s in self._symbols:
                self._by_name.setdefault(s.name, s)
        return self._by_name

    @classmethod
    def from_elf(cls, elf, sections: tuple[Section, ...] | None = None) -> "SymbolTable":
        """Reads ``.symtab`` of a pyelftools ``ELFFile`` (``sections``: its
        :func:`read_sections`, read here when not given)."""
        if sections is None:
            sections = read_sections(elf)
        table = elf.get_section_by_name(".symtab")
        symbols = []
        if table is not None:
            strtab = elf.get_section(table["sh_link"]).data()
            for name_at, info, _other, shndx, value, size in _iter_elf64_symbols(table.data()):
                kind = info & 0xF
                if not name_at or kind in (_STT_SECTION, _STT_FILE) or shndx == _SHN_UNDEF:
                    continue
                name = strtab[name_at:strtab.index(b"\0", name_at)].decode("utf-8", "replace")
                label = {_STT_FUNC: "func", _STT_OBJECT: "object"}.get(kind, "other")
                section = sections[shndx] if shndx < len(sections) and shndx < _SHN_LORESERVE else None
                symbols.append(Symbol(name, value, size, label, section))
        return cls(symbols)

    def __len__(self) -> int:
        return len(self._symbols)

    def __iter__(self):
        return iter(self._symbols)

    def find(self, name: str) -> Symbol | None:
        """The symbol called ``name`` (raw, demangled, or a ``::`` path suffix)."""
        if name in self._by_raw:
            return self._by_raw[name]
        names = self._names()
        if name in names:
            return names[name]
        suffix = "::" + name
        matches = [s for s in self._symbols if s.name.endswith(suffix)]
        if not matches:
            return None
        funcs = [s for s in matches if s.kind == "func"]
        return (funcs or matches)[0]

    def lookup(self, name: str) -> Symbol:
        """Like :meth:`find`, but an unknown name is a :class:`SymbolError`."""
        sym = self.find(name)
        if sym is None:
            raise SymbolError(f"no symbol named '{name}'")
        return sym

    def address_of(self, name: str) -> int | None:
        """The address of ``name``, or None."""
        sym = self.find(name)
        return None if sym is None else sym.address

    def containing(self, address: int) -> Symbol | None:
        """The symbol whose extent holds ``address``, or None: a sized symbol
        ``[address, address + size)``, else the nearest unsized symbol below it
        when ``address`` is in that symbol's section and no sized symbol that
        the unsized one lies in has ended before ``address`` (an unsized
        symbol always holds its own address)."""
        i = bisect.bisect_right(self._starts, address) - 1
        best, nearest = None, True
        while i >= 0:
            s = self._located[i]
            if s.size:
                # Sorted by start: a sized symbol that ends at or below the address
                # means nothing further down holds it.
                if address < s.address + s.size:
                    return s
                return best if best is not None and best.address >= s.address + s.size else None
            if nearest:
                nearest = False
                if s.address == address or s.section.contains(address):
                    best = s
            i -= 1
        return best

    def symbolize(self, address: int) -> str:
        """``name+0xoff`` for ``address``, or the bare hex address."""
        s = self.containing(address)
        if s is None:
            return f"{address:#x}"
        off = address - s.address
        return s.name if off == 0 else f"{s.name}+{off:#x}"
