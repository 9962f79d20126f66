"""Inspector commands: each reads through the machine (a GuestReader), builds
the inspector's model, and returns its text view, or JSON with ``--json``."""

from __future__ import annotations

import re

from ...inspect import hw
from ...inspect.hw import bt, cregs, devices, dis, faults, gdt, idt, maps, memdump, pagewalk, pci, regs, tss
from ..expr import parse_address, parse_int
from ..registry import CommandError, command


def _show(session, model, view) -> str:
    if session.json:
        return hw.to_json(model)
    return view(model)


def _paging_off(session, args: str, what: str) -> str | None:
    """What walk/maps say while the CPU runs with paging off (a boot path before its
    switch to paging), or None when paging is on or another address space is asked for."""
    if "--pid" in args or session.machine.reg("cr0") & 0x8000_0000:
        return None
    text = f"paging is off (CR0.PG = 0): {what}"
    if session.json:
        import json

        return json.dumps({"paging": False, "message": text})
    return text


@command("idt", usage="idt [VECTOR]", help="the IDT: present, type, DPL, IST, selector, handler and its symbol", group="inspect")
def cmd_idt(session, args):
    m = session.machine
    vector = parse_int(args) if args else None
    if vector is not None and not 0 <= vector <= 255:
        raise CommandError(f"vector {vector} is out of range (0-255)")
    table = idt.read_idt(m, vector=vector, symbolize=m.symbolize)
    if vector is not None:
        entry = table.entry(vector)
        if entry is None:
            raise CommandError(f"vector {vector} is beyond the IDT limit {table.limit:#x} (IDTR base {table.base:#x})")
        return _show(session, entry, idt.format_entry)
    return _show(session, table, idt.format_idt)


@command("gdt", usage="gdt", help="the GDT's descriptors, marking the TSS that TR selects", group="inspect")
def cmd_gdt(session, args):
    return _show(session, gdt.read_gdt(session.machine), gdt.format_gdt)


@command("tss", usage="tss", help="the TSS: RSP0-2 and IST1-7 with their stacks, depth in use and guard pages", group="inspect")
def cmd_tss(session, args):
    m = session.machine
    return _show(session, tss.read_tss(m, symbols=m.symbols), tss.format_tss)


@command("walk", usage="walk VADDR [user] [--pid N]",
         help="the page walk of an address: entries, flags, permissions, or the #PF it raises "
              "(--pid N: in that process's address space)", group="inspect")
def cmd_walk(session, args):
    from .threads import take_pid

    words, m = take_pid(session, session.split(args), "walk")
    if not words:
        raise CommandError("usage: walk VADDR [user] [--pid N]")
    address = parse_address(words[0], m)
    off = _paging_off(session, args, f"linear address {address:#x} is physical address {address:#x}"
                      if address >> 32 == 0 else f"linear address {address:#x} is beyond 4 GiB: nothing is there")
    if off is not None:
        return off
    report = pagewalk.walk_address(m, address, user="user" in words[1:], symbolize=m.symbolize)
    return _show(session, report, pagewalk.format_walk)


@command("maps", usage="maps [--pid N]",
         help="every mapped range with R/W/X/U/G and what it is, in the selected thread's address space "
              "or that of --pid N",
         group="inspect")
def cmd_maps(session, args):
    from .threads import take_pid

    words, space = take_pid(session, session.split(args), "maps")
    if words:
        raise CommandError(f"maps: unexpected '{words[0]}' (usage: maps [--pid N])")
    off = _paging_off(session, args, "every linear address below 4 GiB is the physical one")
    if off is not None:
        return off
    m = session.machine
    sections = maps.kernel_sections(m.image)
    model = maps.read_maps(m, sections=sections, symbols=m.symbols, cr3=space.reg("cr3"))
    return _show(session, model, maps.format_maps)


