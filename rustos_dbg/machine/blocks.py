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
from .counter import callback_address, hook_add, lib
from .engine import drop_cached_code

# block(uc=rdi, pc=rsi, size=edx, state=rcx):
#   block_start = count; block_pc = pc; block_size = size; last_pc = 0
#   slot = table[(pc ^ pc >> 16) & mask]; entry = slot.n if slot is (pc, size) else miss(state, pc, size)
#   entry == -1: stop (stopped = 1) to translate the block again
#   n = entry & 0x7fffffff (0 when per_insn); sets_if = entry >> 31 (it ends in STI, POPF or IRET)
#   if irq_blocked and prev_if: stop (stopped = 2): an interrupt may be deliverable now
#   if count + n > limit: stop (stopped = 1) before the block
#   block_n = n; count += n; prev_if = sets_if
# A stop sets block_n = 0 and tail-calls uc_emu_stop(uc).
_BLOCK = bytes.fromhex(
    "89d2"                # mov edx, edx                   ; size, zero-extended
    "488b01"              # mov rax, [rcx]                 ; count
    "48894120"            # mov [rcx+32], rax              ; block_start
    "48897128"            # mov [rcx+40], rsi              ; block_pc
    "48895130"            # mov [rcx+48], rdx              ; block_size
    "48c7416000000000"    # mov qword [rcx+96], 0          ; last_pc
    "4989f1"              # mov r9, rsi
    "4989f2"              # mov r10, rsi
    "49c1ea10"            # shr r10, 16
    "4d31d1"              # xor r9, r10
    "4c234948"            # and r9, [rcx+72]               ; mask
    "49c1e104"            # shl r9, 4                      ; 16-byte slots
    "4c034940"            # add r9, [rcx+64]               ; table
    "493931"              # cmp [r9], rsi                  ; slot.pc
    "7562"                # jne miss
    "41395108"            # cmp [r9+8], edx                ; slot.size
    "755c"                # jne miss
    "458b410c"            # mov r8d, [r9+12]               ; slot.entry
    "4589c2"              # have_n: mov r10d, r8d
    "41c1ea1f"            # shr r10d, 31                   ; sets_if
    "4181e0ffffff7f"      # and r8d, 0x7fffffff            ; n
    "4883795800"          # cmp qword [rcx+88], 0          ; per_insn?
    "7403"                # je 1f
    "4531c0"              # xor r8d, r8d
    "4883796800"          # 1: cmp qword [rcx+104], 0      ; irq_blocked?
    "7407"                # je 2f
    "4883797000"          # cmp qword [rcx+112], 0         ; prev_if?
    "7515"                # jne irqstop
    "4c894138"            # 2: mov [rcx+56], r8            ; block_n
    "4901c0"              # add r8, rax
    "4c3b4108"            # cmp r8, [rcx+8]                ; limit
    "7716"                # ja stop
    "4c8901"              # mov [rcx], r8                  ; count += n
    "4c895170"            # mov [rcx+112], r10             ; prev_if
    "c3"                  # ret
    "48c7417000000000"    # irqstop: mov qword [rcx+112], 0
    "c6411802"            # mov byte [rcx+24], 2           ; stopped: interrupt window
    "eb04"                # jmp 3f
    "c6411801"            # stop: mov byte [rcx+24], 1     ; stopped: limit
    "48c7413800000000"    # 3: mov qword [rcx+56], 0       ; the block did not start
    "ff6110"              # jmp [rcx+16]                   ; uc_emu_stop(uc)
    "57"                  # miss: push rdi
    "51"                  # push rcx
    "4883ec08"            # sub rsp, 8                     ; 16-byte alignment
    "4889cf"              # mov rdi, rcx
    "ff5150"              # call [rcx+80]                  ; miss(state, pc, size)
    "4883c408"            # add rsp, 8
    "59"                  # pop rcx
    "5f"                  # pop rdi
    "4189c0"              # mov r8d, eax
    "83f8ff"              # cmp eax, -1
    "74d7"                # je stop
    "488b01"              # mov rax, [rcx]
    "eb89"                # jmp have_n
)

