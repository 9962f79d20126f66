"""Shared pieces of the kernel inspectors: DWARF access, kernel layouts, problems, safe reads, JSON.

Contract: :func:`debug_info` accepts a ``DebugInfo``, a ``KernelImage`` (the
debugged machine's ``machine.image``: its one parse of the ELF) or an ELF
path; there is no default kernel (None is a one-line ``DwarfError``). :func:`locked_static` reads an
``IrqMutex<T>`` static in one guest read and returns its lock flag and its
``T`` (the static's address and ``data`` offset come from DWARF); statics are
read through :class:`ImageReader`, so they are readable even before the
kernel's page tables map the image, and a guest error there propagates.
:func:`kernel_part` parses the kernel-owned ``#[repr(C)]`` part of such a
value with its ``construct`` layout (:mod:`rustos_dbg.structs.kernel`) from
the bytes already read, after checking that the layout's fields are the
DWARF type's (names, offsets, sizes): a kernel built with other layouts
raises ``DwarfError`` instead of being misread. :func:`magic_problem` checks a
magic and version, of a parsed layout or of a DWARF value.
:func:`static` of a static the kernel lacks raises :class:`NotThisKernel`, whose
one line names the missing RustOS part and symbol (inspectors work on any kernel
and say so when it is not RustOS).
:class:`Problem` names one inconsistency found in guest data; everything
reached through pointers is read with :func:`try_u64` / :func:`try_bytes`,
which return None instead of raising. :func:`to_json` turns a model
(frozen dataclasses, plus the properties listed in ``JSON_EXTRA``) into a
JSON string.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .. import jsonview
from ...dwarf import DebugInfo, DwarfError, Type, Value, load
from ...machine.errors import GuestMemoryError
from ...x86.layout import IMAGE_WINDOW, KERNEL_BASE
from ...structs.kernel import KernelMagic, header_problems, magic_text  # noqa: F401 (magic_text: re-exported)

#: Virtual base of the kernel image (docs/kernel-structures.md §1) and the span it may use.
MAGICS = {magic.name: int(magic) for magic in KernelMagic}


def debug_info(dwarf) -> DebugInfo:
    """``dwarf`` as a ``DebugInfo``: itself, or the debug info of a ``KernelImage`` or ELF path."""
    if isinstance(dwarf, DebugInfo):
        return dwarf
    return load(dwarf)


@dataclass(frozen=True)
class Problem:
    """One inconsistency: where (a list, ``holes``, a field...), the node's index
    and address when it is a node, why, and the node whose pointer led there."""

    where: str
    reason: str
    index: int | None = None
    address: int | None = None
    via: int | None = None

    def __str__(self) -> str:
        text = self.where
        if self.index is not None:
            text += f" node {self.index}"
        if self.address is not None:
            text += f" at {self.address:#x}"
        text += f": {self.reason}"
        if self.via is not None:
            text += f" (reached from the node at {self.via:#x})"
        return text


def magic_problem(where: str, value, expected: str, version: int | None = None) -> list[Problem]:
    """Problems with a structure's ``magic``/``version`` fields (empty when right);
    ``value`` is a parsed layout or a DWARF :class:`Value`, ``expected`` a magic's name;
    ``version`` defaults to the one the layouts describe (``LAYOUT_VERSIONS``, 1)."""
    return [Problem(where, reason) for reason in header_problems(value, expected, version)]


class ImageReader:
    """A reader that also reaches the kernel image before paging maps it: a virtual
    read at ``KERNEL_BASE`` or above that fails is retried at ``address - KERNEL_BASE``
    physical (docs/kernel-structures.md §1). Other reads pass through."""

    def __init__(self, reader) -> None:
        self.reader = reader

    def read_virtual(self, addr: int, n: int) -> bytes:
        try:
            return self.reader.read_virtual(addr, n)
        except GuestMemoryError:
            if KERNEL_BASE <= addr < KERNEL_BASE + IMAGE_WINDOW:
                return self.reader.read_physical(addr - KERNEL_BASE, n)
            raise

    def read_physical(self, addr: int, n: int) -> bytes:
        return self.reader.read_physical(addr, n)

    def reg(self, name: str):
        return self.reader.reg(name)


#: What each RustOS static is, for the message of a kernel that lacks it.
RUSTOS_PARTS = {
    "RUSTOS_HEAP": "heap", "RUSTOS_EXECUTOR": "executor", "RUSTOS_BOOT_INFO": "boot info",
    "RUSTOS_THREADS": "thread table", "RUSTOS_SYSCALLS": "system call table",
    "RUSTOS_FRAMES": "frame allocator", "RUSTOS_TRAP": "trap record", "RUSTOS_IDT": "IDT",
    "RUSTOS_TSS": "TSS", "RUSTOS_GDT": "GDT", "RUSTOS_MAIN_STACK": "kernel stacks",
}


class NotThisKernel(DwarfError):
    """The kernel has no such RustOS structure (another kernel, e.g. a Limine one):
    ``this kernel has no RustOS heap (symbol RUSTOS_HEAP not found)``."""

    def __init__(self, name: str) -> None:
        super().__init__(f"this kernel has no RustOS {RUSTOS_PARTS.get(name, name)} (symbol {name} not found)")
        self.symbol = name


def require(info: DebugInfo, name: str) -> None:
    """Raises :class:`NotThisKernel` unless the kernel has the static ``name``."""
    if info.find_variable(name) is None:
        raise NotThisKernel(name)


def static(reader, info: DebugInfo, name: str) -> Value:
    """The static ``name``, loaded from one read (through :class:`ImageReader`); a
    :class:`NotThisKernel` when the kernel has none."""
    require(info, name)
    return info.value(ImageReader(reader), name).load()


def locked_static(reader, info: DebugInfo, name: str) -> tuple[Value, bool, Value]:
    """(the ``IrqMutex<T>`` static, whether it is locked, its ``T`` loaded from one read)."""
    mutex = static(reader, info, name)
    return mutex, mutex["locked"].bool(), mutex["data"]["value"]


@lru_cache(maxsize=64)
def _layout_mismatch(typ: Type, layout) -> str | None:
    """Why ``layout`` is not the leading fields of the DWARF struct ``typ`` (None when it is)."""
    members, offset = typ.members, 0
    for i, sc in enumerate(layout.subcons):
        size = sc.sizeof()
        if i >= len(members):
            return f"the DWARF has no field '{sc.name}'"
        m = members[i]
        if (m.name, m.offset, m.size) != (sc.name, offset, size):
            return (f"field '{sc.name}' is at {offset} ({size} bytes) in the layout, but the DWARF has "
                    f"'{m.name}' at {m.offset} ({m.size} bytes)")
        offset += size
    n = len(layout.subcons)
    end = members[n].offset if len(members) > n else typ.size
    if offset != end:
        return f"the layout ends at {offset}, the DWARF's fields at {end}"
    return None


def kernel_part(value: Value, layout):
    """The kernel-owned ``#[repr(C)]`` part of ``value`` (its leading fields), parsed with
    ``layout`` from ``value``'s bytes (no further read when ``value`` is loaded)."""
    problem = _layout_mismatch(value.type, layout)
    if problem is not None:
        raise DwarfError(f"rustos_dbg.structs.kernel does not describe {value.type.name} of this kernel: {problem}")
    return layout.parse(value.raw()[:layout.sizeof()])


def try_bytes(reader, address: int, n: int) -> bytes | None:
    """``n`` bytes at a virtual address, or None when unreadable or not canonical."""
    if not 0 <= address < 1 << 64:
        return None
    try:
        return bytes(reader.read_virtual(address, n))
    except (GuestMemoryError, ValueError, OverflowError):
        return None


def try_u64(reader, address: int) -> int | None:
    """The u64 at a virtual address, or None when unreadable."""
    data = try_bytes(reader, address, 8)
    return None if data is None or len(data) != 8 else int.from_bytes(data, "little")


def to_json(model, indent: int | None = 2) -> str:
    """A model as a JSON string (addresses as integers)."""
    return jsonview.to_json(model, indent)


def human_bytes(n: int) -> str:
    """``262144`` -> ``256 KiB``; exact multiples only, else bytes."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} B"
