//! Kernel stacks, each with an unmapped guard page below it.
//!
//! A [`GuardedStack`] is page aligned: its first page is the guard, which
//! `memory::init` leaves unmapped, so running off the bottom of the stack
//! faults instead of silently overwriting what lies below. The main stack is
//! used from `pvh_start64` on; the IST stacks are named in the TSS (see `gdt`).

/// Size of a guard page.
pub const GUARD_SIZE: usize = 4096;
/// Usable size of the main kernel stack.
pub const MAIN_STACK_SIZE: usize = 64 * 1024;
/// Usable size of each IST stack.
pub const IST_STACK_SIZE: usize = 16 * 1024;
/// Offset of the main stack's top from the start of [`RUSTOS_MAIN_STACK`].
pub const MAIN_STACK_END: usize = GUARD_SIZE + MAIN_STACK_SIZE;

/// A stack of `N` bytes preceded by a guard page.
#[repr(C, align(4096))]
pub struct GuardedStack<const N: usize> {
    guard: [u8; GUARD_SIZE],
    stack: [u8; N],
}

impl<const N: usize> GuardedStack<N> {
    /// A zeroed stack (it lives in `.bss`).
    pub const fn new() -> Self {
        GuardedStack { guard: [0; GUARD_SIZE], stack: [0; N] }
    }
}

/// Address of a guarded stack's guard page.
pub fn guard_page<const N: usize>(stack: *const GuardedStack<N>) -> u64 {
    stack as u64
}

/// Address one past the top of a guarded stack (the initial stack pointer).
pub fn stack_top<const N: usize>(stack: *const GuardedStack<N>) -> u64 {
    stack as u64 + (GUARD_SIZE + N) as u64
}

/// The main kernel stack, used from the 64-bit entry on.
#[no_mangle]
pub static mut RUSTOS_MAIN_STACK: GuardedStack<MAIN_STACK_SIZE> = GuardedStack::new();
/// The double-fault stack (IST1).
#[no_mangle]
pub static mut RUSTOS_DF_STACK: GuardedStack<IST_STACK_SIZE> = GuardedStack::new();
/// The page-fault stack (IST2).
#[no_mangle]
pub static mut RUSTOS_PF_STACK: GuardedStack<IST_STACK_SIZE> = GuardedStack::new();
/// The NMI stack (IST3).
#[no_mangle]
pub static mut RUSTOS_NMI_STACK: GuardedStack<IST_STACK_SIZE> = GuardedStack::new();
/// The machine-check stack (IST4).
#[no_mangle]
pub static mut RUSTOS_MC_STACK: GuardedStack<IST_STACK_SIZE> = GuardedStack::new();

/// Guard pages of every kernel stack, for the mapper to leave unmapped.
pub fn guard_pages() -> [u64; 5] {
    use core::ptr::addr_of;
    [
        guard_page(addr_of!(RUSTOS_MAIN_STACK)),
        guard_page(addr_of!(RUSTOS_DF_STACK)),
        guard_page(addr_of!(RUSTOS_PF_STACK)),
        guard_page(addr_of!(RUSTOS_NMI_STACK)),
        guard_page(addr_of!(RUSTOS_MC_STACK)),
    ]
}
