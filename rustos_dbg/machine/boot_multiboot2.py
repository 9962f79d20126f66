"""The Multiboot2 loader: what GRUB's ``multiboot2`` command does for an ELF kernel.

Contract: :func:`find_header` finds the Multiboot2 header as GRUB does (the
magic 0xe85250d6, 8-byte aligned, in the file's first 32 KiB, with a valid
checksum) and checks its tags: a header that is malformed or asks for what
the emulator cannot give is a one-line :class:`~.errors.KernelImageError`
naming it. :func:`plan` copies the PT_LOAD segments to their physical
addresses, places the modules (page aligned, above the kernel) and the boot
information in RAM, and enters the kernel as the specification (§3.3) says:
32-bit protected mode, paging off, flat CS/DS/ES/FS/GS/SS, IF = 0,
``eax`` = 0x36d76289, ``ebx`` = the boot information's address. The entry
is the header's entry address tag, else the ELF entry (its virtual address
turned physical through the segment that holds it, as GRUB does).

The boot information holds, in GRUB's order: the command line (1), the boot
loader name (2, "rustos-dbg"), one tag per module (3), basic memory
information (4), the memory map (6, the PC map of :func:`~.boot.memory_map`)
and the framebuffer (8) of the VGA text mode GRUB leaves on a PC (EGA text
at 0xb8000, 80x25, pitch 160, 16 bpp). GRUB's boot device, ELF sections,
APM and ACPI tags are not given; a kernel that requires one (a non-optional
information request) is refused.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from ..structs import multiboot2 as mb2
from .boot import BootPlan, BootState, gdt32_blob, memory_map, segment_blobs
from .errors import KernelImageError

SEARCH_BYTES = 32 * 1024
INFO_ADDR = 0x10000
INFO_MAX = 0x10000
LOADER_NAME = "rustos-dbg"
#: Information tags the emulator gives (Multiboot2 §3.6).
GIVEN = {mb2.INFO_CMDLINE: "command line", mb2.INFO_LOADER_NAME: "boot loader name", mb2.INFO_MODULE: "modules",
         mb2.INFO_BASIC_MEMINFO: "basic memory information", mb2.INFO_MMAP: "memory map",
         mb2.INFO_FRAMEBUFFER: "framebuffer"}
#: Header tags a loader may ignore or that change nothing here (§3.1.5-3.1.12).
_IGNORED = {mb2.TAG_CONSOLE, mb2.TAG_FRAMEBUFFER, mb2.TAG_MODULE_ALIGN, mb2.TAG_EFI_BS,
            mb2.TAG_ENTRY_EFI32, mb2.TAG_ENTRY_EFI64, mb2.TAG_RELOCATABLE}


@dataclass(frozen=True)
class Multiboot2Header:
    """A kernel's Multiboot2 header: where it is and what its tags ask."""

    offset: int
    entry: int | None            #: the entry address tag's, else None (the ELF entry)
    requests: tuple[int, ...]    #: information tags requested (required ones)


def find_header(image) -> Multiboot2Header | None:
    """The header of ``image`` (None when it has none; a KernelImageError when malformed)."""
    head = image.head[:SEARCH_BYTES]
    bad = None
    for offset in range(0, len(head) - 15, 8):
        if struct.unpack_from("<I", head, offset)[0] != mb2.HEADER_MAGIC:
            continue
        fields = mb2.Header.parse(head[offset:offset + 16])
        if (fields.magic + fields.architecture + fields.header_length + fields.checksum) & 0xFFFF_FFFF:
            bad = bad if bad is not None else offset
            continue
        return _parse(image.path, head, offset, fields)
    if bad is not None:
        raise KernelImageError(f"'{image.path}': the Multiboot2 header at file offset {bad:#x} has a bad checksum "
                               "(magic + architecture + header_length + checksum must be 0 mod 2^32)")
    return None


