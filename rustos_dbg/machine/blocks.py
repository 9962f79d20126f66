"""Exact instruction counts at translation-block speed (the deterministic clock).

Unicorn's per-instruction ``UC_HOOK_CODE`` forces a helper call before every
instruction (about 10x slower than bare Unicorn). :class:`BlockCounter`
counts per translation block instead: a native ``UC_HOOK_BLOCK`` callback
(machine code, like :mod:`.counter`) looks the block up by (address, size)
in a native table and adds its instruction count; a block seen for the first
time is decoded once (:mod:`rustos_dbg.x86.lengths`) by a Python callback
that fills the table.

Contract: :attr:`BlockCounter.count` is the exact number of instructions
executed, at every stop and inside every hook (as the per-instruction counter
was: inside a hook, the instruction at rip counts when it has started, so a
faulting instruction counts once; :meth:`before` uncounts it for a
breakpoint, which stops before it runs). Inside a block the stored count
already includes the whole block, so a read during a run is corrected with
the index of rip within the block; when the block is left early (an
exception, a stop) :meth:`settle` stores the corrected count.

The engine stops at a block start when the block would take the count past
:attr:`limit` (``stopped`` set, nothing of the block run). The run loop then
runs the remaining part of the block exactly (:meth:`run_partial`: the block
is translated again ending at the limit's instruction). Blocks with port I/O
are counted per instruction (a bounded native code hook on the block): a
device stop or a slice shortened by a port access then takes effect right
after that instruction. :meth:`per_instruction` switches every block to
per-instruction counting (watchpoints stop right after an access).
"""

from __future__ import annotations

import bisect
import ctypes

from unicorn.unicorn_const import UC_HOOK_BLOCK, UC_HOOK_CODE
from unicorn.x86_const import UC_X86_REG_RIP

from ..x86.lengths import block_layout
from .blockcode import BLOCK, INSN, MISS, RETRANSLATE, TABLE_BITS, UC_PROT_EXEC, Slot, State, vmem_read
from .counter import Limited, callback_address, hook_add, lib
from .engine import drop_cached_code
from .entry import ModeProbe