@command("regs", usage="regs", help="general-purpose registers, rip and rflags", group="inspect")
def cmd_regs(session, args):
    m = session.reader()
    return _show(session, regs.read_regs(m, symbolize=m.symbolize), regs.format_regs)


@command("sregs", usage="sregs", help="segment registers, GDTR/IDTR/TR/LDTR, fs_base/gs_base", group="inspect")
def cmd_sregs(session, args):
    return _show(session, regs.read_sregs(session.machine), regs.format_sregs)


@command("cregs", usage="cregs", help="CR0, CR2, CR3, CR4, CR8, EFER and RFLAGS decoded bit by bit", group="inspect")
def cmd_cregs(session, args):
    m = session.machine
    return _show(session, cregs.read_cregs(m, symbolize=m.symbolize), cregs.format_cregs)


_X_FORMAT = re.compile(r"^/(\d*)([bhwg]?)x?$")
_UNITS = {"b": 1, "h": 2, "w": 4, "g": 8, "": 8}


@command("x", usage="x[/NU] [-p] ADDRESS", help="dump memory (virtual, or physical with -p); N units of b/h/w/g", group="inspect")
def cmd_x(session, args):
    m = session.reader()
    fmt = ""
    if args.startswith("/"):
        fmt, _, args = args.partition(" ")
    match = _X_FORMAT.match(fmt) if fmt else None
    if fmt and not match:
        raise CommandError(f"bad format '{fmt}' (e.g. x/8gx ADDRESS)")
    count = int(match.group(1)) if match and match.group(1) else 8
    unit = _UNITS[match.group(2)] if match else 8
    words = session.split(args)
    physical = "-p" in words
    words = [w for w in words if w != "-p"]
    if not words:
        raise CommandError("usage: x[/NU] [-p] ADDRESS")
    address = parse_address(" ".join(words), m)
    if count * unit > _PIECE_BYTES and not session.json:
        return _dump_pieces(m, address, count, unit, physical)
    dump = memdump.read_memory(m, address, count, unit=unit, physical=physical, symbolize=m.symbolize)
    if dump.error and not dump.lines:
        raise CommandError(dump.error)
    return _show(session, dump, memdump.format_dump)


#: A long ``x`` or ``dis`` listing is produced (and shown, and abandoned) in parts of about this size.
_PIECE_BYTES = 1 << 16
_PIECE_INSNS = 2000


