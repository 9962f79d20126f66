"""Control-register inspector (``cregs``): CR0, CR2, CR3, CR4, CR8, EFER, RFLAGS bit by bit.

Contract: ``read_cregs(reader)`` reads the registers by name and decodes
each into a :class:`DecodedRegister` whose fields come, in bit order from
the top, from the layouts in ``rustos_dbg.structs.control`` (no bit numbers
are repeated here): every named flag with its value and meaning; reserved
or ignored fields only when non-zero.  CR3 uses the PCID layout when
CR4.PCIDE is set; CR8 is the 4-bit task-priority register; CR2 is an
address (symbolized).  ``decode_register(name, value)`` decodes one value.
A register the reader lacks is skipped.  Views: ``format_cregs``, ``to_json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ...structs.bitfields import bit_fields, field_mask
from ...structs.control import CR0, CR3, CR3_PCID, CR4, EFER, RFLAGS, RFLAGS_FIELD_NAMES
from .common import Symbolize, symbol_name, to_json

__all__ = ["RegisterField", "DecodedRegister", "ControlRegisters", "decode_register",
           "read_cregs", "format_register", "format_cregs", "to_json", "FIELD_MEANINGS"]

#: Meaning of each named field, by register (display strings).
FIELD_MEANINGS: dict[str, dict[str, str]] = {
    "cr0": {"pg": "paging", "cd": "cache disable", "nw": "not write-through",
            "am": "alignment mask", "wp": "write protect", "ne": "numeric error",
            "et": "extension type", "ts": "task switched", "em": "x87 emulation",
            "mp": "monitor coprocessor", "pe": "protection enable"},
    "cr3": {"lam_u48": "LAM 48-bit user", "lam_u57": "LAM 57-bit user",
            "address": "top-level table", "pcd": "page-level cache disable",
            "pwt": "page-level write-through", "pcid": "process-context id",
            "no_flush": "keep PCID translations"},
    "cr4": {"fred": "flexible event delivery", "lam_sup": "LAM supervisor",
            "lass": "linear-address-space separation", "uintr": "user interrupts",
            "pks": "supervisor protection keys", "cet": "control-flow enforcement",
            "pke": "user protection keys", "smap": "supervisor-mode access prevention",
            "smep": "supervisor-mode execution prevention", "kl": "Key Locker",
            "osxsave": "XSAVE enabled", "pcide": "PCID enable", "fsgsbase": "RDFSBASE etc.",
            "smxe": "SMX enable", "vmxe": "VMX enable", "la57": "5-level paging",
            "umip": "user-mode instruction prevention", "osxmmexcpt": "SIMD exceptions",
            "osfxsr": "FXSAVE/FXRSTOR", "pce": "RDPMC at CPL 3", "pge": "global pages",
            "mce": "machine-check enable", "pae": "physical address extension",
            "pse": "page size extensions", "de": "debugging extensions",
            "tsd": "RDTSC at CPL 0 only", "pvi": "protected-mode virtual interrupts",
            "vme": "virtual-8086 extensions"},
    "efer": {"nxe": "execute-disable enable", "lma": "IA-32e mode active",
             "lme": "IA-32e mode enable", "sce": "SYSCALL enable", "amd_15_12": "AMD bits"},
    "rflags": {"id": "CPUID available", "vip": "virtual interrupt pending",
               "vif": "virtual interrupt flag", "ac": "alignment check / SMAP override",
               "vm": "virtual-8086 mode", "rf": "resume flag", "nt": "nested task",
               "iopl": "I/O privilege level", "of": "overflow", "df": "direction",
               "if_": "interrupts enabled", "tf": "trap (single step)", "sf": "sign",
               "zf": "zero", "af": "auxiliary carry", "pf": "parity", "cf": "carry",
               "reserved_1": "reserved, always 1"},
}

_LAYOUTS = {"cr0": CR0, "cr3": CR3, "cr4": CR4, "efer": EFER, "rflags": RFLAGS}
_ALWAYS_SHOWN = {"address", "pcid", "iopl"}


@dataclass(frozen=True)
class RegisterField:
    """One field of a register value."""

    name: str          #: display name: ``PG``, ``IOPL``, ``reserved_63_32``...
    bit: int           #: lowest bit
    width: int
    value: int
    meaning: str


@dataclass(frozen=True)
class DecodedRegister:
    """A register value and its fields (most significant first)."""

    name: str
    value: int
    fields: tuple[RegisterField, ...]
    note: Optional[str] = None

    @property
    def set_flags(self) -> tuple[str, ...]:
        """Names of the one-bit fields that are set."""
        return tuple(f.name for f in self.fields if f.width == 1 and f.value)


@dataclass(frozen=True)
class ControlRegisters:
    """All decoded control registers, in display order."""

    registers: tuple[DecodedRegister, ...]

    def get(self, name: str) -> Optional[DecodedRegister]:
        """The register called ``name`` (``cr0``...)."""
        for r in self.registers:
            if r.name == name:
                return r
        return None


def _label(reg: str, field: str) -> str:
    if reg == "rflags":
        return RFLAGS_FIELD_NAMES.get(field, field)
    return field if field.startswith(("reserved", "ignored", "amd")) else field.upper()


def decode_register(name: str, value: int, pcide: bool = False,
                    symbolize: Optional[Symbolize] = None) -> DecodedRegister:
    """Decode ``value`` of register ``name`` (cr0, cr2, cr3, cr4, cr8, efer, rflags)."""
    name = name.lower()
    if name == "cr2":
        sym = symbol_name(symbolize, value)
        note = "last page-fault linear address" + (f" <{sym}>" if sym else "")
        return DecodedRegister(name, value, (), note)
    if name == "cr8":
        return DecodedRegister(name, value, (RegisterField("TPR", 0, 4, value & 0xF,
                                                           "task priority (blocks IRQ classes <=)"),))
    layout = CR3_PCID if name == "cr3" and pcide else _LAYOUTS[name]
    meanings = FIELD_MEANINGS[name]
    fields = []
    for field, bf in bit_fields(layout).items():
        raw = (value >> bf.shift) & ((1 << bf.width) - 1)
        known = field in meanings
        if not known and not raw:
            continue   # reserved/ignored and clear
        if bf.width > 1 and not raw and field not in _ALWAYS_SHOWN:
            continue
        fields.append(RegisterField(_label(name, field), bf.shift, bf.width, raw,
                                    meanings.get(field, "reserved, non-zero!"
                                                 if field.startswith("reserved") else "ignored")))
    note = None
    if name == "cr3":
        note = f"PML4 table at physical {value & field_mask(layout, 'address'):#x}"
    return DecodedRegister(name, value, tuple(fields), note)


def read_cregs(reader, symbolize: Optional[Symbolize] = None) -> ControlRegisters:
    """CR0, CR2, CR3, CR4, CR8, EFER and RFLAGS of the reader, decoded."""
    values = {}
    for name in ("cr0", "cr2", "cr3", "cr4", "cr8", "efer", "rflags"):
        try:
            values[name] = reader.reg(name)
        except KeyError:
            continue
    pcide = bool(values.get("cr4", 0) & field_mask(CR4, "pcide"))
    return ControlRegisters(tuple(decode_register(n, v, pcide, symbolize)
                                  for n, v in values.items()))


def format_register(r: DecodedRegister, verbose: bool = False) -> str:
    """``CR0 = 0x80010011  PG WP ET PE`` (``verbose``: one line per field with its meaning)."""
    head = f"{r.name.upper():<6} = {r.value:#018x}"
    if not verbose:
        parts = []
        for f in r.fields:
            if f.name.startswith(("reserved", "ignored")) and not f.meaning.endswith("!"):
                continue
            if f.width == 1:
                if f.value:
                    parts.append(f.name)
            elif f.name != "ADDRESS":
                parts.append(f"{f.name}={f.value:#x}" if f.value > 9 else f"{f.name}={f.value}")
        text = f"{head}  {' '.join(parts)}".rstrip()
        return f"{text}  ({r.note})" if r.note else text
    lines = [head + (f"  ({r.note})" if r.note else "")]
    for f in r.fields:
        bits = f"bit {f.bit}" if f.width == 1 else f"bits {f.bit + f.width - 1}:{f.bit}"
        lines.append(f"    {bits:<11} {f.name:<14} = {f.value:#x}  {f.meaning}")
    return "\n".join(lines)


def format_cregs(regs: ControlRegisters, verbose: bool = True) -> str:
    """All registers; ``verbose`` lists every field bit by bit."""
    return "\n".join(format_register(r, verbose) for r in regs.registers)
