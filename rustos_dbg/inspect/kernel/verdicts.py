"""Views of the emulator's verdicts: a heap error of the sanitizer and an IRQ-unsafe lock.

Contract: pure views over the machine's verdict models
(``rustos_dbg.machine.sanitizer.HeapError``, ``rustos_dbg.machine.locktrack.IrqUnsafeLock``,
both built of ``rustos_dbg.machine.sites.Site``) and two lookups passed in:
``symbolize(addr)`` (``name+0xoff``) and ``source_line(addr)`` (``file:line`` or
None). A site is named by the first frame of its backtrace outside the
allocation machinery and the standard library (:data:`LIBRARY`): ``allocated at
SYMBOL (FILE:LINE)``. Where the line table gives a standard-library line (code
inlined from ``core`` or ``alloc``: absolute paths) or one of the kernel's
allocation and locking machinery (:data:`MACHINERY_FILES`), the nearest other
kernel line before it (within :data:`_BACK` bytes) is shown instead, the
inlined line after it.
Return addresses are looked up at ``addr - 1`` (a call may end a line).
Views return text; nothing here reads guest memory.
"""

from __future__ import annotations

from ..hw.common import return_symbol, symbol_name

#: Symbol prefixes of code that is not where the kernel's own logic is.
LIBRARY = ("alloc::", "<alloc::", "core::", "<core::", "__rustc::", "<rustos::heap::", "rustos::heap::",
           "<rustos_core::blocks::", "<linked_list_allocator::", "<rustos::sync::IrqMutex<rustos::heap::")
#: Kernel files of the allocation and locking machinery (inlined into callers).
MACHINERY_FILES = ("src/heap.rs", "src/sync.rs")
_BACK = 1024   # bytes searched backwards for a kernel line


def _is_library_line(line: str | None) -> bool:
    return line is None or line.startswith("/") or line.startswith(MACHINERY_FILES)


def kernel_line(source_line, address: int) -> str | None:
    """``file:line`` of ``address``; for an inlined standard-library line, the kernel
    line before it (``src/fault.rs:120, inlined .../ptr/mod.rs:2182``)."""
    line = source_line(address)
    if not _is_library_line(line):
        return line
    for back in range(1, _BACK):
        other = source_line(address - back)
        if not _is_library_line(other):
            return f"{other}, inlined {line}" if line else other
    return line


def _name(symbolize, address: int) -> str:
    text = symbolize(address)
    return text[:text.rindex("+")] if "+0x" in text else text


def frame_text(symbolize, source_line, address: int, is_return: bool) -> str:
    """``0x...  symbol+off (file:line)`` of one frame (a return address is looked up at ``address - 1``)."""
    at = address - 1 if is_return else address
    line = kernel_line(source_line, at)
    name = (return_symbol(symbolize, address) if is_return else symbol_name(symbolize, address)) or ""
    return f"{address:#x}  {name}".rstrip() + (f" ({line})" if line else "")


def site_place(symbolize, source_line, site, returns: bool = True) -> str:
    """``SYMBOL (FILE:LINE)`` of a site: its first frame outside :data:`LIBRARY`
    (``frames[0]`` is a return address when ``returns``)."""
    for i, address in enumerate(site.frames or (site.rip,)):
        at = address - 1 if returns or i else address
        name = _name(symbolize, at)
        if not name.startswith(LIBRARY):
            line = kernel_line(source_line, at)
            return name + (f" ({line})" if line else "")
    return _name(symbolize, site.rip)


def site_lines(symbolize, source_line, site, indent: str = "    ", returns: bool = True) -> list[str]:
    """The backtrace of a site, one frame a line (``frames[0]`` is a return address when ``returns``)."""
    return [f"{indent}#{i:<2} {frame_text(symbolize, source_line, a, returns or i > 0)}"
            for i, a in enumerate(site.frames)]


def heap_error_view(error, symbolize, source_line) -> str:
    """The sanitizer's report: the access, the block, its allocation and its free."""
    access = error.event
    lines = []
    if error.access == "free":
        lines.append(f"heap {error.kind}: free of {error.address:#x} at {site_place(symbolize, source_line, access)}"
                     f", icount {access.icount}")
        lines.extend(site_lines(symbolize, source_line, access))
    else:
        line = kernel_line(source_line, access.rip)
        lines.append(f"heap {error.kind}: {error.access} of {error.size} bytes at {error.address:#x} "
                     f"by {access.rip:#x} <{symbolize(access.rip)}>" + (f" ({line})" if line else "")
                     + f", icount {access.icount}")
        lines.extend(site_lines(symbolize, source_line, access, returns=False))
    block = error.block
    if block is None:
        lines.append("  no block of the heap was ever allocated near it")
        return "\n".join(lines)
    where = _relation(error.address, block)
    state = "freed" if block.freed is not None else "live"
    lines.append(f"  block {block.address:#x}, {block.size} bytes ({state}): the address is {where}")
    lines.append(f"  allocated at {site_place(symbolize, source_line, block.allocated)}, icount {block.allocated.icount}")
    lines.extend(site_lines(symbolize, source_line, block.allocated))
    if block.freed is not None:
        lines.append(f"  freed at {site_place(symbolize, source_line, block.freed)}, icount {block.freed.icount}")
        lines.extend(site_lines(symbolize, source_line, block.freed))
    return "\n".join(lines)


def _relation(address: int, block) -> str:
    if block.address <= address < block.end:
        return f"{address - block.address} bytes inside it"
    if address >= block.end:
        return f"{address - block.end} bytes past its end"
    return f"{block.address - address} bytes before it"


def _acquisition_lines(symbolize, source_line, label: str, acq) -> list[str]:
    site = acq.site
    line = kernel_line(source_line, site.rip)
    irq = "on" if acq.interrupts else "off"
    head = (f"  {label}: taken by {site.rip:#x} <{symbolize(site.rip)}>" + (f" ({line})" if line else "")
            + f" in {acq.context}, interrupts {irq}, icount {site.icount}")
    return [head] + site_lines(symbolize, source_line, site, indent="      ", returns=False)


def irq_unsafe_view(verdict, symbolize, source_line) -> str:
    """An IRQ-unsafe lock with both acquisition sites."""
    lines = [f"IRQ-unsafe lock {verdict.name} (word {verdict.word:#x}): taken with interrupts on outside "
             "handlers and inside an interrupt handler; the interrupt can come while the lock is held, "
             "and its handler then spins forever"]
    lines += _acquisition_lines(symbolize, source_line, "with interrupts on", verdict.thread)
    lines += _acquisition_lines(symbolize, source_line, "in an interrupt handler", verdict.irq)
    return "\n".join(lines)
