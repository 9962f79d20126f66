"""Model-specific registers that the debugger reads and writes by name.

Contract: :data:`MSRS` maps each name (as users, the REPL and GDB's target
description write it) to its MSR index, Intel SDM Vol. 4 Table 2-2. The one
table for the machine's register access, its CPU snapshots and GDB.
"""

from __future__ import annotations

from ..structs.control import IA32_EFER_MSR

IA32_STAR = 0xC000_0081
IA32_LSTAR = 0xC000_0082
IA32_CSTAR = 0xC000_0083
IA32_FMASK = 0xC000_0084
IA32_FS_BASE = 0xC000_0100
IA32_GS_BASE = 0xC000_0101
IA32_KERNEL_GS_BASE = 0xC000_0102
IA32_TSC_AUX = 0xC000_0103
IA32_SYSENTER_CS = 0x174
IA32_SYSENTER_ESP = 0x175
IA32_SYSENTER_EIP = 0x176
IA32_PAT = 0x277

#: Name -> MSR index, in display order.
MSRS: dict[str, int] = {
    "efer": IA32_EFER_MSR,
    "fs_base": IA32_FS_BASE,
    "gs_base": IA32_GS_BASE,
    "k_gs_base": IA32_KERNEL_GS_BASE,
    "star": IA32_STAR,
    "lstar": IA32_LSTAR,
    "cstar": IA32_CSTAR,
    "fmask": IA32_FMASK,
    "sysenter_cs": IA32_SYSENTER_CS,
    "sysenter_esp": IA32_SYSENTER_ESP,
    "sysenter_eip": IA32_SYSENTER_EIP,
    "pat": IA32_PAT,
}
