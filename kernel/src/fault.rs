//! Recovery points and fault triggers.
//!
//! [`catch`] runs a closure with a recovery point armed: if an exception (or,
//! in test mode, a panic) happens inside, the handler records it and resumes at
//! the recovery point, so `catch` returns the [`FaultRecord`] instead of the
//! machine halting. This is a setjmp/longjmp pair in assembly: the exception
//! path rewrites the trap frame so that `iretq` lands where `rustos_setjmp`
//! returned, with the callee-saved registers and stack pointer it saved.
//!
//! The triggers (`trigger_*`) make the faults that the shell's `fault` command
//! and the kernel tests need.

use crate::interrupts::{exceptions, idt, TrapFrame};
use core::arch::global_asm;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Callee-saved registers and the resume point, as `rustos_setjmp` stores them.
#[derive(Debug, Default, Clone, Copy)]
#[repr(C)]
pub struct JmpBuf {
    rbx: u64,
    rbp: u64,
    r12: u64,
    r13: u64,
    r14: u64,
    r15: u64,
    rsp: u64,
    rip: u64,
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

fn current_rsp() -> u64 {
    let rsp: u64;
    // SAFETY: reads the stack pointer.
    unsafe { core::arch::asm!("mov {}, rsp", out(reg) rsp) };
    rsp
}

/// Resumes at the innermost recovery point after an exception, by rewriting
/// `frame`; returns false when none is armed.
pub fn recover(frame: &mut TrapFrame, cr2: u64) -> bool {
    let level = ARMED.load(Ordering::SeqCst);
    if level == 0 {
        return false;
    }
    // SAFETY: the innermost armed buffer is valid while armed.
    unsafe {
        *POINTS.last.get() = FaultRecord { vector: frame.vector, error_code: frame.error_code, cr2, rip: frame.rip, handler_rsp: current_rsp() };
        let buf = *(POINTS.bufs.get() as *const JmpBuf).add(level - 1);
        frame.rbx = buf.rbx;
        frame.rbp = buf.rbp;
        frame.r12 = buf.r12;
        frame.r13 = buf.r13;
        frame.r14 = buf.r14;
        frame.r15 = buf.r15;
        frame.rsp = buf.rsp;
        frame.rip = buf.rip;
        frame.rax = 1;
    }
    true
}

/// Resumes at the innermost recovery point after a panic; returns only when none is armed.
pub fn recover_from_panic() {
    let level = ARMED.load(Ordering::SeqCst);
    if level == 0 {
        return;
    }
    // SAFETY: as in `recover`; the panicking code is abandoned.
    unsafe {
        *POINTS.last.get() = FaultRecord { vector: PANIC_VECTOR, handler_rsp: current_rsp(), ..FaultRecord::default() };
        rustos_longjmp((POINTS.bufs.get() as *const JmpBuf).add(level - 1), 1);
    }
}

/// Executes `int3`.
pub fn trigger_breakpoint() {
    x86_64::instructions::interrupts::int3();
}

/// Reads the byte at `addr` (a page fault when it is not mapped).
pub fn trigger_page_fault(addr: u64) -> u8 {
    // SAFETY: deliberately unsafe: the point is to fault.
    unsafe { core::ptr::read_volatile(addr as *const u8) }
}

/// Writes to `addr` (a page fault when it is read-only or not mapped).
pub fn trigger_write_fault(addr: u64) {
    // SAFETY: deliberately unsafe: the point is to fault.
    unsafe { core::ptr::write_volatile(addr as *mut u8, 0) }
}

/// Reads a non-canonical address: #GP.
pub fn trigger_general_protection() {
    // SAFETY: faults by design.
    unsafe { core::arch::asm!("mov rax, [{}]", in(reg) 0x8000_0000_0000_0000u64, out("rax") _) };
}

/// Executes `ud2`: #UD.
pub fn trigger_invalid_opcode() {
    // SAFETY: faults by design.
    unsafe { core::arch::asm!("ud2") };
}

/// Divides by zero: #DE.
pub fn trigger_divide_error() {
    // SAFETY: faults by design.
    unsafe { core::arch::asm!("xor edx, edx", "mov eax, 1", "xor ecx, ecx", "div ecx", out("eax") _, out("edx") _, out("ecx") _) };
}

#[allow(unconditional_recursion)]
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    let pad = [depth; 16];
    // The volatile read keeps the frame and the recursion from being optimised away.
    let next = recurse(depth + 1);
    unsafe { core::ptr::read_volatile(&pad[0]) + next }
}

/// Overflows the stack into its guard page: a double fault.
///
/// With #PF on its own IST stack, an overflow would be an ordinary page fault;
/// this trigger first points the #PF gate at the current stack (IST 0), as in a
/// kernel without a #PF stack, so the CPU cannot push the #PF frame, and the
/// fault becomes a #DF, delivered on IST1. The gate is restored by
/// [`restore_page_fault_ist`] (the caller does it after recovery).
pub fn trigger_stack_overflow() {
    let gate = idt::Gate::new(crate::interrupts::trap::stub_address(exceptions::PAGE_FAULT), idt::GateKind::Interrupt, 0, 0);
    idt::set_gate(exceptions::PAGE_FAULT, gate);
    recurse(0);
}


/// Puts the #PF gate back on its IST stack.
pub fn restore_page_fault_ist() {
    let ist = crate::interrupts::ist_for(exceptions::PAGE_FAULT);
    idt::set_gate(exceptions::PAGE_FAULT, idt::Gate::new(crate::interrupts::trap::stub_address(exceptions::PAGE_FAULT), idt::GateKind::Interrupt, ist, 0));
}

/// Makes a triple fault: an empty IDT, then `int3` (#BP cannot be delivered:
/// #GP; that cannot be delivered either: #DF; and neither can that).
pub fn trigger_triple_fault() -> ! {
    let empty = x86_64::structures::DescriptorTablePointer { limit: 0, base: x86_64::VirtAddr::new(0) };
    // SAFETY: deliberately destroys the machine.
    unsafe {
        x86_64::instructions::tables::lidt(&empty);
        core::arch::asm!("int3");
    }
    crate::halt_forever()
}
