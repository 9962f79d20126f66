"""``monitor info registers`` and ``monitor xp``, in QEMU's monitor text layout.

Contract: :func:`read_qemu_registers` (a reader with ``reg(name)``,
``read_virtual`` and ``halted``: the machine) returns a frozen
:class:`QemuRegisters`; :func:`format_qemu_registers` renders it line for line
as QEMU's x86-64 ``info registers`` does (``CPU#0``, ``RAX=``..``R15=``, ``RIP= RFL=
[flags] CPL= II= A20= SMM= HLT=``, ``ES =``..``GS =``, ``LDT=``, ``TR =``,
``GDT=``, ``IDT=``, ``CR0=``..``CR4=``, ``DR0``-``DR7``, ``EFER=``), the lines
gdb extensions such as gef parse. The machine keeps no hidden cache for
CS..GS: their base, limit and attribute dword are read from the GDT entry the
selector names (FS/GS base from the MSRs; a null selector: all zero); TR and
LDTR come from the CPU's cache (an LDTR never loaded shows its reset state). Debug registers are not emulated: they show
their reset values (DR6 ``ffff0ff0``, DR7 ``400``). The FPU/SSE lines QEMU
adds after EFER are left out.

:func:`format_xp` renders bytes read at a physical address as QEMU's ``xp/FMT``
(formats x, d, u, o, c; units b, h, w, g; 8 bytes a line for bytes, else 16).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["SegmentCache", "QemuRegisters", "read_qemu_registers", "format_qemu_registers", "format_xp",
           "parse_xp_format"]

_GPR = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")
# Attribute dword bits (SDM Vol. 3A §3.4.5, the descriptor's high dword).
_A, _RW, _CE, _CS, _S, _P, _L, _B = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12, 1 << 15, 1 << 21, 1 << 22
_SYSTEM64 = ("<hiword>", "Reserved", "LDT", "Reserved", "Reserved", "Reserved", "Reserved", "Reserved",
             "Reserved", "TSS64-avl", "Reserved", "TSS64-busy", "CallGate64", "Reserved", "IntGate64", "TrapGate64")
_FLAGS = ((10, "D"), (11, "O"), (7, "S"), (6, "Z"), (4, "A"), (2, "P"), (0, "C"))


@dataclass(frozen=True)
class SegmentCache:
    """A segment as QEMU shows it: selector, base, limit, attribute dword."""

    name: str
    selector: int
    base: int
    limit: int
    flags: int


@dataclass(frozen=True)
class QemuRegisters:
    """The register state ``info registers`` prints."""

    gpr: tuple[int, ...]
    rip: int
    rflags: int
    cpl: int
    halted: bool
    segments: tuple[SegmentCache, ...]    #: ES, CS, SS, DS, FS, GS
    ldt: SegmentCache
    tr: SegmentCache
    gdt: tuple[int, int]
    idt: tuple[int, int]
    cr: tuple[int, int, int, int]         #: CR0, CR2, CR3, CR4
    dr: tuple[int, ...]                   #: DR0-DR3, DR6, DR7
    efer: int


def _from_gdt(reader, name: str, selector: int, gdt_base: int, gdt_limit: int) -> SegmentCache:
    base = limit = flags = 0
    if selector >> 2 and not selector & 4 and (selector | 7) <= gdt_limit:
        raw = int.from_bytes(reader.read_virtual(gdt_base + (selector & ~7), 8), "little")
        low, high = raw & 0xFFFFFFFF, raw >> 32
        base = (low >> 16) | (high & 0xFF) << 16 | (high & 0xFF000000)
        limit = (low & 0xFFFF) | (high & 0x000F0000)
        if high & (1 << 23):
            limit = limit << 12 | 0xFFF
        flags = high
    if name in ("fs", "gs"):
        base = reader.reg(f"{name}_base")
    return SegmentCache(name, selector, base, limit, flags)


#: LDTR after reset (SDM Vol. 3A §9.1.1, Table 9-1: limit FFFFH, present, type LDT), which
#: QEMU shows for a kernel that never loads an LDT; Unicorn reports it as all zero.
_LDTR_RESET = (0, 0, 0xFFFF, 0x8200)


def _cached(name: str, value) -> SegmentCache:
    selector, base, limit, flags = value
    if name == "ldt" and not any(value):
        selector, base, limit, flags = _LDTR_RESET
    return SegmentCache(name, selector, base, limit, flags)


def read_qemu_registers(reader) -> QemuRegisters:
    """The registers of ``reader`` (the machine), decoded as QEMU keeps them."""
    _, gdt_base, gdt_limit, _ = reader.reg("gdtr")
    _, idt_base, idt_limit, _ = reader.reg("idtr")
    segments = tuple(_from_gdt(reader, n, reader.reg(n), gdt_base, gdt_limit) for n in ("es", "cs", "ss", "ds", "fs", "gs"))
    return QemuRegisters(
        gpr=tuple(reader.reg(n) for n in _GPR), rip=reader.reg("rip"), rflags=reader.reg("rflags"),
        cpl=reader.reg("cs") & 3, halted=bool(getattr(reader, "halted", False)), segments=segments,
        ldt=_cached("ldt", reader.reg("ldtr")), tr=_cached("tr", reader.reg("tr")),
        gdt=(gdt_base, gdt_limit), idt=(idt_base, idt_limit),
        cr=tuple(reader.reg(n) for n in ("cr0", "cr2", "cr3", "cr4")),
        dr=(0, 0, 0, 0, 0xFFFF0FF0, 0x400), efer=reader.reg("efer"))


def _segment_line(s: SegmentCache, label: str, long_mode: bool) -> str:
    line = f"{label:<3}={s.selector & 0xFFFF:04x} {s.base:016x} {s.limit & 0xFFFFFFFF:08x} {s.flags & 0x00FFFF00:08x}"
    if not s.flags & _P:
        return line
    line += f" DPL={(s.flags >> 13) & 3} "
    if s.flags & _S:
        if s.flags & _CS:
            line += ("CS64" if s.flags & _L else "CS32" if s.flags & _B else "CS16")
            line += f" [{'C' if s.flags & _CE else '-'}{'R' if s.flags & _RW else '-'}"
        else:
            line += "DS  " if s.flags & _B or long_mode else "DS16"
            line += f" [{'E' if s.flags & _CE else '-'}{'W' if s.flags & _RW else '-'}"
        return line + f"{'A' if s.flags & _A else '-'}]"
    return line + _SYSTEM64[(s.flags >> 8) & 15]


def format_qemu_registers(r: QemuRegisters) -> str:
    """QEMU's ``info registers`` text (64-bit layout)."""
    names = ("RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP", "R8 ", "R9 ", "R10", "R11",
             "R12", "R13", "R14", "R15")
    lines = ["CPU#0"]
    lines += [" ".join(f"{names[i + j]}={r.gpr[i + j]:016x}" for j in range(4)) for i in range(0, 16, 4)]
    flags = "".join(ch if r.rflags & (1 << bit) else "-" for bit, ch in _FLAGS)
    lines.append(f"RIP={r.rip:016x} RFL={r.rflags & 0xFFFFFFFF:08x} [{flags}] CPL={r.cpl} II=0 A20=1 SMM=0 "
                 f"HLT={int(r.halted)}")
    long_mode = bool(r.efer & (1 << 10))
    lines += [_segment_line(s, s.name.upper(), long_mode) for s in r.segments]
    lines.append(_segment_line(r.ldt, "LDT", long_mode))
    lines.append(_segment_line(r.tr, "TR", long_mode))
    lines.append(f"GDT=     {r.gdt[0]:016x} {r.gdt[1]:08x}")
    lines.append(f"IDT=     {r.idt[0]:016x} {r.idt[1]:08x}")
    cr0, cr2, cr3, cr4 = r.cr
    lines.append(f"CR0={cr0 & 0xFFFFFFFF:08x} CR2={cr2:016x} CR3={cr3:016x} CR4={cr4 & 0xFFFFFFFF:08x}")
    lines.append("".join(f"DR{i}={r.dr[i]:016x} " for i in range(4)))
    lines.append(f"DR6={r.dr[4]:016x} DR7={r.dr[5]:016x}")
    lines.append(f"EFER={r.efer:016x}")
    return "\n".join(lines)


