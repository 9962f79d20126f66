"""The native half of the block counter: its machine code and the state it shares.

Contract: :data:`BLOCK` is a ``UC_HOOK_BLOCK`` callback and :data:`INSN` a
``UC_HOOK_CODE`` callback, both x86-64 System V machine code taking a
:class:`State` as user data (the layout below is the code's: offsets in the
comments); :class:`Slot` is one entry of the table ``State.table`` points to.
:data:`MISS` is the prototype of the Python callback the block code calls for
a block not in the table: it returns the table entry (instruction count in
bits 0-30, bit 31 when the block ends in STI, POPF or IRET) or
:data:`RETRANSLATE`. :data:`vmem_read` is Unicorn's ``uc_vmem_read``, :data:`vmem_translate` its
``uc_vmem_translate``.
"""

from __future__ import annotations

import ctypes

from .counter import lib

# block(uc=rdi, pc=rsi, size=edx, state=rcx):
#   block_start = count; block_pc = pc; block_size = size; last_pc = 0
#   slot = table[(pc ^ pc >> 16) & mask]; entry = slot.n if slot is (pc, size) else miss(state, pc, size)
#   entry == -1: stop (stopped = 1) to translate the block again
#   n = entry & 0x7fffffff (0 when per_insn); sets_if = entry >> 31 (it ends in STI, POPF or IRET)
#   if irq_blocked and prev_if: stop (stopped = 2): an interrupt may be deliverable now
#   if count + n > limit: stop (stopped = 1) before the block
#   block_n = n; count += n; prev_if = sets_if
# A stop sets block_n = 0 and tail-calls uc_emu_stop(uc).
BLOCK = bytes.fromhex(
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
INSN = bytes.fromhex(
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
vmem_read = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t,
)(("uc_vmem_read", lib))
# uc_vmem_translate(uc, address, prot, &paddress): the physical address of a virtual one
# through the guest's MMU (no fault raised; non-zero when it is not mapped so).
vmem_translate = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int, ctypes.POINTER(ctypes.c_uint64),
)(("uc_vmem_translate", lib))
UC_PROT_EXEC = 4

MISS = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32)
RETRANSLATE = 0xFFFF_FFFF
TABLE_BITS = 17


class State(ctypes.Structure):
    """The counter's state, shared with the machine code (8-byte fields, offsets 0-112)."""

    _fields_ = [(name, ctypes.c_uint64) for name in (
        "count", "limit", "emu_stop", "stopped", "block_start", "block_pc", "block_size", "block_n",
        "table", "mask", "miss", "per_insn", "last_pc", "irq_blocked", "prev_if")]


class Slot(ctypes.Structure):
    """A table entry: a block's address and size, and its entry (see :data:`MISS`)."""

    _fields_ = [("pc", ctypes.c_uint64), ("size", ctypes.c_uint32), ("n", ctypes.c_uint32)]
