//! Memory: the layout constants, the frame allocator and the page tables.
//!
//! Virtual layout (docs/boot.md):
//! - `PHYS_OFFSET` (0xffff_8000_0000_0000): all physical memory, RW + NX.
//! - `KERNEL_BASE` (0xffff_ffff_8000_0000): the kernel image, at
//!   `KERNEL_BASE + physical address`, mapped per section with real
//!   permissions, guard pages left unmapped.
//! - `heap::HEAP_START` (0x4444_4444_0000): the kernel heap.

pub mod frames;
pub mod paging;

/// Virtual address of physical address 0.
pub const PHYS_OFFSET: u64 = 0xFFFF_8000_0000_0000;
/// Virtual address the kernel is linked at, for physical 0.
pub const KERNEL_BASE: u64 = 0xFFFF_FFFF_8000_0000;
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

/// Addresses of a linker symbol.
fn sym(s: &u8) -> u64 {
    s as *const u8 as u64
}

/// The kernel's sections as (name, virtual start, virtual end).
pub fn kernel_sections() -> [(&'static str, u64, u64); 3] {
    // SAFETY: only the addresses of the linker symbols are taken.
    unsafe {
        [
            ("text", sym(&__text_start), sym(&__text_end)),
            ("rodata", sym(&__rodata_start), sym(&__rodata_end)),
            ("data", sym(&__data_start), sym(&__data_end)),
        ]
    }
}

/// Physical start of the loaded image (the boot section).
pub fn kernel_phys_start() -> u64 {
    // SAFETY: address only.
    unsafe { sym(&__boot_start) }
}

/// Physical end of the loaded image (end of `.bss`).
pub fn kernel_phys_end() -> u64 {
    // SAFETY: address only.
    unsafe { sym(&__kernel_end) - KERNEL_BASE }
}

/// Builds the frame allocator and the kernel's own page tables, and switches to them.
pub fn init() {
    frames::init();
    paging::remap_kernel();
}
