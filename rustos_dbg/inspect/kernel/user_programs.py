"""A user program's symbols: which ELF a process runs, and naming its code.

Contract. Where the debugger looks (README, "A user program's symbols"): a
process runs the program it was spawned as, and the kernel records that
name in the process's thread record (``name``, what ``threads`` prints);
the program's ELF is ``<directory of the kernel ELF>/user/<name>``
(``build/rustos.elf`` -> ``build/user/spin``, where ``scripts/build-kernel``
puts them). The file is used only when its code is the process's: the first
bytes of its executable PT_LOAD segment must equal the process's memory at
that address (through the process's CR3); a missing, unreadable, non-ELF or
different file names nothing, and user addresses stay bare hex.

:func:`process_of` finds the ring-3 process that owns an address space (a
CR3) and :func:`program_of` its program file. :class:`ProgramFiles` loads (and caches by path, size and mtime) a
program's :class:`ProgramFile`. :class:`SpaceSymbols` is a symbol table for
one address space: addresses on user pages (U/S set) are named by the
program, found on first need, and everything else (the kernel half, the
kernel's low boot code) by the kernel's symbols; so commands that see only
kernel addresses never read the thread table. It has the methods
of ``machine.symbols.SymbolTable`` that the inspectors use (``find``,
``lookup``, ``address_of``, ``containing``, ``symbolize``); :func:`space_symbols`
builds it for a machine's kernel image and a CR3.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from ...machine.errors import RustosDbgError, SymbolError
from ...machine.symbols import Symbol, SymbolTable
from ...x86.paging import translate, walk
from .common import debug_info
from .threads import Thread, read_threads

__all__ = ["ProgramFile", "ProgramFiles", "SpaceSymbols", "process_of", "program_of", "space_symbols", "program_path", "USER_HALF_END"]

#: First address past the user (lower) half of a 48-bit address space.
USER_HALF_END = 1 << 47
#: Bytes of a program's code compared with the process's memory.
CHECK_BYTES = 64
#: PT_LOAD's execute permission bit (``p_flags``).
PF_X = 1


def program_path(kernel_path: Path, name: str) -> Path:
    """Where the ELF of program ``name`` is: ``<kernel ELF's directory>/user/<name>``."""
    return Path(kernel_path).parent / "user" / name


@dataclass(frozen=True, eq=False)
class ProgramFile:
    """One user program's ELF: its symbols and the head of its code."""

    name: str
    path: Path
    symbols: SymbolTable
    code_address: int       #: virtual address of the executable segment
    code_head: bytes        #: its first bytes (up to CHECK_BYTES)

    def runs_in(self, reader, cr3: int) -> bool:
        """True when the address space ``cr3`` holds this program's code."""
        if not self.code_head:
            return False
        paddr = translate(reader.read_physical, cr3, self.code_address)
        if paddr is None:
            return False
        try:
            return reader.read_physical(paddr, len(self.code_head)) == self.code_head
        except RustosDbgError:
            return False


def _parse(name: str, path: Path) -> Optional[ProgramFile]:
    try:
        elf = ELFFile(io.BytesIO(path.read_bytes()))
        symbols = SymbolTable.from_elf(elf)
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_flags"] & PF_X and seg["p_filesz"]:
                head = seg.data()[:CHECK_BYTES]
                return ProgramFile(name, path, symbols, seg["p_vaddr"], head)
    except (OSError, ELFError, ValueError):
        return None
    return None


class ProgramFiles:
    """The user programs' ELFs next to one kernel, parsed once per file version."""

    def __init__(self, kernel_path: Path) -> None:
        """Programs of the kernel at ``kernel_path`` (see :func:`program_path`)."""
        self.kernel_path = Path(kernel_path)
        self._cache: dict[str, tuple[tuple[int, int], Optional[ProgramFile]]] = {}

    def get(self, name: str) -> Optional[ProgramFile]:
        """The program called ``name``, or None when its file is missing or not an ELF with code."""
        if not name or "/" in name or name.startswith("."):
            return None
        path = program_path(self.kernel_path, name)
        try:
            st = path.stat()
        except OSError:
            return None
        key = (st.st_size, st.st_mtime_ns)
        cached = self._cache.get(name)
        if cached is None or cached[0] != key:
            cached = (key, _parse(name, path))
            self._cache[name] = cached
        return cached[1]


