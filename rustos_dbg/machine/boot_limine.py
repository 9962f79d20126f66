"""Boot: the Limine boot protocol's handoff, as Limine 8.x performs it on a BIOS PC.

Contract: :func:`find_requests` scans a kernel's loaded image for the base
revision tag and the requests (8-byte aligned, ``LIMINE_COMMON_MAGIC`` first;
between the last start marker and the first end marker, as Limine does);
:func:`is_limine` says whether a kernel has any. :func:`plan` lays out memory
and CPU state as Limine's ``limine_load`` leaves them (PROTOCOL.md,
docs/boot.md "Limine kernels"), answering the requests the emulator serves:

* the kernel's ``PT_LOAD`` segments copied physically contiguous at
  :data:`KERNEL_PHYS` (aligned to the largest ``p_align``) and mapped at their
  link addresses with 4 KiB pages (writable if ``PF_W``, NX unless ``PF_X``);
  a kernel below ``0xffffffff80000000`` is refused, as Limine refuses it;
* the higher half direct map of physical 0-4 GiB at :data:`HHDM_OFFSET`, and
  the identity map (0x1000-4 GiB for base revision 0; 0-4 GiB for 1 and 2,
  which Limine keeps on x86), with 2 MiB pages where possible;
* base revisions 0-2 (Limine 8.x): a supported tag's third value set to 0; a
  higher one boots as revision 2 with the tag left unchanged (the spec's
  "communicate failure"); two tags, or two requests of one ID, are refused;
* responses for bootloader info, firmware type (BIOS), stack size, HHDM,
  memory map, paging mode (4-level), entry point, executable (kernel) file,
  executable command line, executable (kernel) address and modules
  (:class:`~.boot.BootModule` each: the file ``/NAME``, its STRING the command
  line; with none, like Limine, no response); every other request is left
  unanswered with one note naming it (the framebuffer's says the emulated PC
  has VGA text mode only);
* CPU: IA-32e mode with CR0.PG/PE/WP, CR4.PAE, EFER.LME/NXE; Limine's GDT of
  seven descriptors (CS = 0x28, the other selectors 0x30), IF = DF = 0, all
  GPRs 0, ``rsp`` the HHDM address of the top of a stack of the requested size
  (64 KiB by default) with a return address of 0 pushed.

Everything the loader allocates (page tables, GDT, responses, stack) is
bootloader-reclaimable memory right after the kernel and modules; the memory
map says so. Layout and values depend only on the kernel, RAM size, command
line and modules, so a boot is deterministic.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

from .errors import KernelImageError
from .limine_protocol import (  # noqa: F401 (re-exported: the loader's vocabulary)
    COMMON_MAGIC, BASE_REVISION_MAGIC, START_MARKER, END_MARKER, MAX_BASE_REVISION, HHDM_OFFSET, HIGHER_HALF,
    KERNEL_PHYS, DEFAULT_STACK, BOOTLOADER_NAME, BOOTLOADER_VERSION, GDT, CODE_SELECTOR, DATA_SELECTOR,
    USABLE, RESERVED, ACPI_RECLAIMABLE, ACPI_NVS, BAD_MEMORY, BOOTLOADER_RECLAIMABLE, KERNEL_AND_MODULES,
    FRAMEBUFFER, MEMMAP_TYPE_NAMES, REQUESTS, UNSERVED,
)

PAGE = 0x1000
_P, _RW, _PS, _NX = 1, 2, 0x80, 1 << 63


@dataclass(frozen=True)
class Request:
    """One request found in the loaded image: ``offset`` from the image's start."""

    offset: int
    id: tuple[int, int]
    revision: int

    @property
    def name(self) -> str:
        """The feature's name ("unknown ID0 ID1" when not in the spec)."""
        return REQUESTS.get(self.id, f"unknown {self.id[0]:#x} {self.id[1]:#x}")


@dataclass(frozen=True)
class Requests:
    """The base revision tag and the requests of a loaded image."""

    tag_offset: int | None
    requested_revision: int
    items: tuple[Request, ...]


