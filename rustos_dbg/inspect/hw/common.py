"""Shared pieces of the hardware inspectors: constants, names, symbols, JSON, caching.

Contract: pure helpers, no emulator and no ``construct``.  The kernel's
memory layout (docs/boot.md §5, docs/kernel-structures.md §1 and §10) is
named here once; symbol access goes through either a ``symbolize(addr) ->
str`` callable or a symbol table with ``find(name)`` / ``containing(addr)``
(``rustos_dbg.machine.symbols.SymbolTable``), both optional everywhere.
``to_json`` turns any inspector model (frozen dataclasses, enums, tuples,
bytes) into a JSON string with integers kept exact.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

from ...structs.bitfields import bit_fields, field_value
from ...structs.frames import PageFaultErrorCode
from .. import jsonview
from ...x86.layout import GUARD_SIZE, HEAP_MAX, HEAP_START, KERNEL_BASE, PAGE_SIZE, PHYS_OFFSET  # noqa: F401  (re-exported)
from ...x86.paging import PagingMode
from ...x86.vectors import IRQ_NAMES, VECTOR_NAMES, vector_mnemonic, vector_name  # noqa: F401  (re-exported)

__all__ = ["KERNEL_BASE", "PHYS_OFFSET", "HEAP_START", "HEAP_MAX", "PAGE_SIZE", "GUARD_SIZE",
           "Symbolize", "symbol_name", "return_symbol", "VECTOR_NAMES", "IRQ_NAMES", "vector_name",
           "vector_mnemonic", "StackRange", "find_stacks", "stack_containing", "to_json",
           "PhysCache", "paging_mode", "pf_error_flags", "describe_pf_error", "hexq",
           "read_u64", "is_kernel_address"]


#: ``symbolize(addr)`` gives ``name+0xoff`` (or a bare hex address when unknown).
Symbolize = Callable[[int], str]

_BARE_HEX = re.compile(r"^(0x)?[0-9a-fA-F]+$")

def symbol_name(symbolize: Optional[Symbolize], addr: Optional[int]) -> Optional[str]:
    """``symbolize(addr)``, or None when there is no symbolizer or it knows no name."""
    if symbolize is None or addr is None:
        return None
    try:
        text = symbolize(addr)
    except Exception:  # a symbolizer must never break an inspector
        return None
    return None if not text or _BARE_HEX.match(text) else text


def return_symbol(symbolize: Optional[Symbolize], addr: int) -> Optional[str]:
    """Symbol of a return address: looked up at ``addr - 1`` (a call may end its
    function), shown with the offset of ``addr`` itself."""
    name = symbol_name(symbolize, addr - 1)
    if name is None:
        return None
    base, _, off = name.partition("+")
    return f"{base}+{int(off, 16) + 1:#x}" if off else f"{base}+0x1"


def is_kernel_address(value: int) -> bool:
    """True for addresses in the higher-half kernel image range."""
    return KERNEL_BASE <= value < 1 << 64


def hexq(value: Optional[int]) -> str:
    """``0xffffffff80100000`` style hex, ``-`` for None."""
    return "-" if value is None else f"{value:#x}"


def read_u64(reader, addr: int, physical: bool = False) -> int:
    """One little-endian qword from the reader (errors propagate)."""
    read = reader.read_physical if physical else reader.read_virtual
    return struct.unpack("<Q", read(addr, 8))[0]


@dataclass(frozen=True)
class StackRange:
    """A ``RUSTOS_*_STACK`` static: guard page at ``base``, usable part above it."""

    name: str
    base: int       #: symbol address = first byte of the guard page
    size: int       #: symbol size (guard page included)

    @property
    def guard_end(self) -> int:
        """First byte above the guard page = lowest usable byte."""
        return self.base + GUARD_SIZE

    @property
    def top(self) -> int:
        """Initial stack pointer: one past the end of the symbol."""
        return self.base + self.size

    @property
    def usable_size(self) -> int:
        """Bytes between the guard page and the top."""
        return self.size - GUARD_SIZE


_STACK_NAME = re.compile(r"^RUSTOS_\w+_STACK$")


def find_stacks(symbols: Optional[Iterable]) -> tuple[StackRange, ...]:
    """Every ``RUSTOS_*_STACK`` symbol (objects with name/address/size), by address."""
    if symbols is None:
        return ()
    found = {s.name: StackRange(s.name, s.address, s.size) for s in symbols
             if _STACK_NAME.match(s.name) and s.size > GUARD_SIZE}
    return tuple(sorted(found.values(), key=lambda s: s.base))


def stack_containing(stacks: Iterable[StackRange], addr: int) -> Optional[StackRange]:
    """The stack whose range [base, top] holds ``addr`` (the top itself counts)."""
    for stack in stacks:
        if stack.base <= addr <= stack.top:
            return stack
    return None


def paging_mode(reader) -> PagingMode:
    """PagingMode from the reader's CR0/CR4/EFER (the walker's defaults if absent)."""
    try:
        return PagingMode.from_registers(reader.reg("cr0"), reader.reg("cr4"), reader.reg("efer"))
    except (KeyError, AttributeError):
        return PagingMode()


class PhysCache:
    """``read_phys(addr, n)`` that reads each 4 KiB page once (for table walks).

    Unreadable pages read as zeros (an entry beyond RAM is "not present").
    """

    def __init__(self, read_phys: Callable[[int, int], bytes]) -> None:
        """Wrap ``read_phys``."""
        self._read = read_phys
        self._pages: dict[int, bytes] = {}

    def _page(self, base: int) -> bytes:
        page = self._pages.get(base)
        if page is None:
            try:
                page = bytes(self._read(base, PAGE_SIZE))
            except Exception:
                page = bytes(PAGE_SIZE)
            self._pages[base] = page
        return page

    def __call__(self, addr: int, n: int) -> bytes:
        """``n`` bytes at physical ``addr``."""
        out = bytearray()
        while n > 0:
            base, off = addr & ~(PAGE_SIZE - 1), addr & (PAGE_SIZE - 1)
            chunk = min(n, PAGE_SIZE - off)
            out += self._page(base)[off:off + chunk]
            addr, n = addr + chunk, n - chunk
        return bytes(out)


_PF_WORDS = {"p": ("protection violation", "not present"), "wr": ("write", "read"),
             "us": ("user", "supervisor"), "rsvd": ("reserved bit", None),
             "id": ("instruction fetch", None), "pk": ("protection key", None),
             "ss": ("shadow stack", None), "hlat": ("HLAT", None), "sgx": ("SGX", None)}
_PF_LABELS = {"p": "P", "wr": "W", "us": "U", "rsvd": "RSVD", "id": "I", "pk": "PK",
              "ss": "SS", "hlat": "HLAT", "sgx": "SGX"}


def pf_error_flags(code: int) -> dict[str, bool]:
    """The #PF error-code flags by label (P, W, U, RSVD, I, PK, SS, HLAT, SGX)."""
    fields = bit_fields(PageFaultErrorCode)
    return {label: bool(field_value(PageFaultErrorCode, name, code))
            for name, label in _PF_LABELS.items() if name in fields}


def describe_pf_error(code: int) -> str:
    """``P=0 W=1 U=0 RSVD=0 I=0 (not present, write, supervisor)``."""
    flags = pf_error_flags(code)
    words = []
    for name, label in _PF_LABELS.items():
        on, off = _PF_WORDS[name]
        if name == "wr" and flags.get("I"):
            off = None   # a fetch is neither a read nor a write
        word = on if flags.get(label) else off
        if word:
            words.append(word)
    bits = " ".join(f"{k}={int(flags[k])}" for k in ("P", "W", "U", "RSVD", "I"))
    return f"{bits} ({', '.join(words)})"



def to_json(model, indent: Optional[int] = None) -> str:
    """JSON text of any inspector model (ints exact, enums by name, bytes as hex)."""
    return jsonview.to_json(model, indent)