def process_of(reader, dwarf, cr3: int) -> Optional[Thread]:
    """The ring-3 process whose address space is ``cr3`` (None for the kernel's own):
    a live one, else a finished one whose slot still holds that address space."""
    cr3 &= ~0xFFF
    # Through the DWARF alone (no image): rows without symbols, which would need this very lookup.
    owners = [t for t in read_threads(reader, debug_info(dwarf)).threads if t.ring == 3 and t.cr3 == cr3]
    return next((t for t in owners if t.state != "exited"), owners[0] if owners else None)


def program_of(reader, dwarf, programs: ProgramFiles, cr3: int) -> Optional[ProgramFile]:
    """The program file of the process that owns ``cr3``, when its code is that process's."""
    process = process_of(reader, dwarf, cr3)
    if process is None:
        return None
    program = programs.get(process.name)
    return program if program is not None and program.runs_in(reader, cr3 & ~0xFFF) else None


def space_symbols(reader, image, cr3: Optional[int] = None) -> "SpaceSymbols":
    """The symbols of the address space ``cr3`` (default: the reader's CR3) of the
    machine whose kernel is ``image`` (a ``KernelImage``: its symbols, DWARF and path;
    the program files are cached on it)."""
    programs = image.derived("user_programs", lambda img: ProgramFiles(img.path))
    space = (reader.reg("cr3") if cr3 is None else cr3) & ~0xFFF

    def user_page(address: int) -> bool:
        try:
            result = walk(reader.read_physical, space, address)
        except RustosDbgError:
            return False
        return result.ok and result.permissions.user

    return SpaceSymbols(image.symbols, lambda: program_of(reader, image, programs, space), user_page)


class SpaceSymbols:
    """The kernel's symbols plus those of the program that runs in one address space."""

    def __init__(self, kernel: SymbolTable, find_program: Callable[[], Optional[ProgramFile]],
                 user_page: Callable[[int], bool] = lambda address: True) -> None:
        """``find_program`` is called once, on the first address on a user page (``user_page``)
        or the first name the kernel does not have."""
        self.kernel = kernel
        self._user_page = user_page
        self._find_program = find_program
        self._program: Optional[ProgramFile] = None
        self._looked = False

    @property
    def program(self) -> Optional[ProgramFile]:
        """The address space's program (None: the kernel's own space, or no usable file)."""
        if not self._looked:
            self._looked = True
            try:
                self._program = self._find_program()
            except RustosDbgError:
                self._program = None
        return self._program

    def _user(self, address: int) -> bool:
        """True when ``address`` is on a user page of the space that a program's symbol holds."""
        return (address < USER_HALF_END and self._user_page(address) and self.program is not None
                and self.program.symbols.containing(address) is not None)

    def containing(self, address: int) -> Optional[Symbol]:
        """The symbol whose extent holds ``address``: on a user page the program's,
        elsewhere the kernel's (its low boot code too)."""
        return self.program.symbols.containing(address) if self._user(address) else self.kernel.containing(address)

    def symbolize(self, address: int) -> str:
        """``name+0xoff`` (a user address by its program's symbols), or the bare hex address."""
        return self.program.symbols.symbolize(address) if self._user(address) else self.kernel.symbolize(address)

    def find(self, name: str) -> Optional[Symbol]:
        """The kernel's symbol ``name``, else the program's."""
        sym = self.kernel.find(name)
        if sym is None and self.program is not None:
            sym = self.program.symbols.find(name)
        return sym

    def lookup(self, name: str) -> Symbol:
        """Like :meth:`find`; an unknown name is a :class:`SymbolError`."""
        sym = self.find(name)
        if sym is None:
            raise SymbolError(f"no symbol named '{name}'")
        return sym

    def address_of(self, name: str) -> Optional[int]:
        """The address of ``name``, or None."""
        sym = self.find(name)
        return None if sym is None else sym.address

    def __len__(self) -> int:
        return len(self.kernel) + (len(self.program.symbols) if self.program is not None else 0)

    def __iter__(self):
        yield from self.kernel
        if self.program is not None:
            yield from self.program.symbols
