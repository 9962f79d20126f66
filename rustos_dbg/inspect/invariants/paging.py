"""Invariants of the page tables: W^X, every table frame owned by the frame allocator,
and the kernel half the same in every address space.

Contract: ``check_paging(machine)`` lists, under the current CR3, the
present leaf mappings (:func:`rustos_dbg.x86.mappings.iter_mappings`, runs of
equal permissions merged) that are writable and executable at once, each
with its range and the symbol at its start; then every paging-structure
table (:func:`~rustos_dbg.x86.mappings.iter_tables`) whose frame the frame
allocator's bitmap (:func:`rustos_dbg.inspect.kernel.read_frames`) marks free
(a table the allocator could hand out again); then the PML4 of every live
thread's address space (``cr3`` in ``RUSTOS_THREADS``, 0 for the kernel's
own) against the current one: entries 256-511 (the kernel half) must be the
same, or the kernel would see other code or data after a switch. Before
paging is on it is ``ok`` with the note ``paging off``; before the frame
allocator is set up (no bitmap) only W^X is checked; a kernel without a
thread table has no other address spaces to compare.
"""

from __future__ import annotations

from ...x86.mappings import iter_mappings, iter_tables
from ..hw.common import PhysCache, paging_mode
from ..kernel import read_frames
from ..kernel.threads import read_threads
from .model import CheckResult

_CR0_PG = 1 << 31
_LEVEL_NAMES = {4: "PML4", 3: "PDPT", 2: "PD", 1: "PT"}
_KERNEL_HALF = range(256, 512)
_ADDRESS = 0x000F_FFFF_FFFF_F000


def address_spaces(machine) -> list[tuple[int, int]]:
    """(thread id, PML4 physical address) of every live thread with its own address space."""
    try:
        table = read_threads(machine, machine.image)
    except Exception:  # no thread table in this kernel
        return []
    return [(t.tid, t.cr3 & _ADDRESS) for t in table.threads if t.cr3]


def kernel_half_problems(machine) -> list[str]:
    """How each address space's kernel half differs from the current one's."""
    cr3 = machine.reg("cr3") & _ADDRESS
    ours = machine.read_physical(cr3, 4096)
    problems = []
    for tid, pml4 in address_spaces(machine):
        theirs = machine.read_physical(pml4, 4096)
        for index in _KERNEL_HALF:
            a, b = ours[index * 8:index * 8 + 8], theirs[index * 8:index * 8 + 8]
            if a != b:
                problems.append(f"thread {tid}'s address space (PML4 at {pml4:#x}): kernel-half entry {index} is "
                                f"{int.from_bytes(b, 'little'):#x}, the current one's {int.from_bytes(a, 'little'):#x}")
                break
    return problems


def check_paging(machine) -> CheckResult:
    """W^X and the table frames over the current address space (see the module)."""
    if not machine.reg("cr0") & _CR0_PG:
        return CheckResult("paging", note="paging off")
    problems = []
    read = PhysCache(machine.read_physical)
    cr3, mode = machine.reg("cr3"), paging_mode(machine)
    for leaf in iter_mappings(read, cr3, mode):
        if leaf.permissions.writable and leaf.permissions.executable:
            problems.append(f"{leaf.vaddr:#x}-{leaf.end:#x} ({machine.symbolize(leaf.vaddr)}) is writable "
                            f"and executable")
    frames = read_frames(machine, machine.image)
    if not frames.bitmap or frames.used_bits is None:
        return CheckResult("paging", tuple(problems), "frame allocator not set up: tables not checked")
    size = frames.frame_size or 4096
    for table, level in iter_tables(read, cr3, mode):
        frame = table // size
        if frame >= frames.frame_count:
            continue  # not RAM the allocator tracks
        word = int.from_bytes(machine.read_virtual(frames.bitmap + frame // 64 * 8, 8), "little")
        if not word >> (frame % 64) & 1:
            problems.append(f"the {_LEVEL_NAMES.get(int(level), level)} table at physical {table:#x} is in "
                            f"frame {frame}, which the frame allocator marks free")
    problems += kernel_half_problems(machine)
    return CheckResult("paging", tuple(problems))
