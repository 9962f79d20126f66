//! Interrupt entry stubs and the trap frame.
//!
//! Each of the 256 vectors has a 16-byte stub, `trap_stub_N` at
//! `trap_stubs + 16 * N`, that pushes a zero error code when the CPU pushes
//! none, then the vector number, and jumps to `trap_common`. `trap_common`
//! saves every general-purpose register, so that the stack holds a complete
//! [`TrapFrame`], calls [`trap_dispatch`] with a pointer
//! to it, restores the registers (a handler may change them) and returns with
//! `iretq`. The stack is 16-byte aligned at the call: the CPU aligns RSP before
//! pushing its frame, and the frame is 22 quadwords.
//!
//! Unwinding: the stubs and `trap_common` carry DWARF call-frame information
//! (in `.debug_frame`, like the Rust code's) that describes the trap frame, so
//! a debugger unwinds from a handler through `trap_common` and the stub into
//! the interrupted code. The canonical frame address (CFA) is the end of the
//! CPU-pushed interrupt frame; RIP, CS, RFLAGS, RSP and SS are saved at CFA-40
//! .. CFA-8 (Intel SDM Vol. 3A §6.14.2), every general-purpose register where
//! `trap_common` pushed it. The frames are marked as signal frames (the saved
//! RIP is the interrupted instruction, not a return address).

use super::frame::TrapFrame;
use super::{exceptions, hooks, irq};
use core::arch::global_asm;
use core::sync::atomic::{AtomicU64, Ordering};

extern "C" {
    /// Start of the stub table.
    pub fn trap_stubs();
}

/// Address of the entry stub of `vector`.
pub fn stub_address(vector: u8) -> u64 {
    trap_stubs as *const () as u64 + 16 * vector as u64
}

/// The vector whose handler is running, plus one; 0 when no trap is being
/// handled. A nested trap saves the outer value and puts it back when it
/// returns. Read by the debugger to say in which context a write happened
/// (docs/kernel-structures.md).
#[no_mangle]
pub static RUSTOS_TRAP: AtomicU64 = AtomicU64::new(0);

/// Called by `trap_common` for every vector: 0-31 to the exception handlers,
/// the PIC's vectors to the IRQ handlers (the timer's then to the scheduler
/// hook), `int 0x81` and `int 0x80` to the handlers installed in `hooks`. A thread switch replaces the
/// frame's contents with the next thread's saved context.
#[no_mangle]
pub extern "C" fn trap_dispatch(frame: &mut TrapFrame) {
    let outer = RUSTOS_TRAP.swap(frame.vector + 1, Ordering::Relaxed);
    match frame.vector as u8 {
        0..=31 => exceptions::handle(frame),
        irq::PIC1_OFFSET..=irq::LAST_VECTOR => {
            irq::handle(frame);
            // Preempt only what a trap did not interrupt (never a handler).
            if frame.vector as u8 == irq::PIC1_OFFSET + irq::IRQ_TIMER && outer == 0 {
                hooks::tick(frame);
            }
        }
        hooks::YIELD_VECTOR | hooks::SYSCALL_VECTOR if hooks::software(frame) => {}
        _ => log!(Warn, "unexpected interrupt vector {}", frame.vector),
    }
    RUSTOS_TRAP.store(outer, Ordering::Relaxed);
}

global_asm!(
    r#"
    .cfi_sections .debug_frame

    /* The CPU-pushed frame as seen from CFA = its end (DWARF registers:
       16 rip, 51 cs, 49 rflags, 7 rsp, 52 ss). */
    .macro CPU_FRAME_CFI
    .cfi_signal_frame
    .cfi_offset 16, -40
    .cfi_offset 51, -32
    .cfi_offset 49, -24
    .cfi_offset 7, -16
    .cfi_offset 52, -8
    .endm

    .macro SAVE reg
    push %\reg
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %\reg, 0
    .endm

    .macro RESTORE reg
    pop %\reg
    .cfi_adjust_cfa_offset -8
    .cfi_restore %\reg
    .endm

    .section .text.trap, "ax"
    .global trap_common
trap_common:
    /* Entered by jmp from a stub: vector at 0(%rsp), error code at 8(%rsp). */
    .cfi_startproc
    .cfi_def_cfa %rsp, 56
    CPU_FRAME_CFI
    SAVE rax
    SAVE rbx
    SAVE rcx
    SAVE rdx
    SAVE rsi
    SAVE rdi
    SAVE rbp
    SAVE r8
    SAVE r9
    SAVE r10
    SAVE r11
    SAVE r12
    SAVE r13
    SAVE r14
    SAVE r15
    mov %rsp, %rdi
    cld
    call {dispatch}
    RESTORE r15
    RESTORE r14
    RESTORE r13
    RESTORE r12
    RESTORE r11
    RESTORE r10
    RESTORE r9
    RESTORE r8
    RESTORE rbp
    RESTORE rdi
    RESTORE rsi
    RESTORE rdx
    RESTORE rcx
    RESTORE rbx
    RESTORE rax
    add $16, %rsp
    .cfi_adjust_cfa_offset -16
    iretq
    .cfi_endproc

    /* One 16-byte stub per vector: a zero error code where the CPU pushes
       none (all but 8, 10-14, 17, 21, 29, 30), the vector, then trap_common.
       At entry RSP points at the error code (or at RIP when there is none). */
    .macro TRAP_STUB n
    .balign 16
    .global trap_stub_\n
trap_stub_\n:
    .cfi_startproc
    .if (\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
    .cfi_def_cfa %rsp, 48
    CPU_FRAME_CFI
    .else
    .cfi_def_cfa %rsp, 40
    CPU_FRAME_CFI
    push $0
    .cfi_adjust_cfa_offset 8
    .endif
    push $\n
    .cfi_adjust_cfa_offset 8
    jmp trap_common
    .cfi_endproc
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
    dispatch = sym trap_dispatch,
    options(att_syntax)
);