@dataclass(frozen=True)
class LoadedImage:
    """The kernel as Limine lays it out: ``data`` goes to ``phys``, mapped at ``virt``."""

    virt: int
    phys: int
    data: bytes
    ranges: tuple[tuple[int, int, int], ...]  #: (virtual start, length, ELF p_flags), page aligned


def load(image) -> LoadedImage:
    """The kernel's ``PT_LOAD`` segments as one physically contiguous image."""
    if not image.segments:
        raise KernelImageError(f"'{image.path}' has no loadable segments")
    low = min(s.vaddr for s in image.segments) & ~(PAGE - 1)
    if low < HIGHER_HALF:
        raise KernelImageError(f"'{image.path}' loads at {low:#x}: a Limine kernel must be linked at or above "
                               f"{HIGHER_HALF:#x}")
    high = max(s.vaddr + s.memsz for s in image.segments)
    size = _align(high - low, PAGE)
    data = bytearray(size)
    ranges = []
    for s in image.segments:
        data[s.vaddr - low: s.vaddr - low + len(s.data)] = s.data
        start = s.vaddr & ~(PAGE - 1)
        ranges.append((start, _align(s.vaddr + s.memsz, PAGE) - start, s.flags))
    align = max([PAGE] + [s.align for s in image.segments if s.align & (s.align - 1) == 0])
    return LoadedImage(low, _align(KERNEL_PHYS, align), bytes(data), tuple(ranges))


def find_requests(data: bytes, path="kernel") -> Requests:
    """The base revision tag and the requests in ``data`` (a loaded image)."""
    words = _aligned_hits(data)
    start = 0
    end = len(data)
    for off, w in words:
        if w[:4] == START_MARKER:
            start = off + 32
        elif w[:2] == END_MARKER and off >= start:
            end = off
            break
    tag, revision, items, seen = None, 0, [], {}
    for off, w in words:
        if not start <= off < end:
            continue
        if w[:2] == BASE_REVISION_MAGIC:
            if tag is not None:
                raise KernelImageError(f"'{path}' has two Limine base revision tags (Limine refuses it)")
            tag, revision = off, w[2]
        elif w[:2] == COMMON_MAGIC:
            req = Request(off, (w[2], w[3]), w[4])
            if req.id in seen:
                raise KernelImageError(f"'{path}' has two {req.name} requests (Limine refuses it)")
            seen[req.id] = req
            items.append(req)
    return Requests(tag, revision, tuple(items))


def _aligned_hits(data: bytes) -> list[tuple[int, tuple]]:
    """(offset, the 6 words there) of every 8-byte aligned place where a Limine magic starts."""
    hits = []
    for first in (COMMON_MAGIC[0], BASE_REVISION_MAGIC[0], START_MARKER[0], END_MARKER[0]):
        needle = struct.pack("<Q", first)
        at = data.find(needle)
        while at != -1:
            if at % 8 == 0:
                chunk = data[at: at + 48].ljust(48, b"\0")
                hits.append((at, struct.unpack("<6Q", chunk)))
            at = data.find(needle, at + 1)
    return sorted(hits)


def is_limine(image) -> bool:
    """True when a loadable segment holds a Limine base revision tag or request (8-byte
    aligned); whether the kernel is a valid one is :func:`plan`'s to say."""
    for seg in image.segments:
        shift = seg.vaddr % 8
        for _, words in _aligned_hits(bytes(shift) + seg.data):
            if words[:2] in (COMMON_MAGIC, BASE_REVISION_MAGIC):
                return True
    return False


