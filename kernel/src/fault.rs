//! Fault triggers: the faults that the shell's `fault` command and the kernel
//! tests make (`trigger_*`), run under `recovery::catch` by their callers.

use crate::interrupts::{exceptions, idt, trap};
use alloc::boxed::Box;

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
    let next = recurse(depth + 1);
    // SAFETY: `pad` is a live local array; the volatile read (which keeps the
    // frame and the recursion from being optimised away) reads its first element.
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
    let gate = idt::Gate::new(trap::stub_address(exceptions::PAGE_FAULT), idt::GateKind::Interrupt, 0, 0);
    idt::set_gate(exceptions::PAGE_FAULT, gate);
    recurse(0);
}


/// Puts the #PF gate back on its IST stack.
pub fn restore_page_fault_ist() {
    let ist = exceptions::ist_for(exceptions::PAGE_FAULT);
    idt::set_gate(exceptions::PAGE_FAULT, idt::Gate::new(trap::stub_address(exceptions::PAGE_FAULT), idt::GateKind::Interrupt, ist, 0));
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
    crate::cpu::halt_forever()
}

/// An account record on the heap: the victim of the planted use-after-free.
#[repr(C)]
pub struct Account {
    /// Which account.
    pub id: u64,
    /// What it holds.
    pub balance: u64,
}

/// The planted use-after-free of the README's walk-through: an account is
/// freed while a pointer to it is kept, the allocator hands the same block to
/// a new account, and a late update through the stale pointer overwrites the
/// new account's balance. Returns (the new account's address, its balance
/// afterwards: 0 instead of 500 when the block was reused).
pub fn trigger_use_after_free() -> (u64, u64) {
    let stale = Box::into_raw(Box::new(Account { id: 1, balance: 100 }));
    // SAFETY: `stale` came from `Box::into_raw` just above and is freed once.
    // Keeping it afterwards is the planted bug.
    drop(unsafe { Box::from_raw(stale) });
    let account = Box::new(Account { id: 2, balance: 500 });
    late_update(stale);
    let balance = &account.balance as *const u64;
    // SAFETY: `balance` points into `account`, alive here; the volatile read
    // keeps the compiler from assuming the value it stored.
    (&*account as *const Account as u64, unsafe { core::ptr::read_volatile(balance) })
}

/// Zeroes the balance of the account at `stale`: correct while it lives, a
/// write into someone else's memory once it is freed.
#[inline(never)]
fn late_update(stale: *mut Account) {
    // SAFETY: NOT sound when `stale` is freed, which is the point of the
    // trigger; the block is still mapped heap memory, so nothing faults.
    unsafe { core::ptr::write_volatile(core::ptr::addr_of_mut!((*stale).balance), 0) }
}
