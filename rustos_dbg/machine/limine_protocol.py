"""The Limine boot protocol's constants (PROTOCOL.md, limine.h): magics, request IDs
and names, memory map types, and the GDT Limine loads (common/sys/gdt.s2.c).

Contract: data only; :mod:`.boot_limine` is the loader that uses it.
"""

COMMON_MAGIC = (0xC7B1DD30DF4C8B88, 0x0A82E883A194F07B)
BASE_REVISION_MAGIC = (0xF9562B2D5C95A6C8, 0x6A7B384944536BDC)
START_MARKER = (0xF6B8F4B39DE7D1AE, 0xFAB91A6940FCB9CF, 0x785C6ED015D3E316, 0x181E920A7852B9D9)
END_MARKER = (0xADC0E0531BB10D03, 0x9572709F31764C62)
#: The loader's choices: the highest base revision served (Limine 8.x's), where the kernel goes, the
#: default stack, and how it names itself in the bootloader info response.
MAX_BASE_REVISION = 2
HHDM_OFFSET = 0xFFFF_8000_0000_0000
HIGHER_HALF = 0xFFFF_FFFF_8000_0000
KERNEL_PHYS = 0x10_0000
DEFAULT_STACK = 64 * 1024
BOOTLOADER_NAME, BOOTLOADER_VERSION = b"rustos-dbg", b"limine-protocol 8.x (emulated)"

#: Limine's GDT (common/sys/gdt.s2.c): null, 16-bit code/data, 32-bit code/data, 64-bit code/data.
GDT = (0, 0x0000_9B00_0000_FFFF, 0x0000_9300_0000_FFFF, 0x00CF_9B00_0000_FFFF,
       0x00CF_9300_0000_FFFF, 0x0020_9B00_0000_0000, 0x0000_9300_0000_0000)
CODE_SELECTOR, DATA_SELECTOR = 0x28, 0x30

# Memory map types (PROTOCOL.md, Memory Map Feature).
USABLE, RESERVED, ACPI_RECLAIMABLE, ACPI_NVS, BAD_MEMORY, BOOTLOADER_RECLAIMABLE, KERNEL_AND_MODULES, FRAMEBUFFER = range(8)
MEMMAP_TYPE_NAMES = ("usable", "reserved", "ACPI reclaimable", "ACPI NVS", "bad memory",
                     "bootloader reclaimable", "kernel and modules", "framebuffer")

#: Request IDs (the last two words) by name.
REQUESTS = {
    (0xF55038D8E2A1202F, 0x279426FCF5F59740): "bootloader info",
    (0x4B161536E598651E, 0xB390AD4A2F1F303A): "executable command line",
    (0x8C2F75D90BEF28A8, 0x7045A4688EAC00C3): "firmware type",
    (0x224EF0460A8E8926, 0xE1CB0FC25F46EA3D): "stack size",
    (0x48DCF1CB8AD2B852, 0x63984E959A98244B): "HHDM",
    (0x9D5827DCD881DD75, 0xA3148604F6FAB11B): "framebuffer",
    (0x0785A0AEA5D0750F, 0x1C1936FEE0D6CF6E): "terminal",
    (0x3259399FE7C5F126, 0xE01C1C8C5DB9D1A9): "flanterm parameters",
    (0x95C1A0EDAB0944CB, 0xA4E5CB3842F7488A): "paging mode",
    (0x95A67B819A1B857E, 0xA0B61B723B6A73E0): "SMP (multiprocessor)",
    (0x67CF3D9D378A806F, 0xE304ACDFC50C3C62): "memory map",
    (0x13D86C035A1CD3E1, 0x2B0CAA89D8F3026A): "entry point",
    (0xAD97E90E83F1ED67, 0x31EB5D1C5FF23B69): "executable file",
    (0x3E7E279702BE32AF, 0xCA1C4F3BD1280CEE): "module",
    (0xC5E77B6B397E7B43, 0x27637845ACCDCF3C): "RSDP",
    (0x9E9046F11E095391, 0xAA4A520FEFBDE5EE): "SMBIOS",
    (0x5CEBA5163EAAF6D6, 0x0A6981610CF65FCC): "EFI system table",
    (0x7DF62A431D6872D5, 0xA4FCDFB3E57306C8): "EFI memory map",
    (0x502746E184C088AA, 0xFBC5EC83E6327893): "boot time",
    (0x71BA76863CC55F63, 0xB2644A48C516A487): "executable address",
    (0xB40DDB48FB54BAC7, 0x545081493F81FFB7): "device tree blob",
    (0x1369359F025525F9, 0x2FF2A56178391BB6): "BSP hart ID",
    (0x6B50AD9BF36D13AD, 0xDC4C7E88FC759E17): "bootloader performance",
    (0x8EBAABE51F490179, 0x2AA86A59FFB4AB0F): "keep IOMMU",
    (0x10F2EE1D87D195E4, 0xF747A2B78F6DDB31): "TSC frequency",
}
#: Why a known request is not answered.
UNSERVED = {
    "framebuffer": "the emulated PC has VGA text mode only, no framebuffer",
    "terminal": "no framebuffer, so no terminal",
    "flanterm parameters": "no framebuffer",
    "SMP (multiprocessor)": "the emulated PC has one CPU and no local APIC",
    "RSDP": "the emulated PC has no ACPI tables",
    "SMBIOS": "the emulated PC has no SMBIOS tables",
    "EFI system table": "booted as by BIOS, not UEFI",
    "EFI memory map": "booted as by BIOS, not UEFI",
    "boot time": "not served by the emulator",
    "device tree blob": "x86 PCs have no device tree",
    "BSP hart ID": "RISC-V only",
    "bootloader performance": "not served by the emulator",
    "keep IOMMU": "the emulated PC has no IOMMU",
    "TSC frequency": "not served by the emulator",
}
