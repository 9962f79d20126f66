//! Fault triggers: the faults that the shell's `fault` command and the kernel
//! tests make (`trigger_*`), run under `recovery::catch` by their callers.

use crate::interrupts::{exceptions, idt, irq, trap};
use alloc::boxed::Box;
use core::alloc::Layout;

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
    closing_balance(stale);
    let account = Box::new(Account { id: 2, balance: 500 });
    late_update(stale);
    let balance = &account.balance as *const u64;
    // SAFETY: `balance` points into `account`, alive here; the volatile read
    // keeps the compiler from assuming the value it stored.
    (&*account as *const Account as u64, unsafe { core::ptr::read_volatile(balance) })
}

/// Reads the balance of the account at `stale` after it was freed (the
/// block is free and not reused yet): the read after free that the heap
/// sanitizer stops at.
#[inline(never)]
fn closing_balance(stale: *const Account) -> u64 {
    // SAFETY: NOT sound: `stale` is freed, which is the point of the trigger;
    // the block is still mapped heap memory, so nothing faults.
    unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*stale).balance)) }
}

/// Zeroes the balance of the account at `stale`: correct while it lives, a
/// write into someone else's memory once it is freed.
#[inline(never)]
fn late_update(stale: *mut Account) {
    // SAFETY: NOT sound when `stale` is freed, which is the point of the
    // trigger; the block is still mapped heap memory, so nothing faults.
    unsafe { core::ptr::write_volatile(core::ptr::addr_of_mut!((*stale).balance), 0) }
}

/// Takes [`irq::DEADLOCK_DEMO`] here with interrupts enabled, arms the timer
/// IRQ to take it too, and waits for the next tick while holding it: the
/// handler spins on the lock with interrupts off and this code never runs
/// again (a deadlock on one CPU; never returns).
pub fn trigger_deadlock() -> ! {
    let _guard = irq::DEADLOCK_DEMO.lock();
    irq::arm_deadlock();
    loop {
        x86_64::instructions::hlt();
    }
}

/// An IRQ-unsafe lock, then its deadlock: takes [`irq::DEADLOCK_DEMO`] in
/// thread context with interrupts enabled (and releases it), arms the timer
/// IRQ to take it, lets a few ticks take it in the handler (no harm yet: it is
/// free then), and finally holds it across a tick: [`trigger_deadlock`].
pub fn trigger_irq_unsafe_lock() -> ! {
    *irq::DEADLOCK_DEMO.lock() += 1;
    irq::arm_deadlock();
    for _ in 0..3 {
        x86_64::instructions::hlt();
    }
    trigger_deadlock()
}

/// What [`OVERRUN_PATTERN`] says: "OVERRUN!" (not a canonical address).
pub const OVERRUN_PATTERN: u64 = u64::from_le_bytes(*b"OVERRUN!");
/// Block size of the overrun demonstration.
const OVERRUN_BLOCK: usize = 64;
/// Blocks allocated to find two adjacent ones.
const OVERRUN_TRIES: usize = 16;

/// A heap overrun: finds two adjacent 64-byte blocks among a few fresh ones
/// and frees the others, frees the second of the pair (its first word
/// becomes its free-list link), then fills the first with one word too many
/// (a `0..=len` loop), overwriting that link with [`OVERRUN_PATTERN`], and
/// frees it. The 64-byte list now reads: first block, second block,
/// "OVERRUN!": the third allocation of 64 bytes after this one faults in the
/// allocator. Returns (the overrun block, the block whose header was hit),
/// or None when no two adjacent blocks were found (nothing written).
pub fn trigger_heap_overrun() -> Option<(u64, u64)> {
    let layout = Layout::from_size_align(OVERRUN_BLOCK, OVERRUN_BLOCK).unwrap();
    let mut blocks = [core::ptr::null_mut::<u8>(); OVERRUN_TRIES];
    for block in blocks.iter_mut() {
        // SAFETY: `layout` has a non-zero size.
        *block = unsafe { alloc::alloc::alloc(layout) };
    }
    let pair = (0..OVERRUN_TRIES).find_map(|i| {
        let next = blocks[i].wrapping_add(OVERRUN_BLOCK);
        (!blocks[i].is_null()).then(|| blocks.iter().position(|b| *b == next)).flatten().map(|j| (i, j))
    });
    let (keep, hit) = pair.unwrap_or((OVERRUN_TRIES, OVERRUN_TRIES));
    for (k, block) in blocks.iter().enumerate() {
        if !block.is_null() && k != keep && k != hit {
            // SAFETY: allocated above with `layout`, not freed since.
            unsafe { alloc::alloc::dealloc(*block, layout) };
        }
    }
    let (i, j) = pair?;
    // SAFETY: allocated above with `layout`, not freed since.
    unsafe { alloc::alloc::dealloc(blocks[j], layout) };
    let words = blocks[i] as *mut u64;
    for k in 0..=OVERRUN_BLOCK / 8 {
        // SAFETY: deliberately wrong: the last word lies past the block, in
        // the header of the free block after it (the point is to corrupt).
        unsafe { words.add(k).write_volatile(OVERRUN_PATTERN) };
    }
    // SAFETY: allocated above with `layout`, not freed since.
    unsafe { alloc::alloc::dealloc(blocks[i], layout) };
    Some((blocks[i] as u64, blocks[j] as u64))
}

/// Leaves the next timer IRQ without EOI (see [`irq::skip_next_eoi`]).
pub fn trigger_missing_eoi() {
    irq::skip_next_eoi();
}
