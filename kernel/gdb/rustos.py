"""RustOS support for gdb: short names for the kernel's statics, pretty-printers.

Contract: gdb runs this script for the kernel ELF, either by itself (the ELF
names it in its ``.debug_gdb_scripts`` section, see ``kernel/src/gdb.rs``;
gdb runs it when the ELF's directory is in its auto-load safe-path) or with
``-x kernel/gdb/rustos.py``. Running it twice changes nothing. It uses only
gdb's own Python API (no project package: gdb's Python is not the venv's).

What it does, in ``load``:

- ``p RUSTOS_TICKS`` and the other ``#[no_mangle]`` statics work by their short
  names at every stop, in Rust and in assembly frames. gdb's Rust parser looks
  a bare name up in the current module only, so short names are gdb macros
  (``RUSTOS_TICKS`` -> ``rustos::time::RUSTOS_TICKS``), which gdb expands in
  its C and C++ parsers: the script sets ``language c++``, whose expressions
  take Rust paths (``rustos::heap::RUSTOS_HEAP``) from any frame, and
  whose output shows Rust values through the printers below. ``set language
  rust`` gives back Rust-only syntax (``as`` casts, ranges) without the short
  names.
- Pretty-printers: atomics, ``UnsafeCell`` and ``Cell`` print their value; an
  ``IrqMutex`` its lock state and data; page-table entries and
  ``PageTableFlags`` their flags (Intel SDM Vol. 3A §4.5, Table 4-19); a
  ``PageTable`` its present entries; a ``TrapFrame`` its vector and registers
  in hex; the heap (``KernelHeap``) its extent, counters, free lists and
  holes; the executor its live tasks and ready queue.
"""

import re

import gdb
import gdb.printing

#: Bits of a 4-level paging entry, low to high, with the x86_64 crate's names.
PTE_FLAGS = (
    (0, "PRESENT"), (1, "WRITABLE"), (2, "USER_ACCESSIBLE"), (3, "WRITE_THROUGH"),
    (4, "NO_CACHE"), (5, "ACCESSED"), (6, "DIRTY"), (7, "HUGE_PAGE"), (8, "GLOBAL"),
    (9, "BIT_9"), (10, "BIT_10"), (11, "BIT_11"), (63, "NO_EXECUTE"),
)
#: Bits 12-51: the physical address of the frame or next table.
PTE_ADDRESS_MASK = 0x000F_FFFF_FFFF_F000
#: Names of the exception vectors 0-31 (as the kernel's `exceptions::name`).
EXCEPTIONS = (
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP", "#SS",
    "#GP", "#PF", "reserved", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
)
TASK_STATES = ("free", "ready", "running", "waiting")
#: Value-holding wrappers whose printer shows only the wrapped value, by type
#: name prefix -> the field holding it.
WRAPPERS = (
    ("core::cell::UnsafeCell<", "value"),
    ("core::cell::Cell<", "value"),
    ("core::sync::atomic::Atomic", "v"),
    ("core::sync::atomic::private::Align", "__0"),
)
#: A static's name in the kernel: #[no_mangle] statics are all RUSTOS_*.
STATIC = re.compile(r"\b((?:\w+::)+(RUSTOS_\w+))\b")


def flag_names(bits):
    """``PRESENT | WRITABLE | ...`` for the flag bits set in ``bits`` ("-" for none)."""
    names = [name for bit, name in PTE_FLAGS if bits >> bit & 1]
    return " | ".join(names) or "-"


def integer(value):
    """The integer inside ``value``, descending through single-field wrappers."""
    while value.type.strip_typedefs().code == gdb.TYPE_CODE_STRUCT:
        value = value[value.type.strip_typedefs().fields()[0]]
    return int(value)


def read_u64(address):
    """The little-endian quadword at ``address`` of the inferior."""
    return int.from_bytes(bytes(gdb.selected_inferior().read_memory(address, 8)), "little")


class WrapperPrinter:
    """An atomic or cell: its value only."""

    def __init__(self, value, field):
        self.value, self.field = value, field

    def to_string(self):
        return self.value[self.field]


class IrqMutexPrinter:
    """``rustos::sync::IrqMutex<T>``: lock state, then the data."""

    def __init__(self, value):
        self.value = value

    def to_string(self):
        return "IrqMutex (locked)" if integer(self.value["locked"]) else "IrqMutex (unlocked)"

    def children(self):
        yield "data", self.value["data"]["value"]


class PageTableEntryPrinter:
    """A page-table entry: raw value, frame address, flags."""

    def __init__(self, value):
        self.value = value

    def to_string(self):
        raw = integer(self.value)
        return f"{raw:#018x} -> {raw & PTE_ADDRESS_MASK:#x} {flag_names(raw)}"


class PageTableFlagsPrinter:
    """``PageTableFlags``: the names of its set bits."""

    def __init__(self, value):
        self.value = value

    def to_string(self):
        return flag_names(integer(self.value))


class PageTablePrinter:
    """A page table: its present entries, by index."""

    def __init__(self, value):
        self.value = value

    def to_string(self):
        return "PageTable"

    def children(self):
        entries = self.value["entries"]
        for index in range(512):
            if integer(entries[index]) & 1:
                yield f"[{index}]", entries[index]


