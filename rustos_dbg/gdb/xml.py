"""The target description GDB reads (``qXfer:features:read:target.xml``).

Contract: :data:`REGISTERS` lists every register the stub serves, in the
order (= GDB's remote register number) and sizes of :func:`target_xml`:

* ``org.gnu.gdb.i386.core`` exactly as GDB's own ``64bit-core.xml``
  (rax..r15, rip, eflags, the six selectors, st0-st7 and the x87 control
  registers; GDB 13 refuses a core feature without the x87 part);
* ``org.gnu.gdb.i386.sse`` (xmm0-xmm15, mxcsr) and
  ``org.gnu.gdb.i386.segments`` (fs_base, gs_base) as GDB's files;
* ``org.gnu.gdb.i386.sys``: cr0, cr2, cr3, cr4, cr8, efer and k_gs_base,
  the names and flag types QEMU's gdbstub gives them (GDB knows no such
  feature and adds its registers as extra ones, so ``info registers cr3``
  works as with QEMU);
* ``org.rustos.x86-64.tables``: the descriptor-table registers, which GDB
  has no names for: gdtr_base/limit, idtr_base/limit, ldtr, tr,
  tr_base/limit.

GDB lists the system and table registers in plain ``info registers``, as
with QEMU (GDB's i386 code decides register groups itself and puts every
integer register in ``general``; a ``group`` attribute would be ignored).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reg:
    """One register: ``name``, size in bits, GDB type, feature and group."""

    name: str
    bits: int
    type: str
    feature: str
    group: str | None = None

    @property
    def size(self) -> int:
        """Size in bytes."""
        return self.bits // 8


CORE, SSE, SEGMENTS = "org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.segments"
SYS, TABLES = "org.gnu.gdb.i386.sys", "org.rustos.x86-64.tables"

GPRS = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
        "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")
SELECTORS = ("cs", "ss", "ds", "es", "fs", "gs")
X87_CONTROL = ("fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop")


def _registers() -> tuple[Reg, ...]:
    regs = [Reg(n, 64, "data_ptr" if n in ("rbp", "rsp") else "int64", CORE) for n in GPRS]
    regs += [Reg("rip", 64, "code_ptr", CORE), Reg("eflags", 32, "i386_eflags", CORE)]
    regs += [Reg(n, 32, "int32", CORE) for n in SELECTORS]
    regs += [Reg(f"st{i}", 80, "i387_ext", CORE) for i in range(8)]
    regs += [Reg(n, 32, "int", CORE, "float") for n in X87_CONTROL]
    regs += [Reg(f"xmm{i}", 128, "vec128", SSE) for i in range(16)]
    regs += [Reg("mxcsr", 32, "i386_mxcsr", SSE, "vector")]
    regs += [Reg("fs_base", 64, "int", SEGMENTS), Reg("gs_base", 64, "int", SEGMENTS)]
    regs += [Reg("cr0", 64, "x64_cr0", SYS), Reg("cr2", 64, "int64", SYS),
             Reg("cr3", 64, "x64_cr3", SYS), Reg("cr4", 64, "x64_cr4", SYS),
             Reg("cr8", 64, "int64", SYS), Reg("efer", 64, "x64_efer", SYS),
             Reg("k_gs_base", 64, "int64", SYS)]
    regs += [Reg("gdtr_base", 64, "data_ptr", TABLES), Reg("gdtr_limit", 32, "int32", TABLES),
             Reg("idtr_base", 64, "data_ptr", TABLES), Reg("idtr_limit", 32, "int32", TABLES),
             Reg("ldtr", 32, "int32", TABLES), Reg("tr", 32, "int32", TABLES),
             Reg("tr_base", 64, "data_ptr", TABLES), Reg("tr_limit", 32, "int32", TABLES)]
    return tuple(regs)


#: Every register, in target-description order.
REGISTERS: tuple[Reg, ...] = _registers()
#: Register number by name.
INDEX: dict[str, int] = {r.name: i for i, r in enumerate(REGISTERS)}
#: Byte offset of each register in the ``g`` packet's block.
OFFSETS: tuple[int, ...] = tuple(sum(r.size for r in REGISTERS[:i]) for i in range(len(REGISTERS)))
#: Size of the ``g`` packet's register block in bytes.
BLOCK_SIZE = sum(r.size for r in REGISTERS)


def _flags(ident: str, size: int, fields: list[tuple[str, int, int]]) -> str:
    lines = [f'    <flags id="{ident}" size="{size}">']
    for name, start, end in fields:
        kind = "bool" if start == end else ("uint32" if size == 4 else "uint64")
        lines.append(f'      <field name="{name}" start="{start}" end="{end}" type="{kind}"/>')
    lines.append("    </flags>")
    return "\n".join(lines)


def _bits(names: str, size: int) -> list[tuple[str, int, int]]:
    """``"PE:0 MP:1 IOPL:12-13"`` as (name, start, end) fields."""
    out = []
    for item in names.split():
        name, _, where = item.partition(":")
        start, _, end = where.partition("-")
        out.append((name, int(start), int(end or start)))
    return out


_TYPES = {
    CORE: [
        _flags("i386_eflags", 4, _bits("CF:0 :1 PF:2 AF:4 ZF:6 SF:7 TF:8 IF:9 DF:10 OF:11 NT:14 RF:16 "
                                       "VM:17 AC:18 VIF:19 VIP:20 ID:21", 4)),
    ],
    SSE: [
        '    <vector id="v4f" type="ieee_single" count="4"/>',
        '    <vector id="v2d" type="ieee_double" count="2"/>',
        '    <vector id="v16i8" type="int8" count="16"/>',
        '    <vector id="v8i16" type="int16" count="8"/>',
        '    <vector id="v4i32" type="int32" count="4"/>',
        '    <vector id="v2i64" type="int64" count="2"/>',
        '    <union id="vec128">\n'
        '      <field name="v4_float" type="v4f"/>\n'
        '      <field name="v2_double" type="v2d"/>\n'
        '      <field name="v16_int8" type="v16i8"/>\n'
        '      <field name="v8_int16" type="v8i16"/>\n'
        '      <field name="v4_int32" type="v4i32"/>\n'
        '      <field name="v2_int64" type="v2i64"/>\n'
        '      <field name="uint128" type="uint128"/>\n'
        '    </union>',
        _flags("i386_mxcsr", 4, _bits("IE:0 DE:1 ZE:2 OE:3 UE:4 PE:5 DAZ:6 IM:7 DM:8 ZM:9 OM:10 UM:11 "
                                      "PM:12 FZ:15", 4)),
    ],
    SYS: [
        _flags("x64_cr0", 8, _bits("PE:0 MP:1 EM:2 TS:3 ET:4 NE:5 WP:16 AM:18 NW:29 CD:30 PG:31", 8)),
        _flags("x64_cr3", 8, [("PCID", 0, 11), ("PDBR", 12, 63)]),
        _flags("x64_cr4", 8, _bits("VME:0 PVI:1 TSD:2 DE:3 PSE:4 PAE:5 MCE:6 PGE:7 PCE:8 OSFXSR:9 "
                                   "OSXMMEXCPT:10 UMIP:11 LA57:12 VMXE:13 SMXE:14 FSGSBASE:16 PCIDE:17 "
                                   "OSXSAVE:18 SMEP:20 SMAP:21 PKE:22", 8)),
        _flags("x64_efer", 8, _bits("SCE:0 LME:8 LMA:10 NXE:11 SVME:12 LMSLE:13 FFXSR:14 TCE:15", 8)),
    ],
}


def _feature(name: str) -> str:
    lines = [f'  <feature name="{name}">', *_TYPES.get(name, [])]
    for reg in REGISTERS:
        if reg.feature == name:
            group = f' group="{reg.group}"' if reg.group else ""
            lines.append(f'    <reg name="{reg.name}" bitsize="{reg.bits}" type="{reg.type}"'
                         f' regnum="{INDEX[reg.name]}"{group}/>')
    lines.append("  </feature>")
    return "\n".join(lines)


def target_xml() -> str:
    """The whole description, one document (no ``xi:include``)."""
    features = "\n".join(_feature(f) for f in (CORE, SSE, SEGMENTS, SYS, TABLES))
    return ('<?xml version="1.0"?>\n<!DOCTYPE target SYSTEM "gdb-target.dtd">\n<target version="1.0">\n'
            "  <architecture>i386:x86-64</architecture>\n" + features + "\n</target>\n")


#: The description, built once.
TARGET_XML = target_xml()