def parse_xp_format(fmt: str) -> tuple[int, str, int]:
    """``/[N][FMT][UNIT]`` (any order after N, as QEMU takes it) -> (count, format, unit bytes);
    a ValueError with one line for anything else."""
    text = fmt.lstrip("/")
    digits = len(text) - len(text.lstrip("0123456789"))
    count = int(text[:digits]) if digits else 1
    form, unit = "x", 4
    for ch in text[digits:]:
        if ch in "xduoc":
            form = ch
        elif ch in "bhwg":
            unit = {"b": 1, "h": 2, "w": 4, "g": 8}[ch]
        else:
            raise ValueError(f"xp: unknown format or unit '{ch}' (formats x d u o c, units b h w g)")
    if form == "c":
        unit = 1
    return count, form, unit


def format_xp(address: int, data: bytes, form: str, unit: int) -> str:
    """The bytes ``data`` read at physical ``address``, as QEMU's ``xp`` prints them."""
    line_size = 8 if unit == 1 else 16
    digits = {"o": math.ceil(unit * 8 / 3), "u": math.ceil(unit * 8 * 10 / 33),
              "d": math.ceil(unit * 8 * 10 / 33)}.get(form, unit * 2)
    lines = []
    for start in range(0, len(data), line_size):
        chunk = data[start:start + line_size]
        items = []
        for i in range(0, len(chunk) - unit + 1, unit):
            v = int.from_bytes(chunk[i:i + unit], "little")
            if form == "x":
                items.append(f"0x{v:0{digits}x}")
            elif form == "o":
                items.append(f"{('0' + format(v, 'o')) if v else '0':>{digits}}")
            elif form == "u":
                items.append(f"{v:>{digits}}")
            elif form == "d":
                # QEMU loads units below 8 bytes zero-extended into a 64-bit signed value.
                items.append(f"{v - (1 << 64) if unit == 8 and v >> 63 else v:>{digits}}")
            else:
                items.append(f"'{chr(v)}'" if 32 <= v < 127 else f"'\\x{v:02x}'")
        lines.append(f"{address + start:016x}: " + " ".join(items))
    return "\n".join(lines)