# insn(uc=rdi, address=rsi, size=edx, state=rcx): the per-instruction count of
# :mod:`.counter`, also recording the address it counted (last_pc).
_INSN = bytes.fromhex(
    "488b01"              # mov rax, [rcx]
    "483b4108"            # cmp rax, [rcx+8]
    "730b"                # jae stop
    "48ffc0"              # inc rax
    "488901"              # mov [rcx], rax
    "48897160"            # mov [rcx+96], rsi              ; last_pc
    "c3"                  # ret
    "c6411801"            # stop: mov byte [rcx+24], 1
    "ff6110"              # jmp [rcx+16]
)

# uc_vmem_read(uc, address, prot, bytes, size): a read through the guest's MMU
# (Unicorn's own page walk, no fault raised), not wrapped by the Python binding.
_VMEM_READ = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t,
)(("uc_vmem_read", lib))
_UC_PROT_EXEC = 4

_MISS = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32)
_RETRANSLATE = 0xFFFF_FFFF
_TABLE_BITS = 17


class _State(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in (
        "count", "limit", "emu_stop", "stopped", "block_start", "block_pc", "block_size", "block_n",
        "table", "mask", "miss", "per_insn", "last_pc", "irq_blocked", "prev_if")]


class _Slot(ctypes.Structure):
    _fields_ = [("pc", ctypes.c_uint64), ("size", ctypes.c_uint32), ("n", ctypes.c_uint32)]


class BlockCounter:
    """The exact instruction count of one engine, counted per translation block."""

    def __init__(self, uc, read_code) -> None:
        """Installs the block hook on ``uc``; ``read_code(address, size)`` reads code
        bytes at a virtual address (through the guest's page tables)."""
        self._uc = uc
        self._read_code = read_code
        self._table = (_Slot * (1 << _TABLE_BITS))()
        self._miss = _MISS(self._on_miss)
        self._state = _State()
        s = self._state
        s.limit = 2**64 - 1
        s.emu_stop = ctypes.cast(lib.uc_emu_stop, ctypes.c_void_p).value
        s.table = ctypes.addressof(self._table)
        s.mask = (1 << _TABLE_BITS) - 1
        s.miss = ctypes.cast(self._miss, ctypes.c_void_p).value
        self._state_ptr = ctypes.cast(ctypes.pointer(s), ctypes.c_void_p)
        self._block_hook = hook_add(uc, UC_HOOK_BLOCK, callback_address("block", _BLOCK), self._state_ptr, 1, 0)
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
    def stopped(self) -> bool:
        """True when the counter stopped the engine since :meth:`arm` (at its limit,
        or in the interrupt window, see :attr:`irq_blocked`)."""
        return bool(self._state.stopped)

    @property
    def irq_blocked(self) -> bool:
        """While True (an interrupt is pending, RFLAGS.IF is clear), the engine stops
        right after a block that ends in STI, POPF or IRET (the only instructions
        that set IF): the interrupt is then delivered at the first instruction
        boundary that allows it, however the run is sliced."""
        return bool(self._state.irq_blocked)

    @irq_blocked.setter
    def irq_blocked(self, value: bool) -> None:
        self._state.irq_blocked = int(value)
        self._state.prev_if = 0

    def block_irqs(self) -> None:
        """Sets :attr:`irq_blocked` from inside the run (the current block's end still counts)."""
        self._state.irq_blocked = 1

    def arm(self, limit: int) -> None:
        """Stops the engine before the count would pass ``limit``; clears :attr:`stopped`."""
        self._state.stopped = 0
        self.limit = limit

    def stop_soon(self) -> None:
        """Stops the engine at the next block or counted instruction (any thread)."""
        self._state.limit = 0

    @property
    def limit(self) -> int:
        """The count the engine does not pass."""
        return self._state.limit

    @limit.setter
    def limit(self, value: int) -> None:
        self._state.limit = min(value, 2**64 - 1)

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
        insn = callback_address("insn", _INSN)
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
        hook = hook_add(self._uc, UC_HOOK_CODE, callback_address("insn", _INSN), self._state_ptr, start, end - 1)
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

    def _layout(self, pc: int, size: int) -> tuple[tuple[int, ...], bool, bool]:
        key = (pc, size)
        layout = self._layouts.get(key)
        if layout is None:
            layout = self._layouts[key] = block_layout(self._code(pc, size))
        return layout

    def _code(self, pc: int, size: int) -> bytes:
        """The block's bytes, read through Unicorn's MMU (or our page walk)."""
        buf = ctypes.create_string_buffer(size)
        if _VMEM_READ(self._uc._uch, pc, _UC_PROT_EXEC, buf, size) == 0:
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
            return _RETRANSLATE
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
