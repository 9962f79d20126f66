//! The CPU itself: halting for good and reading the stack pointer.
//!
//! A bottom layer: it uses no other kernel module.

/// Stops the CPU for good: interrupts off, then `hlt` forever.
pub fn halt_forever() -> ! {
    loop {
        x86_64::instructions::interrupts::disable();
        x86_64::instructions::hlt();
    }
}

/// The current stack pointer.
#[inline(always)]
pub fn stack_pointer() -> u64 {
    let rsp: u64;
    // SAFETY: copies RSP into a register; no memory is touched and no flag changes.
    unsafe { core::arch::asm!("mov {}, rsp", out(reg) rsp, options(nomem, nostack, preserves_flags)) };
    rsp
}
