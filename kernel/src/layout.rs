//! The address-space layout: where physical memory and the kernel image are
//! mapped, the page size, and the image's sections as the linker placed them.
//!
//! Virtual layout (docs/boot.md):
//! - `PHYS_OFFSET` (0xffff_8000_0000_0000): all physical memory, RW + NX.
//! - `KERNEL_BASE` (0xffff_ffff_8000_0000): the kernel image, at
//!   `KERNEL_BASE + physical address`, mapped per section with real
//!   permissions, guard pages left unmapped.
//! - `heap::HEAP_START` (0x4444_4444_0000): the kernel heap.
//! - `FRAMEBUFFER` (0xffff_fe80_0000_0000): the linear framebuffer (BAR0 of
//!   the VGA), write-combining, once the framebuffer is on.
//! - `THREAD_STACKS` (0xffff_ff00_0000_0000): the threads' kernel stacks, one
//!   `THREAD_STACK_SLOT` per thread slot, each a guard page then the stack.
//!
//! The lowest layer of the kernel: it uses no other kernel module.

use core::ptr::addr_of;

/// Virtual address of physical address 0.
pub const PHYS_OFFSET: u64 = 0xFFFF_8000_0000_0000;
/// Virtual address the kernel is linked at, for physical 0.
pub const KERNEL_BASE: u64 = 0xFFFF_FFFF_8000_0000;
/// Virtual base of the threads' kernel stacks (PML4 slot 510, kernel half).
pub const THREAD_STACKS: u64 = 0xFFFF_FF00_0000_0000;
/// Virtual space reserved per thread slot for its stack and guard page.
pub const THREAD_STACK_SLOT: u64 = 0x10_0000;
/// Virtual address of the linear framebuffer (PML4 slot 509, kernel half), mapped by `fb`.
pub const FRAMEBUFFER: u64 = 0xFFFF_FE80_0000_0000;
/// Size of a page and a frame.
pub const PAGE_SIZE: u64 = 4096;

extern "C" {
    static __boot_start: u8;
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __data_start: u8;
    static __data_end: u8;
    static __kernel_end: u8;
}

/// The kernel's sections as (name, virtual start, virtual end).
pub fn kernel_sections() -> [(&'static str, u64, u64); 3] {
    // Only addresses are taken (`addr_of!`): the symbols mark boundaries, and
    // there is no byte behind them to read.
    [
        ("text", addr_of!(__text_start) as u64, addr_of!(__text_end) as u64),
        ("rodata", addr_of!(__rodata_start) as u64, addr_of!(__rodata_end) as u64),
        ("data", addr_of!(__data_start) as u64, addr_of!(__data_end) as u64),
    ]
}

/// Physical start of the loaded image (the boot section).
pub fn kernel_phys_start() -> u64 {
    addr_of!(__boot_start) as u64
}

/// Physical end of the loaded image (end of `.bss`).
pub fn kernel_phys_end() -> u64 {
    addr_of!(__kernel_end) as u64 - KERNEL_BASE
}
