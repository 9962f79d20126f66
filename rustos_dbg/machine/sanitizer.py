"""The heap sanitizer: shadow state for every byte of the kernel heap, checked at each access.

Contract: :class:`HeapSanitizer` (``Machine.sanitizer``; ``Machine.sanitize_heap(True)``)
hooks the kernel allocator's entry points, found by symbol (:data:`ALLOCATOR`):
``KernelHeap::alloc`` (every allocation reaches it, ``__rust_alloc`` being
inlined into most callers) and the two places a block is given back,
``BlockLists::push`` and ``linked_list_allocator::Heap::deallocate`` (the
heap's ``dealloc`` is inlined everywhere), at their first instruction (the
pointer, and the caller's frame-pointer backtrace) and at their ``ret``
instructions (the block returned in RAX; its size is what the call added to
the heap's ``bytes_in_use`` statistic). It keeps one shadow byte per heap byte
(:data:`UNALLOCATED`, :data:`LIVE`, :data:`FREED`, :data:`UNKNOWN`) and a
record per block (:class:`HeapBlock`: its allocation and free as
:class:`~.sites.Site`). The heap's range comes from the ``KernelHeap`` header in
``RUSTOS_HEAP`` (found by its ``HEAP`` magic): memory hooks cover only the
physical frames that back the heap's mapped pages (hooks see physical
addresses), re-made between slices when the heap grows.

Verdicts (:class:`HeapError`): a read or write, by code outside the
allocator, of a freed byte (``use-after-free``) or of a heap byte no live
block holds (``out-of-bounds``); a ``double-free``; an ``invalid-free`` (a
pointer that is not the start of a block). The first one
stops the run (``StopKind.SANITIZER``, the error in ``Stop.detail``): a free
before the dealloc runs, an access once the translated block holding it has
run (the access's own rip and instruction count are exact). Accesses while
an allocator call is in progress, or made by the allocator's code
(:data:`ALLOCATOR_CODE`), are the allocator's own (its free lists live in
freed blocks) and are not checked. Bytes of blocks allocated before the
sanitizer was turned on are :data:`UNKNOWN`: never reported.

Determinism: the hooks only read guest state, and the heap re-hooking ends a
slice early, which the run loop makes invisible; instruction counts are the
same as without the sanitizer up to its stop. The deterministic mode is
required (the counter gives each event's instruction count). The shadow
state is debugger state: a restore (snapshots, time travel) does not rewind
it; turn the sanitizer off and on again after going back.
"""

from __future__ import annotations

import struct
from dataclasses import replace

from unicorn import UC_HOOK_CODE, UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE

from ..structs.kernel import KernelMagic
from .engine import drop_cached_code, flush_tlb
from .heapmodel import HeapBlock, HeapError, image_bytes, ret_sites  # noqa: F401 (re-exported)
from .sites import Site, site_here

#: Shadow states (odd: accesses allowed).
UNALLOCATED, LIVE, FREED, UNKNOWN = 0, 1, 2, 3
#: The allocator's entry points, and where each finds the block's pointer.
ALLOCATOR = {"<rustos::heap::KernelHeap>::alloc": ("alloc", None),
             "<rustos_core::blocks::BlockLists>::push": ("free", "rdx"),      # (self, class, ptr)
             "<linked_list_allocator::Heap>::deallocate": ("free", "rsi")}   # (self, ptr, layout)
#: Code whose heap accesses are the allocator's own (symbol name prefixes and parts).
ALLOCATOR_CODE = ("<rustos::heap::", "rustos::heap::", "<rustos_core::blocks::", "<linked_list_allocator::",
                  "linked_list_allocator::", "__rustc::__rust", "<rustos::sync::IrqMutex<rustos::heap::")
PAGE = 4096
_HEADER_SEARCH = 64          # bytes of RUSTOS_HEAP searched for the magic
_START, _IN_USE = 8, 48   # offsets in KernelHeap: start (size, max follow), stats.bytes_in_use (structs.kernel)