def _parse(path: Path, head: bytes, offset: int, fields) -> Multiboot2Header:
    where = f"'{path}': the Multiboot2 header at file offset {offset:#x}"
    if fields.architecture != mb2.ARCH_I386:
        raise KernelImageError(f"{where} is for architecture {fields.architecture}, not 0 (i386 protected mode)")
    end = offset + fields.header_length
    if fields.header_length < 24 or end > len(head):
        raise KernelImageError(f"{where} has header_length {fields.header_length}, which leaves no room for its tags")
    entry, requests, at = None, [], offset + 16
    while True:
        if at + 8 > end:
            raise KernelImageError(f"{where} has no end tag (type 0, size 8) within its header_length")
        tag = mb2.HeaderTag.parse(head[at:at + 8])
        if tag.size < 8 or at + tag.size > end:
            raise KernelImageError(f"{where} has a tag of type {tag.type} with size {tag.size} at offset {at:#x}, "
                                   "outside the header")
        body = head[at + 8:at + tag.size]
        optional = tag.flags & 1
        if tag.type == mb2.TAG_END:
            break
        if tag.type == mb2.TAG_INFO_REQUEST:
            wanted = struct.unpack(f"<{len(body) // 4}I", body[:len(body) // 4 * 4])
            missing = [t for t in wanted if t not in GIVEN]
            if missing and not optional:
                raise KernelImageError(f"{where} requires information tag {missing[0]}, which the emulator does not give "
                                       f"(it gives {', '.join(f'{t} ({n})' for t, n in GIVEN.items())})")
            requests.extend(t for t in wanted if t in GIVEN)
        elif tag.type == mb2.TAG_ENTRY and len(body) >= 4:
            entry = struct.unpack_from("<I", body)[0]
        elif tag.type == mb2.TAG_ADDRESS and not optional:
            raise KernelImageError(f"{where} has an address tag (type 2, the a.out kludge): "
                                   "the emulator loads ELF program headers only")
        elif tag.type not in _IGNORED and not optional:
            raise KernelImageError(f"{where} has a required tag of unknown type {tag.type}")
        at += (tag.size + 7) & ~7
    return Multiboot2Header(offset, entry, tuple(requests))


def _elf_entry(image) -> int:
    """The ELF entry, turned physical through the PT_LOAD that holds it."""
    virtual = struct.unpack_from("<Q", image.head, 24)[0]
    for seg in image.segments:
        if seg.vaddr <= virtual < seg.vaddr + seg.memsz:
            return virtual - seg.vaddr + seg.paddr
    return virtual


def _tag(kind: int, body: bytes) -> bytes:
    """One information tag, padded to 8 bytes."""
    raw = mb2.InfoTag.build(dict(type=kind, size=8 + len(body))) + body
    return raw + bytes(-len(raw) % 8)


def _string(text: str) -> bytes:
    return text.encode("ascii", "replace") + b"\0"


def info_blob(ram_bytes: int, cmdline: str, modules: list[tuple[int, int, str]]) -> bytes:
    """The boot information (§3.6) for ``modules`` as (start, end, string)."""
    regions = memory_map(ram_bytes)
    mmap = b"".join(mb2.MmapEntry.build(dict(base_addr=a, length=s, type=int(t), reserved=0)) for a, s, t in regions)
    tags = [_tag(mb2.INFO_CMDLINE, _string(cmdline)), _tag(mb2.INFO_LOADER_NAME, _string(LOADER_NAME))]
    tags += [_tag(mb2.INFO_MODULE, struct.pack("<II", start, end) + _string(text)) for start, end, text in modules]
    tags.append(mb2.BasicMeminfo.build(dict(type=mb2.INFO_BASIC_MEMINFO, size=16, mem_lower=regions[0][1] // 1024,
                                            mem_upper=(ram_bytes - 0x10_0000) // 1024)))
    tags.append(_tag(mb2.INFO_MMAP, struct.pack("<II", mb2.MmapEntry.sizeof(), 0) + mmap))
    tags.append(mb2.FramebufferCommon.build(dict(
        type=mb2.INFO_FRAMEBUFFER, size=mb2.FramebufferCommon.sizeof(), framebuffer_addr=0xB8000,
        framebuffer_pitch=160, framebuffer_width=80, framebuffer_height=25, framebuffer_bpp=16,
        framebuffer_type=mb2.FRAMEBUFFER_EGA_TEXT, reserved=bytes(2))))
    tags.append(_tag(mb2.INFO_END, b""))
    body = b"".join(tags)
    return mb2.InfoHeader.build(dict(total_size=8 + len(body), reserved=0)) + body


def plan(image, header: Multiboot2Header, ram_bytes: int, cmdline: str,
         modules: tuple = ()) -> BootPlan:
    """The Multiboot2 boot of ``image`` with ``modules`` (:class:`~.boot.BootModule` each;
    a module's string is its file name unless one was given)."""
    entry = header.entry if header.entry is not None else _elf_entry(image)
    if entry >> 32:
        raise KernelImageError(f"'{image.path}': its Multiboot2 entry {entry:#x} is above 4 GiB")
    blobs = segment_blobs(image) + [gdt32_blob()]
    at = max(seg.paddr + seg.memsz for seg in image.segments)
    placed = []
    for module in modules:
        data, text = module.data, module.name if module.string is None else module.string
        at = (at + 0xFFF) & ~0xFFF
        if at + len(data) > ram_bytes:
            raise KernelImageError(f"module '{text}' ({len(data)} bytes) does not fit in RAM above the kernel")
        blobs.append((at, data))
        placed.append((at, at + len(data), text))
        at += len(data)
    info = info_blob(ram_bytes, cmdline, placed)
    if len(info) > INFO_MAX:
        raise KernelImageError(f"the Multiboot2 boot information ({len(info)} bytes) exceeds {INFO_MAX} bytes")
    blobs.append((INFO_ADDR, info))
    state = BootState("protected32", entry, gprs=(("rax", mb2.BOOTLOADER_MAGIC), ("rbx", INFO_ADDR)))
    return BootPlan("multiboot2", tuple(blobs), state)
