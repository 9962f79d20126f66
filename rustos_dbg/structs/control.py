"""Control registers, IA32_EFER and RFLAGS as 64-bit bit-field layouts.

Contract: each layout describes the 8-byte little-endian value of the
register; use :func:`rustos_dbg.structs.bitfields.parse_int` /
``build_int`` to go between a register value and a decoded container, and
``field_mask`` to get a single flag's mask.  Reserved bits are kept as fields
so that ``build(parse(b)) == b`` for any 8 bytes.  Section numbers follow the
numbering explained in :mod:`rustos_dbg.structs`.
"""

from __future__ import annotations

from construct import BitsInteger, BitStruct, ByteSwapped, Flag

__all__ = ["CR0", "CR3", "CR3_PCID", "CR4", "EFER", "IA32_EFER_MSR", "RFLAGS",
           "RFLAGS_FIELD_NAMES"]

#: MSR index of IA32_EFER (Intel SDM Vol. 4 Table 2-2; Vol. 3A §2.2.1).
IA32_EFER_MSR = 0xC0000080

#: CR0, Intel SDM Vol. 3A §2.5 Control Registers (Figure 2-7).
CR0 = ByteSwapped(BitStruct(
    "reserved_63_32" / BitsInteger(32),
    "pg" / Flag,                        # bit 31, paging
    "cd" / Flag,                        # bit 30, cache disable
    "nw" / Flag,                        # bit 29, not write-through
    "reserved_28_19" / BitsInteger(10),
    "am" / Flag,                        # bit 18, alignment mask
    "reserved_17" / BitsInteger(1),
    "wp" / Flag,                        # bit 16, write protect
    "reserved_15_6" / BitsInteger(10),
    "ne" / Flag,                        # bit 5, numeric error
    "et" / Flag,                        # bit 4, extension type
    "ts" / Flag,                        # bit 3, task switched
    "em" / Flag,                        # bit 2, emulation
    "mp" / Flag,                        # bit 1, monitor coprocessor
    "pe" / Flag,                        # bit 0, protection enable
))

#: CR3 with CR4.PCIDE = 0, Intel SDM Vol. 3A §4.5 Table 4-12 (and §2.5);
#: bits 62:61 are the LAM_U48/LAM_U57 enables of linear-address masking
#: (Vol. 3A Chapter 4 "Linear-Address Pre-Processing" in the 2025 edition).
#: Address bits at and above MAXPHYADDR are reserved.
CR3 = ByteSwapped(BitStruct(
    "reserved_63" / BitsInteger(1),
    "lam_u48" / Flag,                   # bit 62
    "lam_u57" / Flag,                   # bit 61
    "reserved_60_52" / BitsInteger(9),
    "address" / BitsInteger(40),        # bits 51:12 of the PML4 (or PML5) table
    "ignored_11_5" / BitsInteger(7),
    "pcd" / Flag,                       # bit 4
    "pwt" / Flag,                       # bit 3
    "ignored_2_0" / BitsInteger(3),
))

#: CR3 with CR4.PCIDE = 1, Intel SDM Vol. 3A §4.5 Table 4-13: bits 11:0 hold
#: the PCID; bit 63 is only meaningful on MOV to CR3 (1 = keep the PCID's TLB
#: entries) and always reads as 0.
CR3_PCID = ByteSwapped(BitStruct(
    "no_flush" / Flag,                  # bit 63
    "lam_u48" / Flag,                   # bit 62
    "lam_u57" / Flag,                   # bit 61
    "reserved_60_52" / BitsInteger(9),
    "address" / BitsInteger(40),        # bits 51:12
    "pcid" / BitsInteger(12),           # bits 11:0
))