class _Allocator:
    """Bootloader-reclaimable memory handed out upward from ``start``, all in one buffer."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.buf = bytearray()

    def alloc(self, size: int, align: int = 8) -> int:
        pad = (-(self.start + len(self.buf))) % align
        self.buf += bytes(pad)
        at = self.start + len(self.buf)
        self.buf += bytes(size)
        return at

    def put(self, data: bytes, align: int = 8) -> int:
        at = self.alloc(len(data), align)
        self.write(at, data)
        return at

    def write(self, at: int, data: bytes) -> None:
        self.buf[at - self.start: at - self.start + len(data)] = data

    def q(self, at: int, value: int) -> None:
        self.write(at, struct.pack("<Q", value))

    @property
    def end(self) -> int:
        return self.start + len(self.buf)


class _PageTables:
    """A 4-level hierarchy built in an allocator."""

    def __init__(self, mem: _Allocator) -> None:
        self.mem = mem
        self.pml4 = mem.alloc(PAGE, PAGE)

    def _table(self, table: int, index: int) -> int:
        at = table + index * 8
        raw = struct.unpack_from("<Q", self.mem.buf, at - self.mem.start)[0]
        if raw & _P:
            return raw & 0x000F_FFFF_FFFF_F000
        new = self.mem.alloc(PAGE, PAGE)
        self.mem.q(at, new | _P | _RW)
        return new

    def map(self, virt: int, phys: int, flags: int, big: bool = False) -> None:
        pdpt = self._table(self.pml4, (virt >> 39) & 511)
        pd = self._table(pdpt, (virt >> 30) & 511)
        if big:
            self.mem.q(pd + ((virt >> 21) & 511) * 8, phys | flags | _PS)
            return
        pt = self._table(pd, (virt >> 21) & 511)
        self.mem.q(pt + ((virt >> 12) & 511) * 8, phys | flags)

    def map_range(self, virt: int, phys: int, size: int, flags: int) -> None:
        """Maps [virt, virt + size) with 2 MiB pages where both ends allow, else 4 KiB ones."""
        end = virt + size
        while virt < end:
            if virt % 0x20_0000 == 0 and phys % 0x20_0000 == 0 and end - virt >= 0x20_0000:
                self.map(virt, phys, flags, big=True)
                virt, phys = virt + 0x20_0000, phys + 0x20_0000
            else:
                self.map(virt, phys, flags)
                virt, phys = virt + PAGE, phys + PAGE


@dataclass
class LiminePlan:
    """What :func:`plan` decided: blobs to write, CPU state, and facts for display."""

    blobs: list[tuple[int, bytes]]
    state: object
    notes: list[str] = field(default_factory=list)
    base_revision: int = 0
    requests: tuple[Request, ...] = ()
    memmap: list[tuple[int, int, int]] = field(default_factory=list)
    kernel_phys: int = 0
    kernel_virt: int = 0


def plan(image, ram_bytes: int, cmdline: str, modules: tuple = ()) -> LiminePlan:
    """The memory and CPU state at the kernel's entry (see the module docstring)."""
    loaded = load(image)
    found = find_requests(loaded.data, image.path)
    kernel = bytearray(loaded.data)
    notes: list[str] = []
    revision = found.requested_revision if found.tag_offset is not None else 0
    if revision > MAX_BASE_REVISION:
        notes.append(f"limine: base revision {revision} requested; booted with revision {MAX_BASE_REVISION} "
                     f"(the emulator implements Limine 8.x's 0-{MAX_BASE_REVISION}), tag left unchanged")
        revision = MAX_BASE_REVISION
    elif found.tag_offset is not None:
        struct.pack_into("<Q", kernel, found.tag_offset + 16, 0)  # "supported"
    requests = {r.name: r for r in found.items}

    def field_of(name: str, index: int) -> int:
        """The request's word ``index`` (0-3 id, 4 revision, 5 response, 6.. its own fields)."""
        return struct.unpack_from("<Q", kernel, requests[name].offset + 8 * index)[0]

    def virt_to_phys(addr: int) -> int | None:
        if loaded.virt <= addr < loaded.virt + len(kernel):
            return loaded.phys + addr - loaded.virt
        return None

    # Kernel and modules: the image, then the kernel file and the modules, page aligned.
    phys = loaded.phys
    files_at = _align(phys + len(kernel), PAGE)
    extra: list[tuple[int, bytes]] = []
    kernel_file = None
    cursor = files_at
    if "executable file" in requests:
        raw = Path(image.path).read_bytes()
        kernel_file = (cursor, raw, "/" + Path(image.path).name)
        extra.append((cursor, raw))
        cursor = _align(cursor + len(raw), PAGE)
    module_files = []
    for mod in modules:   # BootModule: its file is /NAME, its STRING the module's command line
        raw, name, mod_cmdline = mod.data, "/" + mod.name, mod.string
        module_files.append((cursor, raw, name, mod_cmdline or ""))
        extra.append((cursor, raw))
        cursor = _align(cursor + max(len(raw), 1), PAGE)
    kernel_end = cursor
    mem = _Allocator(kernel_end)
    hhdm = lambda p: p + HHDM_OFFSET  # noqa: E731

    tables = _PageTables(mem)
    for virt, length, flags in loaded.ranges:
        pf = _P | (_RW if flags & 2 else 0) | (0 if flags & 1 else _NX)
        for off in range(0, length, PAGE):
            tables.map(virt + off, phys + virt - loaded.virt + off, pf)
    if revision == 0:
        tables.map_range(0x1000, 0x1000, 0x20_0000 - 0x1000, _P | _RW)
        tables.map_range(0x20_0000, 0x20_0000, (4 << 30) - 0x20_0000, _P | _RW)
    else:  # Limine keeps the low 4 GiB identity mapped on x86 for revisions 1 and 2
        tables.map_range(0, 0, 4 << 30, _P | _RW)
    tables.map_range(HHDM_OFFSET, 0, 4 << 30, _P | _RW)

    gdt = mem.put(struct.pack(f"<{len(GDT)}Q", *GDT), 16)

    def cstr(text: bytes) -> int:
        return hhdm(mem.put(text + b"\0", 1))

    def respond(name: str, body: bytes, revision_: int = 0) -> None:
        at = mem.put(struct.pack("<Q", revision_) + body)
        struct.pack_into("<Q", kernel, requests[name].offset + 40, hhdm(at))

    def limine_file(at: int, size: int, path: str, file_cmdline: str) -> int:
        body = struct.pack("<QQQQQ", 0, hhdm(at), size, cstr(path.encode()), cstr(file_cmdline.encode()))
        body += bytes(4 * 6 + 16 * 3)  # media type, unused, TFTP ip/port, partition, MBR id, 3 UUIDs
        return hhdm(mem.put(body))

    entry = image.entry
    stack_size = DEFAULT_STACK
    for name in requests:
        if name == "bootloader info":
            respond(name, struct.pack("<QQ", cstr(BOOTLOADER_NAME), cstr(BOOTLOADER_VERSION)))
        elif name == "executable command line":
            respond(name, struct.pack("<Q", cstr(cmdline.encode("ascii", "replace"))))
        elif name == "firmware type":
            respond(name, struct.pack("<Q", 0))  # LIMINE_FIRMWARE_TYPE_X86BIOS
        elif name == "stack size":
            stack_size = max(DEFAULT_STACK, _align(field_of(name, 6), PAGE))
            respond(name, b"")
        elif name == "HHDM":
            respond(name, struct.pack("<Q", HHDM_OFFSET))
        elif name == "paging mode":
            respond(name, struct.pack("<Q", 0))  # LIMINE_PAGING_MODE_X86_64_4LVL
        elif name == "entry point":
            entry = field_of(name, 6)
            respond(name, b"")
        elif name == "executable address":
            respond(name, struct.pack("<QQ", phys, loaded.virt))
        elif name == "executable file":
            at, raw, fpath = kernel_file
            respond(name, struct.pack("<Q", limine_file(at, len(raw), fpath, cmdline)))
        elif name == "module":
            if requests[name].revision >= 1 and field_of(name, 6):
                notes.append("limine: internal modules (module request revision 1) are not served")
            if not module_files:
                continue  # as Limine: no modules, no response
            files = [limine_file(at, len(raw), p, c) for at, raw, p, c in module_files]
            pointers = mem.put(struct.pack(f"<{len(files)}Q", *files))
            respond(name, struct.pack("<QQ", len(files), hhdm(pointers)))
        elif name == "memory map":
            continue  # answered last, when all memory is allocated
        else:
            why = UNSERVED.get(name, "not a request of the Limine protocol the emulator knows")
            notes.append(f"limine: {name} request not served ({why}): its response stays NULL")

    stack = mem.alloc(stack_size, PAGE)
    rsp = hhdm(stack + stack_size - 8)  # a return address of 0 pushed
    memmap_at = None
    if "memory map" in requests:
        # Room for the response first, so the map can describe the memory it uses.
        memmap_at = mem.alloc(24 + 7 * 8 + 7 * 24)
    reclaim_end = _align(mem.end, PAGE)
    if reclaim_end > ram_bytes:
        raise KernelImageError(f"'{image.path}' with its files and the loader's data needs RAM up to "
                               f"{-(-reclaim_end >> 20)} MiB; the machine has {ram_bytes >> 20} MiB")
    memmap = _memory_map(ram_bytes, phys, kernel_end, reclaim_end)
    if memmap_at is not None:
        pointers, entries = memmap_at + 24, memmap_at + 24 + 7 * 8
        mem.write(memmap_at, struct.pack("<QQQ", 0, len(memmap), hhdm(pointers)))
        for i, (base, length, kind) in enumerate(memmap):
            mem.q(pointers + 8 * i, hhdm(entries + 24 * i))
            mem.write(entries + 24 * i, struct.pack("<QQQ", base, length, kind))
        struct.pack_into("<Q", kernel, requests["memory map"].offset + 40, hhdm(memmap_at))
    blobs = [(phys, bytes(kernel))] + extra + [(mem.start, bytes(mem.buf))]
    state = _entry_state(entry, rsp, tables.pml4, gdt)
    if virt_to_phys(entry) is None:
        raise KernelImageError(f"'{image.path}' enters at {entry:#x}, outside its loaded image")
    return LiminePlan(blobs, state, notes, revision, found.items, memmap, phys, loaded.virt)