class HeapSanitizer:
    """The heap sanitizer of one machine (off until :meth:`enable`)."""

    def __init__(self, machine) -> None:
        """Sanitizes ``machine``'s kernel heap once enabled."""
        self._m = machine
        self.enabled = False
        #: The first error found (None: none yet); it stopped the run.
        self.error: HeapError | None = None
        self._code_hooks: list[int] = []
        self._mem_hooks: list[int] = []
        self._calls: dict[int, tuple] = {}       # rsp at entry -> (kind, args, event)
        self._blocks: dict[int, HeapBlock] = {}
        self._shadow = bytearray()
        self._pages: dict[int, int] = {}          # physical page -> heap offset of its virtual page
        self._header: int | None = None
        self._start = self._size = 0
        self._pending: HeapError | None = None
        self._rehook_due = False

    # --- on and off ------------------------------------------------------------------

    def enable(self) -> None:
        """Hooks the allocator and the heap (a ``ValueError`` when the kernel lacks them,
        or in the fast mode). Blocks allocated before now are not tracked."""
        m = self._m
        if self.enabled:
            return
        if m.clock.counter is None:
            raise ValueError("the heap sanitizer needs the deterministic mode")
        if m.symbols.find("RUSTOS_HEAP") is None:
            raise ValueError("this kernel has no RustOS heap (symbol RUSTOS_HEAP not found): nothing to sanitize")
        entries = {}
        for name, (kind, pointer) in ALLOCATOR.items():
            sym = m.symbols.find(name)
            if sym is None:
                raise ValueError(f"the kernel has no '{name}': no allocator to hook")
            entries[sym.address] = (kind, pointer)
        self._allocator = [(s.address, s.address + s.size) for s in m.symbols
                           if s.kind == "func" and s.size and s.name.startswith(ALLOCATOR_CODE)]
        heap = m.symbols.find("RUSTOS_HEAP")
        if heap is None:
            raise ValueError("the kernel has no 'RUSTOS_HEAP': no heap to sanitize")
        read_code = lambda address, size: image_bytes(m.image, address, size)  # noqa: E731
        rets = sorted({r for start in entries for r in ret_sites(read_code, m.symbols, start)})
        self._header_search(heap.address)
        self._calls, self._blocks, self.error, self._pending = {}, {}, None, None
        self._shadow = bytearray()
        self._start, self._size = 0, 0
        for address, what in entries.items():
            self._code_hooks.append(m.uc.hook_add(UC_HOOK_CODE, self._on_entry, what, address, address))
        for address in rets:
            self._code_hooks.append(m.uc.hook_add(UC_HOOK_CODE, self._on_ret, None, address, address))
        for address in list(entries) + rets:
            drop_cached_code(m.uc, address, address + 1)
        self.enabled = True
        self._resize(untracked=True)
        self.rehook()

    def disable(self) -> None:
        """Removes every hook and forgets the shadow state."""
        m = self._m
        for h in self._code_hooks + self._mem_hooks:
            m.uc.hook_del(h)
        self._code_hooks, self._mem_hooks = [], []
        self._calls, self._blocks, self._shadow, self._pages = {}, {}, bytearray(), {}
        self.enabled, self._pending, self._rehook_due = False, None, False
        flush_tlb(m.uc)
        m.uc.ctl_flush_tb()

    @property
    def blocks(self) -> tuple[HeapBlock, ...]:
        """Every block seen (live and freed), by address."""
        return tuple(sorted(self._blocks.values(), key=lambda b: b.address))

    @property
    def heap_range(self) -> tuple[int, int]:
        """(start, mapped size) of the heap as last read."""
        return self._start, self._size

    # --- the heap's range --------------------------------------------------------------

    def _header_search(self, address: int) -> None:
        self._header = None
        try:
            data = self._m.read_virtual(address, _HEADER_SEARCH)
        except Exception:
            self._header_at = address
            return
        magic = struct.pack("<I", KernelMagic.HEAP)
        at = data.find(magic)
        self._header = address + at if at >= 0 else None
        self._header_at = address

    def _read_header(self) -> tuple[int, int, int] | None:
        if self._header is None:
            self._header_search(self._header_at)
            if self._header is None:
                return None
        try:
            start, size, limit = struct.unpack("<QQQ", self._m.read_virtual(self._header + _START, 24))
        except Exception:
            return None
        return start, size, limit

    def _resize(self, untracked: bool = False) -> bool:
        """Reads the heap's range; True when it changed (the shadow grows: bytes mapped
        before the sanitizer was on are UNKNOWN, later ones UNALLOCATED)."""
        header = self._read_header()
        if header is None:
            return False
        start, size, limit = header
        if (start, size) == (self._start, self._size):
            return False
        if start != self._start:
            self._shadow = bytearray(limit + PAGE)
            self._start = start
            self._size = 0
        if untracked and size > self._size:
            self._shadow[self._size:size] = bytes([UNKNOWN]) * (size - self._size)
        self._size = size
        return True

    def rehook(self) -> None:
        """Hooks the physical frames of the heap's mapped pages (between slices)."""
        m = self._m
        self._rehook_due = False
        for h in self._mem_hooks:
            m.uc.hook_del(h)
        self._mem_hooks, self._pages = [], {}
        runs: list[list[int]] = []
        for offset in range(0, self._size, PAGE):
            try:
                walk = m.memory.walk(self._start + offset)
            except Exception:
                continue
            if not walk.ok:
                continue
            frame = walk.paddr & ~(PAGE - 1)
            self._pages[frame >> 12] = offset
            if runs and runs[-1][1] == frame:
                runs[-1][1] = frame + PAGE
            else:
                runs.append([frame, frame + PAGE])
        for lo, hi in sorted(runs):
            self._mem_hooks.append(m.uc.hook_add(UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, self._on_access, None,
                                                 lo, hi - 1))
        flush_tlb(m.uc)
        m.uc.ctl_flush_tb()

    # --- events --------------------------------------------------------------------------

    def _in_use(self) -> int | None:
        if self._header is None:
            self._header_search(self._header_at)
            if self._header is None:
                return None
        try:
            return struct.unpack("<Q", self._m.read_virtual(self._header + _IN_USE, 8))[0]
        except Exception:
            return None

    def _on_entry(self, uc, address: int, size: int, what) -> None:
        kind, pointer = what
        m = self._m
        rsp = m.cpu.reg("rsp")
        event = site_here(m, address, rsp)
        if kind == "free":
            ptr = m.cpu.reg(pointer)
            if self._check_free(ptr, event, address):
                return
            self._free(ptr, event)
            self._calls[rsp] = (kind, None, event)
        else:
            self._calls[rsp] = (kind, self._in_use(), event)

    def _on_ret(self, uc, address: int, size: int, _data) -> None:
        call = self._calls.pop(self._m.cpu.reg("rsp"), None)
        if call is None:
            return
        kind, in_use, event = call
        if kind != "alloc":
            return
        ptr = self._m.cpu.reg("rax")
        after = self._in_use()
        if not ptr or in_use is None or after is None:
            return
        self._alloc(ptr, after - in_use, event)

    def _offset(self, address: int) -> int | None:
        off = address - self._start
        return off if 0 <= off < len(self._shadow) else None

    def _alloc(self, ptr: int, size: int, event: Site) -> None:
        if self._resize():
            self._request_settle()
        self._blocks[ptr] = HeapBlock(ptr, size, event)
        off = self._offset(ptr)
        if off is not None:
            self._shadow[off:off + size] = bytes([LIVE]) * size

    def _free(self, ptr: int, event: Site) -> None:
        block = self._blocks.get(ptr)
        off = self._offset(ptr)
        if block is None or off is None:
            return
        self._blocks[ptr] = replace(block, freed=event)
        self._shadow[off:off + block.size] = bytes([FREED]) * block.size

    def _check_free(self, ptr: int, event: Site, address: int) -> bool:
        """Reports a double or invalid free (stopping before the dealloc runs); True then."""
        off = self._offset(ptr)
        if off is None or self._shadow[off] == UNKNOWN or self.error is not None:
            return False
        block = self._blocks.get(ptr)
        if block is not None and block.freed is None:
            return False
        if block is not None and block.freed is not None:
            kind = "double-free"
        else:
            kind = "invalid-free"
            block = block or self._nearest(ptr)
        self.error = HeapError(kind, "free", ptr, block.size if block is not None else 0, event, block)
        counter = self._m.clock.counter
        counter.before(address)  # stopped before the dealloc's first instruction runs
        from .stops import StopKind

        self._m.hooks.request(StopKind.SANITIZER, address=ptr, detail=self.error, message=self.error.describe())
        return True

    def _nearest(self, address: int) -> HeapBlock | None:
        """The block holding ``address``, else the closest one below it (then above)."""
        best = None
        for block in self._blocks.values():
            if block.address <= address < block.end:
                return block
            if block.address <= address and (best is None or block.address > best.address):
                best = block
        if best is None:
            above = [b for b in self._blocks.values() if b.address > address]
            best = min(above, key=lambda b: b.address) if above else None
        return best

    def _on_access(self, uc, access: int, paddr: int, size: int, value: int, _data) -> None:
        if self._calls or self.error is not None:
            return
        base = self._pages.get(paddr >> 12)
        if base is None:
            return
        off = base + (paddr & (PAGE - 1))
        shadow = self._shadow
        last = off + size - 1
        if last < len(shadow) and shadow[off] & 1 and shadow[last] & 1:
            return
        m = self._m
        rip = m.cpu.reg("rip")
        if any(lo <= rip < hi for lo, hi in self._allocator):
            return
        state = shadow[off] if shadow[off] != LIVE else shadow[min(last, len(shadow) - 1)]
        address = self._start + off
        event = site_here(m, rip)
        block = self._nearest(address) if state != FREED else self._blocks.get(self._freed_start(address)) \
            or self._nearest(address)
        kind = "use-after-free" if state == FREED else "out-of-bounds"
        self.error = self._pending = HeapError(kind, "write" if access == 17 else "read", address, size, event,
                                               block)
        self._request_settle()

    def _freed_start(self, address: int) -> int | None:
        for block in self._blocks.values():
            if block.freed is not None and block.address <= address < block.end:
                return block.address
        return None

    def _request_settle(self) -> None:
        """Ends the slice before the next translated block (never from inside a memory
        access: the engine would replay it); :meth:`settle` then runs."""
        self._rehook_due = True
        m = self._m
        m.control.watch_due = True
        counter = m.clock.counter
        counter.limit = counter.count

    def settle(self):
        """Between slices: re-hooks a heap that grew, and returns the stop for a new
        access error (None: nothing to report)."""
        if not self.enabled or not self._rehook_due:
            return None
        self.rehook()
        error, self._pending = self._pending, None
        if error is None:
            return None
        from .stops import Stop, StopKind

        m = self._m
        return Stop(StopKind.SANITIZER, m.cpu.reg("rip"), m.icount, address=error.address, detail=error,
                    message=error.describe())

    def clear_error(self) -> None:
        """Forgets the error found, so the next one stops the run again."""
        self.error = None