class TrapFramePrinter:
    """``TrapFrame``: the vector, the error code and every register, in hex."""

    def __init__(self, value):
        self.value = value

    def to_string(self):
        v = {f.name: int(self.value[f.name]) for f in self.value.type.strip_typedefs().fields()}
        vector = v["vector"]
        name = EXCEPTIONS[vector] if vector < len(EXCEPTIONS) else ("IRQ %d" % (vector - 32) if vector < 48 else "interrupt")
        lines = [f"TrapFrame: vector {vector} ({name}), error code {v['error_code']:#x}",
                 f"rip {v['rip']:#018x}  cs {v['cs']:#x}  rflags {v['rflags']:#x}  rsp {v['rsp']:#018x}  ss {v['ss']:#x}"]
        gprs = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")
        for row in range(0, len(gprs), 4):
            lines.append("  ".join(f"{r:>3} {v[r]:#018x}" for r in gprs[row:row + 4]))
        return "\n".join(lines)


class KernelHeapPrinter:
    """``KernelHeap``: extent and counters, then the free lists and the fallback's holes."""

    #: Most holes listed (a corrupt list may loop).
    MAX_HOLES = 64

    def __init__(self, value):
        self.value = value

    def to_string(self):
        h, s = self.value, self.value["stats"]
        start, size = int(h["start"]), int(h["size"])
        return (f"heap {start:#x}..{start + size:#x} ({size // 1024} KiB, max {int(h['max']) // 1024} KiB): "
                f"{int(s['allocs'])} allocs, {int(s['frees'])} frees, {int(s['bytes_in_use'])} B in use "
                f"(peak {int(s['peak_bytes'])}), {int(s['large_allocs'])} large, {int(s['grows'])} grows, "
                f"{int(s['failures'])} failures")

    def children(self):
        lists = self.value["lists"]
        for i in range(int(lists["class_count"])):
            size, count, head = int(lists["sizes"][i]), int(lists["counts"][i]), int(lists["heads"][i])
            yield f"free {size} B", f"{count} blocks, head {head:#x}"
        fallback = self.value["fallback"]
        yield "fallback used", int(fallback["used"])
        # The hole list (linked_list_allocator): {size: usize, next: Option<NonNull<Hole>>} nodes.
        first = fallback["holes"]["first"]
        hole = read_u64(int(first.address) + 8)
        for _ in range(self.MAX_HOLES):
            if not hole:
                break
            yield f"hole {hole:#x}", f"{read_u64(hole)} B"
            hole = read_u64(hole + 8)


class ExecutorPrinter:
    """``Executor``: counters, the live tasks, the ready queue."""

    def __init__(self, value):
        self.value = value

    def to_string(self):
        e = self.value
        return (f"executor: {int(e['live'])} live tasks of {int(e['capacity'])}, current {int(e['current'])}, "
                f"next id {int(e['next_id'])}, {int(e['total_polls'])} polls")

    def children(self):
        tasks = self.value["tasks"]
        for i in range(int(self.value["capacity"])):
            t = tasks[i]
            state = int(t["state"])
            if state == 0:
                continue
            name = bytes(gdb.selected_inferior().read_memory(int(t["name_ptr"]), int(t["name_len"]))).decode("utf-8", "replace")
            state_name = TASK_STATES[state] if state < len(TASK_STATES) else str(state)
            yield f"task {int(t['id'])}", f"{name}: {state_name}, {int(t['polls'])} polls, {int(t['wakes'])} wakes"
        ready = self.value["ready"]
        head, length, capacity = int(ready["head"]), int(ready["len"]), int(ready["capacity"])
        ids = [int(ready["slots"][(head + k) % capacity]) for k in range(min(length, capacity))]
        yield "ready", " ".join(str(i) for i in ids) or "(empty)"


#: Type name pattern -> printer class (kernel types by their last name, so
#: that moving one to another module keeps its printer).
PRINTERS = tuple((re.compile(pattern), printer) for pattern, printer in (
    (r"rustos::(\w+::)*IrqMutex<.*>", IrqMutexPrinter),
    (r"rustos::(\w+::)*TrapFrame", TrapFramePrinter),
    (r"rustos::(\w+::)*KernelHeap", KernelHeapPrinter),
    (r"rustos::(\w+::)*Executor", ExecutorPrinter),
    (r"x86_64::structures::paging::page_table::PageTableEntry", PageTableEntryPrinter),
    (r"x86_64::structures::paging::page_table::PageTableFlags", PageTableFlagsPrinter),
    (r"x86_64::structures::paging::page_table::PageTable", PageTablePrinter),
))


def lookup(value):
    """gdb's printer lookup: a printer for ``value``'s type, or None."""
    name = value.type.strip_typedefs().name
    if not name:
        return None
    for prefix, field in WRAPPERS:
        if name.startswith(prefix):
            return WrapperPrinter(value, field)
    for pattern, printer in PRINTERS:
        if pattern.fullmatch(name):
            return printer(value)
    return None


lookup.rustos = True


def kernel_statics():
    """``(short, full)`` names of the kernel's ``RUSTOS_*`` statics with debug info."""
    listing = gdb.execute("info variables -q -n RUSTOS_", to_string=True)
    return sorted({(m.group(2), m.group(1)) for m in STATIC.finditer(listing)})


def load():
    """Registers the printers, defines the short names, sets the language."""
    objfile = gdb.current_objfile()
    printers = objfile.pretty_printers if objfile is not None else gdb.pretty_printers
    printers[:] = [p for p in printers if not getattr(p, "rustos", False)] + [lookup]
    gdb.execute("set language c++", to_string=True)  # also makes `info variables` show names
    for short, full in kernel_statics():
        gdb.execute(f"macro define {short} {full}", to_string=True)


load()
