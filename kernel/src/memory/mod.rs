//! Memory: the frame allocator and the page tables (the layout constants are
//! in `layout`).

pub mod frames;
pub mod paging;

/// Builds the frame allocator and the kernel's own page tables, and switches to them.
pub fn init() {
    frames::init();
    paging::remap_kernel();
}
