//! Interrupt entry stubs and the trap frame.
//!
//! Each of the 256 vectors has a 16-byte stub, `trap_stub_N` at
//! `trap_stubs + 16 * N`, that pushes a zero error code when the CPU pushes
//! none, then the vector number, and jumps to `trap_common`. `trap_common`
//! saves every general-purpose register, so that the stack holds a complete
//! [`TrapFrame`], calls [`trap_dispatch`](super::trap_dispatch) with a pointer
//! to it, restores the registers (a handler may change them) and returns with
//! `iretq`. The stack is 16-byte aligned at the call: the CPU aligns RSP before
//! pushing its frame, and the frame is 22 quadwords.

use core::arch::global_asm;

/// The full register state at an interrupt or exception, lowest address first.
/// Layout documented in docs/kernel-structures.md.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    /// The vector number pushed by the stub.
    pub vector: u64,
    /// The CPU's error code, or 0 for vectors without one.
    pub error_code: u64,
    /// The interrupt stack frame pushed by the CPU (Intel SDM Vol. 3A §6.14.2).
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

extern "C" {
    /// Start of the stub table.
    pub fn trap_stubs();
}

/// Address of the entry stub of `vector`.
pub fn stub_address(vector: u8) -> u64 {
    trap_stubs as *const () as u64 + 16 * vector as u64
}

global_asm!(
    r#"
    .section .text.trap, "ax"
    .global trap_common
trap_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    cld
    call {dispatch}
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    iretq

    /* One 16-byte stub per vector: a zero error code where the CPU pushes
       none (all but 8, 10-14, 17, 21, 29, 30), the vector, then trap_common. */
    .macro TRAP_STUB n
    .balign 16
    .global trap_stub_\n
trap_stub_\n:
    .if (\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
    .else
    push $0
    .endif
    push $\n
    jmp trap_common
    .endm

    .balign 16
    .global trap_stubs
trap_stubs:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    TRAP_STUB \n
    .endr
    .irp n, 16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    TRAP_STUB \n
    .endr
    .irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
    TRAP_STUB \n
    .endr
    .irp n, 48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
    TRAP_STUB \n
    .endr
    .irp n, 64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79
    TRAP_STUB \n
    .endr
    .irp n, 80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95
    TRAP_STUB \n
    .endr
    .irp n, 96,97,98,99,100,101,102,103,104,105,106,107,108,109,110,111
    TRAP_STUB \n
    .endr
    .irp n, 112,113,114,115,116,117,118,119,120,121,122,123,124,125,126,127
    TRAP_STUB \n
    .endr
    .irp n, 128,129,130,131,132,133,134,135,136,137,138,139,140,141,142,143
    TRAP_STUB \n
    .endr
    .irp n, 144,145,146,147,148,149,150,151,152,153,154,155,156,157,158,159
    TRAP_STUB \n
    .endr
    .irp n, 160,161,162,163,164,165,166,167,168,169,170,171,172,173,174,175
    TRAP_STUB \n
    .endr
    .irp n, 176,177,178,179,180,181,182,183,184,185,186,187,188,189,190,191
    TRAP_STUB \n
    .endr
    .irp n, 192,193,194,195,196,197,198,199,200,201,202,203,204,205,206,207
    TRAP_STUB \n
    .endr
    .irp n, 208,209,210,211,212,213,214,215,216,217,218,219,220,221,222,223
    TRAP_STUB \n
    .endr
    .irp n, 224,225,226,227,228,229,230,231,232,233,234,235,236,237,238,239
    TRAP_STUB \n
    .endr
    .irp n, 240,241,242,243,244,245,246,247,248,249,250,251,252,253,254,255
    TRAP_STUB \n
    .endr
    "#,
    dispatch = sym super::trap_dispatch,
    options(att_syntax)
);
