"""Multiboot2: the kernel's header and the boot information a loader gives it.

Contract: every structure parses and builds the exact little-endian bytes
(``build(parse(b)) == b``). Source: the Multiboot2 Specification, version
2.0: §3.1.1-3.1.2 (the header: magic, architecture, header_length,
checksum), §3.1.3 (header tags: a 16-bit type, 16-bit flags, 32-bit size,
each 8-byte aligned; type 0 ends them), §3.1.4 (information request), §3.1.6
(entry address), §3.3 (the machine state: EAX = :data:`BOOTLOADER_MAGIC`,
EBX = the information's physical address) and §3.6 (boot information: a
total size and a reserved word, then tags of 32-bit type and size, 8-byte
aligned, ended by type 0).
"""

from __future__ import annotations

from construct import Bytes, Int8ul, Int16ul, Int32ul, Int64ul, Struct

#: §3.1.2: the header's magic, found 8-byte aligned in the first 32 KiB of the file.
HEADER_MAGIC = 0xE852_50D6
#: §3.3: EAX at the kernel's entry.
BOOTLOADER_MAGIC = 0x36D7_6289
#: §3.1.2: architecture 0 is 32-bit protected-mode i386.
ARCH_I386 = 0

#: §3.1.2: the fixed part of the header.
Header = Struct(
    "magic" / Int32ul,
    "architecture" / Int32ul,
    "header_length" / Int32ul,
    "checksum" / Int32ul,
)

#: §3.1.3: a header tag's common part (``flags`` bit 0: optional).
HeaderTag = Struct(
    "type" / Int16ul,
    "flags" / Int16ul,
    "size" / Int32ul,
)

# Header tag types (§3.1.3-3.1.12).
TAG_END, TAG_INFO_REQUEST, TAG_ADDRESS, TAG_ENTRY, TAG_CONSOLE, TAG_FRAMEBUFFER, TAG_MODULE_ALIGN = 0, 1, 2, 3, 4, 5, 6
TAG_EFI_BS, TAG_ENTRY_EFI32, TAG_ENTRY_EFI64, TAG_RELOCATABLE = 7, 8, 9, 10

# Boot information tag types (§3.6).
INFO_END, INFO_CMDLINE, INFO_LOADER_NAME, INFO_MODULE, INFO_BASIC_MEMINFO = 0, 1, 2, 3, 4
INFO_BOOTDEV, INFO_MMAP, INFO_VBE, INFO_FRAMEBUFFER = 5, 6, 7, 8

#: §3.6.1: the start of the boot information.
InfoHeader = Struct("total_size" / Int32ul, "reserved" / Int32ul)

#: §3.6: a boot information tag's common part.
InfoTag = Struct("type" / Int32ul, "size" / Int32ul)

#: §3.6.3: basic memory information (KiB below 640 KiB / above 1 MiB).
BasicMeminfo = Struct("type" / Int32ul, "size" / Int32ul, "mem_lower" / Int32ul, "mem_upper" / Int32ul)

#: §3.6.8: the memory map's head; entries of ``entry_size`` bytes follow.
MmapHead = Struct("type" / Int32ul, "size" / Int32ul, "entry_size" / Int32ul, "entry_version" / Int32ul)

#: §3.6.8: one memory map entry (type 1 available, 3 ACPI, 4 preserve, 5 defective, other reserved).
MmapEntry = Struct("base_addr" / Int64ul, "length" / Int64ul, "type" / Int32ul, "reserved" / Int32ul)

#: §3.6.6: a module's head; its NUL-terminated string follows.
ModuleHead = Struct("type" / Int32ul, "size" / Int32ul, "mod_start" / Int32ul, "mod_end" / Int32ul)

#: §3.6.12: the framebuffer tag's common part (type 2 = EGA text, no colour info).
FramebufferCommon = Struct(
    "type" / Int32ul,
    "size" / Int32ul,
    "framebuffer_addr" / Int64ul,
    "framebuffer_pitch" / Int32ul,
    "framebuffer_width" / Int32ul,
    "framebuffer_height" / Int32ul,
    "framebuffer_bpp" / Int8ul,
    "framebuffer_type" / Int8ul,
    "reserved" / Bytes(2),
)
FRAMEBUFFER_EGA_TEXT = 2
