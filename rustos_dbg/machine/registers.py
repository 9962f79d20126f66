"""Register names, as users and gdb write them, mapped to Unicorn's ids.

General-purpose, segment, control, descriptor-table and model-specific
registers are all reached by name through :func:`read` and :func:`write`.
Descriptor-table registers read as ``(selector, base, limit, flags)`` tuples.
"""

from __future__ import annotations

from unicorn import x86_const as X

from ..x86.msr import MSRS

GPR = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
       "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")
SEGMENTS = ("cs", "ss", "ds", "es", "fs", "gs")
CONTROL = ("cr0", "cr2", "cr3", "cr4", "cr8")
TABLES = ("gdtr", "idtr", "tr", "ldtr")


_IDS = {name: getattr(X, f"UC_X86_REG_{name.upper()}") for name in GPR + SEGMENTS + CONTROL + TABLES}
_IDS.update(rip=X.UC_X86_REG_RIP, rflags=X.UC_X86_REG_RFLAGS, eflags=X.UC_X86_REG_EFLAGS)

#: Every name :func:`read` accepts.
NAMES = tuple(_IDS) + tuple(MSRS)


def read(uc, name: str):
    """Value of register ``name`` (a tuple for descriptor-table registers)."""
    name = name.lower()
    if name in MSRS:
        return uc.reg_read(X.UC_X86_REG_MSR, MSRS[name])
    if name not in _IDS:
        raise KeyError(name)
    return uc.reg_read(_IDS[name])


def write(uc, name: str, value) -> None:
    """Sets register ``name``."""
    name = name.lower()
    if name in MSRS:
        uc.reg_write(X.UC_X86_REG_MSR, (MSRS[name], value))
        return
    if name not in _IDS:
        raise KeyError(name)
    uc.reg_write(_IDS[name], value)


def snapshot(uc) -> dict[str, int]:
    """All general-purpose registers, rip, rflags and segment selectors."""
    return {name: uc.reg_read(_IDS[name]) for name in GPR + ("rip", "rflags") + SEGMENTS}