#: CR4, Intel SDM Vol. 3A §2.5 Control Registers (Figure 2-7).
CR4 = ByteSwapped(BitStruct(
    "reserved_63_33" / BitsInteger(31),
    "fred" / Flag,                      # bit 32, flexible return and event delivery
    "reserved_31_29" / BitsInteger(3),
    "lam_sup" / Flag,                   # bit 28, LAM for supervisor pointers
    "lass" / Flag,                      # bit 27, linear-address-space separation
    "reserved_26" / BitsInteger(1),
    "uintr" / Flag,                     # bit 25, user interrupts
    "pks" / Flag,                       # bit 24, supervisor protection keys
    "cet" / Flag,                       # bit 23, control-flow enforcement
    "pke" / Flag,                       # bit 22, user protection keys
    "smap" / Flag,                      # bit 21
    "smep" / Flag,                      # bit 20
    "kl" / Flag,                        # bit 19, Key Locker
    "osxsave" / Flag,                   # bit 18
    "pcide" / Flag,                     # bit 17
    "fsgsbase" / Flag,                  # bit 16
    "reserved_15" / BitsInteger(1),
    "smxe" / Flag,                      # bit 14
    "vmxe" / Flag,                      # bit 13
    "la57" / Flag,                      # bit 12, 5-level paging
    "umip" / Flag,                      # bit 11
    "osxmmexcpt" / Flag,                # bit 10
    "osfxsr" / Flag,                    # bit 9
    "pce" / Flag,                       # bit 8
    "pge" / Flag,                       # bit 7, global pages
    "mce" / Flag,                       # bit 6
    "pae" / Flag,                       # bit 5
    "pse" / Flag,                       # bit 4
    "de" / Flag,                        # bit 3
    "tsd" / Flag,                       # bit 2
    "pvi" / Flag,                       # bit 1
    "vme" / Flag,                       # bit 0
))

#: IA32_EFER (MSR 0xC0000080), Intel SDM Vol. 3A §2.2.1 Extended Feature
#: Enable Register (Figure 2-4).  Bits 12-15 are AMD extensions (SVME, LMSLE,
#: FFXSR, TCE) and reserved on Intel; they are kept as one field.
EFER = ByteSwapped(BitStruct(
    "reserved_63_16" / BitsInteger(48),
    "amd_15_12" / BitsInteger(4),
    "nxe" / Flag,                       # bit 11, execute-disable enable
    "lma" / Flag,                       # bit 10, IA-32e mode active
    "reserved_9" / BitsInteger(1),
    "lme" / Flag,                       # bit 8, IA-32e mode enable
    "reserved_7_1" / BitsInteger(7),
    "sce" / Flag,                       # bit 0, SYSCALL enable
))

#: RFLAGS, Intel SDM Vol. 1 §3.4.3 EFLAGS Register (Figure 3-8) and Vol. 3A
#: §2.3 System Flags and Fields in the EFLAGS Register; bit 1 always reads 1.
RFLAGS = ByteSwapped(BitStruct(
    "reserved_63_22" / BitsInteger(42),
    "id" / Flag,                        # bit 21
    "vip" / Flag,                       # bit 20
    "vif" / Flag,                       # bit 19
    "ac" / Flag,                        # bit 18, alignment check / SMAP override
    "vm" / Flag,                        # bit 17
    "rf" / Flag,                        # bit 16
    "reserved_15" / BitsInteger(1),
    "nt" / Flag,                        # bit 14
    "iopl" / BitsInteger(2),            # bits 13:12
    "of" / Flag,                        # bit 11
    "df" / Flag,                        # bit 10
    "if_" / Flag,                       # bit 9 (``if`` is a Python keyword)
    "tf" / Flag,                        # bit 8
    "sf" / Flag,                        # bit 7
    "zf" / Flag,                        # bit 6
    "reserved_5" / BitsInteger(1),
    "af" / Flag,                        # bit 4
    "reserved_3" / BitsInteger(1),
    "pf" / Flag,                        # bit 2
    "reserved_1" / BitsInteger(1),      # always 1
    "cf" / Flag,                        # bit 0
))

#: Conventional short names of the RFLAGS fields, for display.
RFLAGS_FIELD_NAMES: dict[str, str] = {
    "cf": "CF", "pf": "PF", "af": "AF", "zf": "ZF", "sf": "SF", "tf": "TF",
    "if_": "IF", "df": "DF", "of": "OF", "iopl": "IOPL", "nt": "NT", "rf": "RF",
    "vm": "VM", "ac": "AC", "vif": "VIF", "vip": "VIP", "id": "ID",
}
