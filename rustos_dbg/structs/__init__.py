"""Hardware and kernel structure layouts decoded by rustos-dbg (the only users of ``construct``).

Contract: every layout is declared exactly once, in the module for its
concept, and parses/builds the exact bytes the hardware (or the boot loader,
or the kernel for its own ``#[repr(C)]`` structures) uses, so ``Layout.build(Layout.parse(b)) == b``.  Little-endian bit fields are
written ``ByteSwapped(BitStruct(...))`` from the most-significant bit down;
:mod:`.bitfields` derives bit masks from those declarations for code that must
not depend on ``construct``.  Numeric codes live in enums, display strings in
separate ``*_NAMES`` mappings.

Modules: :mod:`.segments` (selectors, GDT descriptors), :mod:`.idt` (gates),
:mod:`.tss` (64-bit TSS), :mod:`.paging` (paging-structure entries),
:mod:`.control` (CR0/CR3/CR4/EFER/RFLAGS), :mod:`.frames` (interrupt stack
frame, #PF error code), :mod:`.pvh` (Xen PVH start info), :mod:`.kernel`
(RustOS's own ``#[repr(C)]`` structures, cited to docs/kernel-structures.md).

Section numbers: citations use the Intel SDM numbering in use up to 2024
(e.g. order number 325462-080).  The June 2025 edition inserted a new Vol. 3A
Chapter 4 "Linear-Address Pre-Processing", so for Vol. 3A chapters 4 and
above add one (paging §4.5 -> §5.5, IDT §6.14 -> §7.14, TSS §7.7 -> §8.7);
chapters 2 and 3 are unchanged.  Section titles are quoted to disambiguate.
"""

from .control import CR0, CR3, CR3_PCID, CR4, EFER, IA32_EFER_MSR, RFLAGS
from .frames import InterruptFrame, InterruptFrameWithErrorCode, PageFaultErrorCode
from .idt import IdtGate, gate_offset, gate_offset_fields
from .kernel import (BlockLists, BootInfo, FrameTable, HeapStats, KernelHeapHead, KernelMagic,
                     MemRegion, TaskSlot, TaskState, executor_layout, header_problems, ring_queue)
from .paging import (PDE, PDE2M, PDPTE, PDPTE1G, PML4E, PML5E, PTE, PageLevel,
                     TableEntry, entry_address, entry_layout, parse_entry)
from .pvh import HvmMemmapEntry, HvmModlistEntry, HvmStartInfo, MemmapType
from .segments import (SegmentDescriptor, SegmentSelector, SystemSegmentDescriptor,
                       SystemType, descriptor_base, descriptor_limit,
                       descriptor_limit_bytes, system_descriptor_base)
from .tss import Tss64, tss_ist

__all__ = [
    "CR0", "CR3", "CR3_PCID", "CR4", "EFER", "IA32_EFER_MSR", "RFLAGS",
    "InterruptFrame", "InterruptFrameWithErrorCode", "PageFaultErrorCode",
    "IdtGate", "gate_offset", "gate_offset_fields",
    "PDE", "PDE2M", "PDPTE", "PDPTE1G", "PML4E", "PML5E", "PTE", "PageLevel",
    "TableEntry", "entry_address", "entry_layout", "parse_entry",
    "HvmMemmapEntry", "HvmModlistEntry", "HvmStartInfo", "MemmapType",
    "SegmentDescriptor", "SegmentSelector", "SystemSegmentDescriptor", "SystemType",
    "descriptor_base", "descriptor_limit", "descriptor_limit_bytes",
    "system_descriptor_base", "Tss64", "tss_ist",
    "BlockLists", "BootInfo", "FrameTable", "HeapStats", "KernelHeapHead", "KernelMagic",
    "MemRegion", "TaskSlot", "TaskState", "executor_layout", "header_problems", "ring_queue",
]
