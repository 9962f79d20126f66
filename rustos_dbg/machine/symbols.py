"""The kernel's symbols: lookup by name (mangled or demangled) and by address.

Rust symbols are demangled with the ``demangle`` package (legacy and v0
schemes); the hash suffix of legacy names is dropped. ``lookup`` accepts a
mangled name, a full demangled path, or a path suffix at a ``::`` boundary
(``shell::start`` finds ``rustos::shell::start``); ``symbolize`` turns an
address into ``name+0xoff``.
"""

from __future__ import annotations

import bisect
import re
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


@dataclass(frozen=True)
class Symbol:
    """One symbol: its raw name, address, size and kind; ``name`` is the readable form."""

    raw: str
    address: int
    size: int
    kind: str  # "func", "object" or "other"

    @property
    def name(self) -> str:
        """The demangled name (computed once per raw name)."""
        return _cached_demangle(self.raw)


class SymbolTable:
    """All named symbols of the kernel, sorted by address."""

    def __init__(self, symbols: list[Symbol]) -> None:
        """Index ``symbols`` by address and by name."""
        self._symbols = sorted(symbols, key=lambda s: (s.address, -s.size))
        self._starts = [s.address for s in self._symbols]
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
    def from_elf(cls, elf) -> "SymbolTable":
        """Reads ``.symtab`` of a pyelftools ``ELFFile``."""
        table = elf.get_section_by_name(".symtab")
        symbols = []
        if table is not None:
            for sym in table.iter_symbols():
                kind = sym["st_info"]["type"]
                if not sym.name or kind in ("STT_FILE", "STT_SECTION") or sym["st_shndx"] == "SHN_UNDEF":
                    continue
                label = {"STT_FUNC": "func", "STT_OBJECT": "object"}.get(kind, "other")
                symbols.append(Symbol(sym.name, sym["st_value"], sym["st_size"], label))
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
        """The symbol whose range holds ``address``, else the nearest zero-size
        symbol below it (within 64 KiB) that no sized symbol ends between."""
        i = bisect.bisect_right(self._starts, address) - 1
        best = None
        while i >= 0:
            s = self._symbols[i]
            if s.size:
                # Sorted by start: a sized symbol that ends at or below the address
                # means nothing further down holds it.
                return s if address < s.address + s.size else best
            if best is None and address - s.address < 0x10000:
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