def _dump_pieces(m, address, count, unit, physical):
    """``x``'s text for a long dump, part by part as it is read (the same text as one dump)."""
    per_line = max(1, 16 // unit)
    first = True
    for dump in memdump.read_memory_pieces(m, address, count, unit=unit, physical=physical,
                                           symbolize=m.symbolize, piece=_PIECE_BYTES):
        if first and dump.error and not dump.lines:
            raise CommandError(dump.error)
        text = memdump.format_dump(dump, per_line=per_line)
        yield text if first else "\n" + text
        first = False


@command("dis", usage="dis [ADDRESS] [N]", help="disassemble N instructions (default: 10 at rip), symbolized", group="inspect")
def cmd_dis(session, args):
    m = session.reader()
    words = session.split(args)
    address = parse_address(words[0], m) if words else m.reg("rip")
    count = parse_int(words[1]) if len(words) > 1 else 10
    if count > _PIECE_INSNS and not session.json:
        return _dis_pieces(m, address, count)
    listing = dis.disassemble(m, address, count, symbolize=m.symbolize, rip=m.reg("rip"))
    if listing.error and not listing.instructions:
        raise CommandError(listing.error)
    return _show(session, listing, dis.format_disassembly)


def _dis_pieces(m, address, count):
    """``dis``'s text for a long listing, part by part as it is decoded (the same text as one listing)."""
    first = True
    for listing in dis.disassemble_pieces(m, address, count, piece=_PIECE_INSNS,
                                          symbolize=m.symbolize, rip=m.reg("rip")):
        if first and listing.error and not listing.instructions:
            raise CommandError(listing.error)
        text = dis.format_disassembly(listing)
        yield text if first else "\n" + text
        first = False


@command("bt", aliases=("backtrace",), usage="bt", help="backtrace by frame pointers, across interrupt frames (a selected task: its async backtrace)", group="inspect")
def cmd_bt(session, args):
    if session.selection is not None and session.selection.kind == "task":
        from .asynctasks import async_bt

        return async_bt(session)
    m = session.reader()
    return _show(session, bt.backtrace(m, symbols=m.symbols, symbolize=m.symbolize), bt.format_backtrace)


@command("faults", usage="faults [N] [all]", help="the exception log, decoded (last N; 'all' includes IRQs)", group="inspect")
def cmd_faults(session, args):
    m = session.machine
    words = session.split(args)
    last = next((parse_int(w) for w in words if w != "all"), None)
    log = faults.decode_faults(m.exception_log, symbolize=m.symbolize, include_external="all" in words, last=last)
    return _show(session, log, faults.format_faults)


@command("handoff", usage="handoff",
         help="how the loader entered the kernel: protocol, entry, a Limine kernel's requests, responses and memory map",
         group="inspect")
def cmd_handoff(session, args):
    from ...inspect.hw import handoff

    m = session.machine
    return _show(session, handoff.read_handoff(m, m.boot_plan), handoff.format_handoff)


@command("devices", usage="devices", help="PIC, PIT, UART and keyboard controller state", group="inspect")
def cmd_devices(session, args):
    report = devices.decode_devices(devices.snapshot_devices(session.machine.devices))
    return _show(session, report, devices.format_devices)


@command("pci", usage="pci", help="PCI functions (IDs, class, command bits) and their BARs, from configuration space",
         group="inspect")
def cmd_pci(session, args):
    if args.strip():
        raise CommandError("usage: pci")
    return _show(session, pci.decode_pci(session.machine.devices.pci.listing()), pci.format_pci)


#: Kernel inspectors: (command, module, reader, view, help).
KERNEL_INSPECTORS = (
    ("heap", "heap", "read_heap", "heap_view", "the kernel heap: free lists, fallback holes, totals, consistency check"),
    ("tasks", "asynctasks", "read_async_tasks", "async_tasks_view",
     "executor tasks (state, queued, future type, wakes), the ready queue, each task's await points and wakers"),
    ("frames", "frames", "read_frames", "frames_view", "the physical frame allocator and its bitmap"),
    ("bootinfo", "bootinfo", "read_bootinfo", "bootinfo_view", "the boot information: command line and memory map"),
    ("ramdisk", "ramdisk", "read_ramdisk", "ramdisk_view", "the ramdisk (the PVH module at /ram): where, state, files"),
    ("wasm", "wasm", "read_wasm", "wasm_view",
     "WASM instances: module, state, memory pages, fuel used, the call stack with names from the name section"),
    ("fb", "fb", "read_fb", "fb_view", "the kernel's framebuffer: mode, resolution, pitch, LFB address, owner"),
    ("threads", "threads", "read_threads", "threads_view",
     "kernel threads and user processes: state, ring, ticks, address space, where each left the CPU"),
)


def _register_kernel_inspector(name: str, module: str, reader: str, view: str, text: str) -> None:
    def run(session, args):
        import importlib

        from ...inspect.kernel.common import to_json

        mod = importlib.import_module(f"rustos_dbg.inspect.kernel.{module}")
        # The machine's own ELF (its one parse): its DWARF describes the structures in its memory.
        model = getattr(mod, reader)(session.machine, dwarf=session.machine.image)
        return to_json(model) if session.json else getattr(mod, view)(model)

    command(name, aliases=_ALIASES.get(name, ()), usage=name, help=text, group="kernel")(run)


#: Other names of kernel inspectors.
_ALIASES = {"threads": ("ps",)}


for _entry in KERNEL_INSPECTORS:
    _register_kernel_inspector(*_entry)
