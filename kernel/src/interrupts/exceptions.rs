//! The CPU exception handlers (vectors 0-31).
//!
//! #BP logs and continues. A fault the installed fault hook takes (a thread
//! or user process other than the boot thread: `thread`) ends there. Otherwise #PF reports
//! CR2 and the decoded error code, and every other exception its frame. A fault that a recovery point armed by
//! `recovery::catch` expects returns there; otherwise the CPU halts for good.

use super::frame::TrapFrame;
use crate::gdt;
use crate::recovery::{self, FaultRecord};
use core::sync::atomic::{AtomicU64, Ordering};

pub const DIVIDE_ERROR: u8 = 0;
pub const NMI: u8 = 2;
pub const BREAKPOINT: u8 = 3;
pub const INVALID_OPCODE: u8 = 6;
pub const DOUBLE_FAULT: u8 = 8;
pub const GENERAL_PROTECTION: u8 = 13;
pub const PAGE_FAULT: u8 = 14;
pub const MACHINE_CHECK: u8 = 18;

/// Number of #BP exceptions handled.
#[no_mangle]
pub static RUSTOS_BREAKPOINTS: AtomicU64 = AtomicU64::new(0);

const NAMES: [&str; 32] = [
    "divide error (#DE)", "debug (#DB)", "non-maskable interrupt (NMI)", "breakpoint (#BP)",
    "overflow (#OF)", "bound range exceeded (#BR)", "invalid opcode (#UD)", "device not available (#NM)",
    "double fault (#DF)", "coprocessor segment overrun", "invalid TSS (#TS)", "segment not present (#NP)",
    "stack-segment fault (#SS)", "general protection fault (#GP)", "page fault (#PF)", "reserved 15",
    "x87 floating-point error (#MF)", "alignment check (#AC)", "machine check (#MC)", "SIMD floating-point (#XM)",
    "virtualization (#VE)", "control protection (#CP)", "reserved 22", "reserved 23", "reserved 24", "reserved 25",
    "reserved 26", "reserved 27", "hypervisor injection (#HV)", "VMM communication (#VC)", "security (#SX)", "reserved 31",
];

/// The name of exception `vector`.
pub fn name(vector: u8) -> &'static str {
    NAMES.get(vector as usize).copied().unwrap_or("interrupt")
}

/// Writes the decoded page-fault error code (Intel SDM Vol. 3A §4.7) into `out`.
pub fn describe_pf_error(code: u64, out: &mut impl core::fmt::Write) -> core::fmt::Result {
    let present = if code & 1 != 0 { "protection violation" } else { "not present" };
    let access = if code & 0x10 != 0 { "instruction fetch" } else if code & 2 != 0 { "write" } else { "read" };
    let mode = if code & 4 != 0 { "user" } else { "supervisor" };
    write!(out, "{}, {}, {}", present, access, mode)?;
    if code & 8 != 0 {
        write!(out, ", reserved bit set")?;
    }
    Ok(())
}

/// A page-fault error code, displayed decoded (see [`describe_pf_error`]).
pub struct PfError(pub u64);

impl core::fmt::Display for PfError {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        describe_pf_error(self.0, f)
    }
}

fn report(frame: &TrapFrame, cr2: u64) {
    let vector = frame.vector as u8;
    println!("EXCEPTION: {} (vector {}) at rip {:#x}", name(vector), vector, frame.rip);
    if vector == PAGE_FAULT {
        println!("  CR2 {:#x}, error code {:#x} ({})", cr2, frame.error_code, PfError(frame.error_code));
    } else {
        println!("  error code {:#x}", frame.error_code);
    }
    println!("  rsp {:#x} rflags {:#x} cs {:#x} ss {:#x}", frame.rsp, frame.rflags, frame.cs, frame.ss);
    println!("  rax {:#018x} rbx {:#018x} rcx {:#018x} rdx {:#018x}", frame.rax, frame.rbx, frame.rcx, frame.rdx);
    println!("  rsi {:#018x} rdi {:#018x} rbp {:#018x}", frame.rsi, frame.rdi, frame.rbp);
    println!("  handler stack {:#x} (IST{})", crate::cpu::stack_pointer(), ist_for(vector));
}

/// The IST index that the gate of `vector` uses.
pub fn ist_for(vector: u8) -> u8 {
    match vector {
        DOUBLE_FAULT => gdt::DOUBLE_FAULT_IST,
        PAGE_FAULT => gdt::PAGE_FAULT_IST,
        NMI => gdt::NMI_IST,
        MACHINE_CHECK => gdt::MACHINE_CHECK_IST,
        _ => 0,
    }
}

/// Resumes at the innermost recovery point, if one is armed, by rewriting
/// `frame` so that `iretq` returns there (with RAX = 1, as from setjmp).
fn resume(frame: &mut TrapFrame, cr2: u64) -> bool {
    let fault = FaultRecord { vector: frame.vector, error_code: frame.error_code, cr2, rip: frame.rip, handler_rsp: 0 };
    let Some(point) = recovery::resume_point(fault) else {
        return false;
    };
    frame.rbx = point.rbx;
    frame.rbp = point.rbp;
    frame.r12 = point.r12;
    frame.r13 = point.r13;
    frame.r14 = point.r14;
    frame.r15 = point.r15;
    frame.rsp = point.rsp;
    frame.rip = point.rip;
    frame.rax = 1;
    true
}

/// Handles exception `frame.vector`.
pub fn handle(frame: &mut TrapFrame) {
    let vector = frame.vector as u8;
    let cr2 = if vector == PAGE_FAULT { x86_64::registers::control::Cr2::read_raw() } else { 0 };
    if vector == BREAKPOINT {
        RUSTOS_BREAKPOINTS.fetch_add(1, Ordering::Relaxed);
        log!(Info, "breakpoint at {:#x}, continuing", frame.rip - 1);
        return;
    }
    // SAFETY: the interrupted code never resumes with these locks if we halt,
    // and a recovered fault abandons the code that held them.
    unsafe {
        crate::serial::force_unlock();
        crate::vga::force_unlock();
    }
    if super::hooks::fault(frame, cr2) {
        return;
    }
    if !recovery::quiet() {
        report(frame, cr2);
    }
    if resume(frame, cr2) {
        return;
    }
    println!("halting: unhandled {}", name(vector));
    crate::cpu::halt_forever();
}
