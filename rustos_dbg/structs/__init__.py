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
frame, #PF error code), :mod:`.pvh` (Xen PVH start info), :mod:`.pci` (the
PCI configuration header, cited to the PCI Local Bus Specification), :mod:`.kernel`
(RustOS's own ``#[repr(C)]`` structures, cited to docs/kernel-structures.md).

Section numbers: citations use the Intel SDM numbering in use up to 2024
(e.g. order number 325462-080).  The June 2025 edition inserted a new Vol. 3A
Chapter 4 "Linear-Address Pre-Processing", so for Vol. 3A chapters 4 and
above add one (paging §4.5 -> §5.5, IDT §6.14 -> §7.14, TSS §7.7 -> §8.7);
chapters 2 and 3 are unchanged.  Section titles are quoted to disambiguate.
"""

# The layouts are imported on first use (PEP 562): building every construct
# layout at import time would slow down the start of ``rustos-dbg``.
_MODULE_OF = {
    **dict.fromkeys(['CR0', 'CR3', 'CR3_PCID', 'CR4', 'EFER', 'IA32_EFER_MSR', 'RFLAGS'], "control"),
    **dict.fromkeys(['InterruptFrame', 'InterruptFrameWithErrorCode', 'PageFaultErrorCode'], "frames"),
    **dict.fromkeys(['IdtGate', 'gate_offset', 'gate_offset_fields'], "idt"),
    **dict.fromkeys(['FbInfo', 'BlockLists', 'BootInfo', 'FrameTable', 'HeapStats', 'KernelHeapHead', 'KernelMagic', 'MemRegion', 'TaskSlot', 'TaskState', 'executor_layout', 'header_problems', 'ring_queue'], "kernel"),
    **dict.fromkeys(['PDE', 'PDE2M', 'PDPTE', 'PDPTE1G', 'PML4E', 'PML5E', 'PTE', 'PageLevel', 'TableEntry', 'entry_address', 'entry_layout', 'parse_entry'], "paging"),
    **dict.fromkeys(['BarKind', 'PciCommand', 'PciHeader', 'decode_bar'], "pci"),
    **dict.fromkeys(['HvmMemmapEntry', 'HvmModlistEntry', 'HvmStartInfo', 'MemmapType'], "pvh"),
    **dict.fromkeys(['SegmentDescriptor', 'SegmentSelector', 'SystemSegmentDescriptor', 'SystemType', 'descriptor_base', 'descriptor_limit', 'descriptor_limit_bytes', 'system_descriptor_base'], "segments"),
    **dict.fromkeys(['Tss64', 'tss_ist'], "tss"),
}


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


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
    "BarKind", "PciCommand", "PciHeader", "decode_bar",
    "FbInfo", "BlockLists", "BootInfo", "FrameTable", "HeapStats", "KernelHeapHead", "KernelMagic",
    "MemRegion", "TaskSlot", "TaskState", "executor_layout", "header_problems", "ring_queue",
]
