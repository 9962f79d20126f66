//! Recovery points: `catch` a fault instead of halting.
//!
//! [`catch`] runs a closure with a recovery point armed: if an exception (or,
//! in test mode, a panic) happens inside, the exception handler asks
//! [`resume_point`] where to go and rewrites its trap frame so that `iretq`
//! lands where `rustos_setjmp` returned, with the callee-saved registers and
//! stack pointer it saved; `catch` then returns the [`FaultRecord`] instead of
//! the machine halting. A panic resumes there directly ([`recover_from_panic`]).
//! This is a setjmp/longjmp pair in assembly.
//!
//! A low layer: it uses only `cpu`; the exception handler (`interrupts`) and
//! the panic path call it.

use core::arch::global_asm;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Callee-saved registers and the resume point, as `rustos_setjmp` stores them.
#[derive(Debug, Default, Clone, Copy)]
#[repr(C)]
pub struct JmpBuf {
    pub rbx: u64,
    pub rbp: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rsp: u64,
    pub rip: u64,
}

/// What a caught fault was.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FaultRecord {
    /// The exception vector, or [`PANIC_VECTOR`] for a panic.
    pub vector: u64,
    pub error_code: u64,
    pub cr2: u64,
    pub rip: u64,
    /// The stack pointer the handler ran on.
    pub handler_rsp: u64,
}

/// Vector number recorded for a panic.
pub const PANIC_VECTOR: u64 = 256;

global_asm!(
    r#"
    .section .text.rustos_setjmp, "ax"
    .global rustos_setjmp
rustos_setjmp:
    mov %rbx, 0(%rdi)
    mov %rbp, 8(%rdi)
    mov %r12, 16(%rdi)
    mov %r13, 24(%rdi)
    mov %r14, 32(%rdi)
    mov %r15, 40(%rdi)
    lea 8(%rsp), %rdx
    mov %rdx, 48(%rdi)
    mov (%rsp), %rdx
    mov %rdx, 56(%rdi)
    xor %eax, %eax
    ret

    .global rustos_longjmp
rustos_longjmp:
    mov 0(%rdi), %rbx
    mov 8(%rdi), %rbp
    mov 16(%rdi), %r12
    mov 24(%rdi), %r13
    mov 32(%rdi), %r14
    mov 40(%rdi), %r15
    mov 48(%rdi), %rsp
    mov %rsi, %rax
    jmp *56(%rdi)
    "#,
    options(att_syntax)
);

extern "C" {
    fn rustos_setjmp(buf: *mut JmpBuf) -> u64;
    fn rustos_longjmp(buf: *const JmpBuf, value: u64) -> !;
}

const DEPTH: usize = 4;

struct Points {
    bufs: UnsafeCell<[JmpBuf; DEPTH]>,
    last: UnsafeCell<FaultRecord>,
}

// SAFETY: one CPU; the points are used by the code that armed them and by the
// exception or panic path that interrupts that code.
unsafe impl Sync for Points {}

static POINTS: Points = Points { bufs: UnsafeCell::new([JmpBuf { rbx: 0, rbp: 0, r12: 0, r13: 0, r14: 0, r15: 0, rsp: 0, rip: 0 }; DEPTH]), last: UnsafeCell::new(FaultRecord { vector: 0, error_code: 0, cr2: 0, rip: 0, handler_rsp: 0 }) };
static ARMED: AtomicUsize = AtomicUsize::new(0);
static QUIET: AtomicBool = AtomicBool::new(false);

/// Whether fault reports are suppressed (tests that expect faults).
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Suppresses (or restores) the exception report while a fault is expected.
pub fn set_quiet(value: bool) {
    QUIET.store(value, Ordering::Relaxed);
}

/// Runs `f` with a recovery point armed; returns the fault that ended it early, if any.
#[inline(never)]
pub fn catch(f: impl FnOnce()) -> Option<FaultRecord> {
    let level = ARMED.load(Ordering::SeqCst);
    assert!(level < DEPTH, "recovery points nested too deeply");
    // SAFETY: the buffer at `level` belongs to this call until it returns;
    // after a longjmp only statics are read.
    unsafe {
        let buf = (POINTS.bufs.get() as *mut JmpBuf).add(level);
        if rustos_setjmp(buf) == 0 {
            ARMED.store(level + 1, Ordering::SeqCst);
            f();
            ARMED.store(level, Ordering::SeqCst);
            None
        } else {
            ARMED.store(level, Ordering::SeqCst);
            Some(*POINTS.last.get())
        }
    }
}

/// Records `fault` (with the handler's stack pointer) and returns the
/// innermost armed recovery point, where the exception path must resume with
/// RAX = 1; returns None when no point is armed.
pub fn resume_point(fault: FaultRecord) -> Option<JmpBuf> {
    let level = ARMED.load(Ordering::SeqCst);
    if level == 0 {
        return None;
    }
    // SAFETY: one CPU, and the exception path that calls this runs with
    // interrupts off, so nothing else touches POINTS meanwhile; the buffer at
    // `level - 1` was filled by the `catch` that armed it, which is still on
    // the stack (ARMED drops below it only when that `catch` returns).
    unsafe {
        *POINTS.last.get() = FaultRecord { handler_rsp: crate::cpu::stack_pointer(), ..fault };
        Some(*(POINTS.bufs.get() as *const JmpBuf).add(level - 1))
    }
}

/// Resumes at the innermost recovery point after a panic; returns only when none is armed.
pub fn recover_from_panic() {
    let level = ARMED.load(Ordering::SeqCst);
    if level == 0 {
        return;
    }
    // SAFETY: as in `resume_point`; `rustos_longjmp` restores the registers
    // and stack pointer that `rustos_setjmp` saved in that still-live `catch`
    // frame, abandoning the panicking code (nothing it owns is dropped, which
    // is safe: leaking is always allowed).
    unsafe {
        *POINTS.last.get() = FaultRecord { vector: PANIC_VECTOR, handler_rsp: crate::cpu::stack_pointer(), ..FaultRecord::default() };
        rustos_longjmp((POINTS.bufs.get() as *const JmpBuf).add(level - 1), 1);
    }
}