def _entry_state(entry: int, rsp: int, cr3: int, gdt: int):
    """The CPU at the entry: the one place that knows :class:`~.boot.BootState`'s fields."""
    from .boot import BootState

    return BootState(
        "long64", entry, gprs=(("rsp", rsp),), cr0=0x8001_0011, cr3=cr3, cr4=0x20, efer=0xD00,
        gdtr=(gdt, len(GDT) * 8 - 1), idtr=(0, 0), code_selector=CODE_SELECTOR, data_selector=DATA_SELECTOR,
        code=(CODE_SELECTOR, 0, 0, GDT[5] >> 32), data=(DATA_SELECTOR, 0, 0, GDT[6] >> 32),
        selectors=DATA_SELECTOR, mask_pic=True)


def _memory_map(ram_bytes: int, kernel_start: int, kernel_end: int, reclaim_end: int) -> list[tuple[int, int, int]]:
    """Limine's memory map of this PC: sorted, usable and reclaimable entries page aligned."""
    entries = [(0x1000, 0x9F000 - 0x1000, USABLE), (0x9FC00, 0x400, RESERVED), (0xF0000, 0x10000, RESERVED)]
    if kernel_start > 0x10_0000:
        entries.append((0x10_0000, kernel_start - 0x10_0000, USABLE))
    entries.append((kernel_start, kernel_end - kernel_start, KERNEL_AND_MODULES))
    entries.append((kernel_end, reclaim_end - kernel_end, BOOTLOADER_RECLAIMABLE))
    if ram_bytes > reclaim_end:
        entries.append((reclaim_end, ram_bytes - reclaim_end, USABLE))
    return entries


def _align(value: int, align: int) -> int:
    return (value + align - 1) // align * align