class BlockCounter(Limited):
    """The exact instruction count of one engine, counted per translation block."""

    def __init__(self, uc, read_code) -> None:
        """Installs the block hook on ``uc``; ``read_code(address, size)`` reads code
        bytes at a virtual address (through the guest's page tables)."""
        self._uc = uc
        self._read_code = read_code
        self._mode = ModeProbe(uc)
        self._table = (Slot * (1 << TABLE_BITS))()
        self._miss = MISS(self._on_miss)
        self._state = State()
        s = self._state
        s.limit = 2**64 - 1
        s.emu_stop = ctypes.cast(lib.uc_emu_stop, ctypes.c_void_p).value
        s.table = ctypes.addressof(self._table)
        s.mask = (1 << TABLE_BITS) - 1
        s.miss = ctypes.cast(self._miss, ctypes.c_void_p).value
        self._state_ptr = ctypes.cast(ctypes.pointer(s), ctypes.c_void_p)
        self._block_hook = hook_add(uc, UC_HOOK_BLOCK, callback_address("block", BLOCK), self._state_ptr, 1, 0)
        #: Blocks seen, as {pc: size}: the table's entries, to invalidate by range.
        self._seen: dict[int, int] = {}
        #: Address ranges [start, end) counted per instruction (blocks with port I/O).
        self._io_ranges: dict[int, tuple[int, int]] = {}   # start -> (end, hook)
        self._pending_io: tuple[int, int] | None = None
        #: Decoded blocks by (pc, size), like the native table.
        self._layouts: dict[tuple[int, int], tuple[tuple[int, ...], bool, bool]] = {}
        self._all_hook: int | None = None
        self._reasons: set[str] = set()
        #: True while the engine runs (reads of :attr:`count` are then corrected).
        self.running = False
        #: Each is called with (pc, size) for each block decoded from guest memory.
        self.new_block_observers: list = []

    # --- the count ------------------------------------------------------------

    @property
    def count(self) -> int:
        """Instructions executed so far (exact, also inside a hook)."""
        s = self._state
        if not self.running or not s.block_n:
            return s.count
        return self._exact(self._uc.reg_read(UC_X86_REG_RIP), started=True)

    @count.setter
    def count(self, value: int) -> None:
        self._state.count = value
        self._state.block_n = 0

    def _exact(self, rip: int, started: bool) -> int:
        """The count at ``rip`` inside the current block: the instructions before
        it, plus it when it has ``started``."""
        s = self._state
        pc, size = s.block_pc, s.block_size
        if not pc <= rip < pc + size:
            return s.count  # the block ran to its end (rip is past it)
        offsets = self._layout(pc, size)[0]
        return s.block_start + bisect.bisect_left(offsets, rip - pc) + (1 if started else 0)

    def settle(self) -> None:
        """Stores the exact count (from an exception hook, before the delivery
        moves rip, or once the engine returned): the current block is left."""
        s = self._state
        if s.block_n:
            s.count = self._exact(self._uc.reg_read(UC_X86_REG_RIP), started=True)
            s.block_n = 0

    def before(self, rip: int) -> None:
        """A breakpoint stops before the instruction at ``rip``: uncount it."""
        s = self._state
        if s.block_n:
            s.count = self._exact(rip, started=False)
            s.block_n = 0
        elif s.last_pc == rip:
            s.count -= 1  # counted per instruction already
            s.last_pc = 0

    @property
    def irq_blocked(self) -> bool:
        """While True (an interrupt is pending, RFLAGS.IF is clear), the engine stops
        right after a block that ends in STI, POPF or IRET (the only instructions
        that set IF), with :attr:`stopped` set (to 2; a limit sets 1): the interrupt is
        then delivered at the first instruction boundary that allows it, however
        the run is sliced."""
        return bool(self._state.irq_blocked)

    @irq_blocked.setter
    def irq_blocked(self, value: bool) -> None:
        self._state.irq_blocked = int(value)
        self._state.prev_if = 0

    def block_irqs(self) -> None:
        """Sets :attr:`irq_blocked` from inside the run (the current block's end still counts)."""
        self._state.irq_blocked = 1

    def forget_range(self, start: int, end: int) -> None:
        """Forgets the decodings of blocks starting in [start, end) (another address
        space is about to map other code there)."""
        for pc in [pc for pc in self._seen if start <= pc < end]:
            self._forget(pc)
        for key in [key for key in self._layouts if start <= key[0] < end]:
            del self._layouts[key]

    def forget_code(self) -> None:
        """Forgets every block's decoded layout and table entry (after code was
        written: a block at the same address and size may now hold other
        instructions). Call it with the translated blocks dropped."""
        ctypes.memset(self._table, 0, ctypes.sizeof(self._table))
        self._seen.clear()
        self._layouts.clear()

    # --- the run ------------------------------------------------------------------

    def run(self, rip: int, until: int, soft_limit: int | None = None, prepare=None) -> None:
        """Runs the engine from ``rip`` until it stops (``until``: an address never
        reached). Reaches the limit exactly: when the engine stopped at the start
        of a block that would pass it, the rest is run (the block translated again
        to end at the limit's instruction, then dropped), unless the limit is
        still ``soft_limit`` (a slice length of no consequence: the slice may end
        before it, once it made progress). ``prepare()`` is called before every
        ``emu_start``."""
        s, uc = self._state, self._uc
        partial = None
        target = until
        start = s.count
        while True:
            if prepare is not None:
                prepare()
            self.running = True
            try:
                uc.emu_start(rip, target)
            finally:
                self.running = False
                self.settle()
                if partial is not None:
                    drop_cached_code(uc, *partial)
            rip = uc.reg_read(UC_X86_REG_RIP)
            if self._pending_io is not None:
                self._count_per_instruction(*self._pending_io)
                self._pending_io = None
                s.stopped = 0
                partial, target = None, until
                continue
            if partial is not None and rip == target and s.count == s.limit:
                s.stopped = 1  # ended at the limit's instruction: our stop, not a HLT
                return
            if not (s.stopped == 1 and s.count < s.limit) or (s.limit == soft_limit and s.count > start):
                return
            # Stopped at a block start short of the limit: run the rest of it.
            pc, size = s.block_pc, s.block_size
            offsets = self._layout(pc, size)[0]
            partial, target = (pc, pc + size), pc + offsets[s.limit - s.count]
            drop_cached_code(uc, *partial)
            s.stopped = 0

    # --- per-instruction counting -------------------------------------------------

    def per_instruction(self, on: bool, reason: str = "watch") -> None:
        """Counts every instruction with a code hook while some ``reason`` wants it
        ("watch": watchpoints stop right after an access; "step": runs of a few
        instructions, which then need no partial blocks), or per block again;
        a switch drops every translated block (hooks apply at translation). The
        port I/O blocks' own hooks are off meanwhile (they would count twice)."""
        if on:
            self._reasons.add(reason)
        else:
            self._reasons.discard(reason)
        on = bool(self._reasons)
        if on == (self._all_hook is not None):
            return
        insn = callback_address("insn", INSN)
        if on:
            self._all_hook = hook_add(self._uc, UC_HOOK_CODE, insn, self._state_ptr, 1, 0)
            for start, (end, hook) in self._io_ranges.items():
                self._hook_del(hook)
            self._state.per_insn = 1
        else:
            self._hook_del(self._all_hook)
            self._all_hook = None
            for start, (end, _) in list(self._io_ranges.items()):
                self._io_ranges[start] = (end, hook_add(self._uc, UC_HOOK_CODE, insn, self._state_ptr, start, end - 1))
            self._state.per_insn = 0
        self._uc.ctl_flush_tb()

    def _count_per_instruction(self, start: int, end: int) -> None:
        """Blocks over [start, end) count per instruction from now on."""
        hook = hook_add(self._uc, UC_HOOK_CODE, callback_address("insn", INSN), self._state_ptr, start, end - 1)
        self._io_ranges[start] = (end, hook)
        for pc, size in list(self._seen.items()):
            if pc < end and start < pc + size:
                self._forget(pc)
        drop_cached_code(self._uc, start, end)

    def _forget(self, pc: int) -> None:
        del self._seen[pc]
        slot = self._table[(pc ^ (pc >> 16)) & self._state.mask]
        if slot.pc == pc:
            slot.pc = 0

    # --- the table ----------------------------------------------------------------

    def decoded_blocks(self) -> list[tuple[int, int]]:
        """The (pc, size) of every block decoded and not forgotten since: each ran at least once."""
        return list(self._layouts)

    def _layout(self, pc: int, size: int) -> tuple[tuple[int, ...], bool, bool]:
        key = (pc, size)
        layout = self._layouts.get(key)
        if layout is None:
            # Code above 4 GiB is 64-bit; below, a boot path may run 32-bit code.
            code64 = pc >> 32 != 0 or self._mode.code64()
            layout = self._layouts[key] = block_layout(self._code(pc, size), code64)
            for observer in self.new_block_observers:
                observer(pc, size)
        return layout

    def _code(self, pc: int, size: int) -> bytes:
        """The block's bytes, read through Unicorn's MMU (or our page walk)."""
        buf = ctypes.create_string_buffer(size)
        if vmem_read(self._uc._uch, pc, UC_PROT_EXEC, buf, size) == 0:
            return buf.raw
        return self._read_code(pc, size)

    def _on_miss(self, _state, pc: int, size: int) -> int:
        try:
            offsets, io, sets_if = self._layout(pc, size)
        except Exception:  # not readable through the page tables: Unicorn's own count
            offsets, io, sets_if = tuple(range(self._uc.ctl_request_cache(pc).icount)), False, True
        hooked = [(start, end) for start, (end, _) in self._io_ranges.items() if start < pc + size and pc < end]
        if io and not any(start <= pc and pc + size <= end for start, end in hooked):
            if self._all_hook is not None:
                return 1 << 31 if sets_if else 0  # counted per instruction anyway: not kept
            self._pending_io = (pc, pc + size)
            return RETRANSLATE
        # Instructions inside a per-instruction range are counted there.
        n = sum(1 for off in offsets if not any(start <= pc + off < end for start, end in hooked))
        old = self._seen.get(pc)
        if old is not None and old != size:
            self._forget(pc)
        slot = self._table[(pc ^ (pc >> 16)) & self._state.mask]
        if slot.pc and slot.pc != pc:
            self._seen.pop(slot.pc, None)
        entry = n | (1 << 31 if sets_if else 0)
        slot.pc, slot.size, slot.n = pc, size, entry
        self._seen[pc] = size
        return entry

    def _hook_del(self, handle: int) -> None:
        lib.uc_hook_del(self._uc._uch, ctypes.c_size_t(handle))

    def remove(self) -> None:
        """Removes the hooks."""
        self._hook_del(self._block_hook)
        for _, hook in self._io_ranges.values():
            self._hook_del(hook)
        if self._all_hook is not None:
            self._hook_del(self._all_hook)
