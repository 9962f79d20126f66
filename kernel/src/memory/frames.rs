//! The physical frame allocator: one bit per 4 KiB frame.
//!
//! Built from the boot memory map: usable RAM starts free; the first MiB,
//! the kernel image, the ramdisk module and everything the map does not call usable are in use.
//! [`RUSTOS_FRAMES`] is a `#[repr(C)]` structure (docs/kernel-structures.md)
//! pointing at the bitmap words.

use crate::bootinfo;
use crate::layout::{self, PAGE_SIZE};
use crate::sync::IrqMutex;
use core::ptr::addr_of_mut;
use rustos_core::bitmap::Bitmap;
use x86_64::structures::paging::{FrameAllocator, FrameDeallocator, PhysFrame, Size4KiB};
use x86_64::PhysAddr;

/// Most physical memory tracked: 4 GiB.
pub const MAX_FRAMES: usize = 1 << 20;
/// Magic of [`FrameTable`]: "FRMS".
pub const FRAMES_MAGIC: u32 = u32::from_le_bytes(*b"FRMS");
/// Layout version of [`FrameTable`].
pub const FRAMES_VERSION: u32 = 1;

static mut BITMAP: [u64; MAX_FRAMES / 64] = [0; MAX_FRAMES / 64];

/// The allocator's state.
#[repr(C)]
pub struct FrameTable {
    magic: u32,
    version: u32,
    /// Bytes per frame.
    pub frame_size: u64,
    /// Frames tracked (physical memory up to the end of the highest RAM region).
    pub frame_count: u64,
    /// Frames that were usable RAM at boot.
    pub usable_count: u64,
    /// Frames currently free.
    pub free_count: u64,
    /// Where the next search starts.
    pub next_hint: u64,
    /// Virtual address of the bitmap words (bit set = in use).
    pub bitmap: u64,
    /// Number of bitmap words.
    pub bitmap_words: u64,
}

/// The frame allocator.
#[no_mangle]
pub static RUSTOS_FRAMES: IrqMutex<FrameTable> = IrqMutex::new(FrameTable {
    magic: FRAMES_MAGIC,
    version: FRAMES_VERSION,
    frame_size: PAGE_SIZE,
    frame_count: 0,
    usable_count: 0,
    free_count: 0,
    next_hint: 0,
    bitmap: 0,
    bitmap_words: 0,
});

impl FrameTable {
    fn bits(&mut self) -> Bitmap<'static> {
        // SAFETY: the bitmap is only reached through the locked table.
        let words = unsafe { &mut *addr_of_mut!(BITMAP) };
        Bitmap::new(&mut words[..], self.frame_count as usize)
    }

    /// Takes a free frame.
    pub fn allocate(&mut self) -> Option<u64> {
        let hint = self.next_hint as usize;
        let mut bits = self.bits();
        let index = bits.find_clear(hint).or_else(|| bits.find_clear(0))?;
        bits.set(index, true);
        self.free_count -= 1;
        self.next_hint = index as u64 + 1;
        Some(index as u64 * PAGE_SIZE)
    }

    /// Returns the frame at physical `addr`.
    pub fn free(&mut self, addr: u64) {
        let index = (addr / PAGE_SIZE) as usize;
        let mut bits = self.bits();
        assert!(bits.get(index), "freeing frame {:#x} that is not in use", addr);
        bits.set(index, false);
        self.free_count += 1;
        self.next_hint = self.next_hint.min(index as u64);
    }

    /// Whether the frame at physical `addr` is in use.
    pub fn in_use(&mut self, addr: u64) -> bool {
        self.bits().get((addr / PAGE_SIZE) as usize)
    }
}

/// Builds the bitmap from the boot memory map.
pub fn init() {
    let regions = bootinfo::regions();
    let ram_end = regions.iter().filter(|r| r.kind == 1).map(|r| r.start + r.size).max().unwrap_or(0);
    let frame_count = (ram_end / PAGE_SIZE).min(MAX_FRAMES as u64);
    let mut table = RUSTOS_FRAMES.lock();
    table.frame_count = frame_count;
    table.bitmap = addr_of_mut!(BITMAP) as u64;
    table.bitmap_words = frame_count.div_ceil(64);
    let mut bits = table.bits();
    bits.set_range(0, frame_count as usize, true);
    for r in regions.iter().filter(|r| r.kind == 1) {
        let first = r.start.div_ceil(PAGE_SIZE) as usize;
        let last = ((r.start + r.size) / PAGE_SIZE) as usize;
        bits.set_range(first, last, false);
    }
    let usable = frame_count as usize - bits.count_set();
    // The first MiB (BIOS data, VGA, the loader's tables) and the kernel image stay in use.
    bits.set_range(0, (0x10_0000 / PAGE_SIZE) as usize, true);
    let kernel_first = (layout::kernel_phys_start() / PAGE_SIZE) as usize;
    let kernel_last = layout::kernel_phys_end().div_ceil(PAGE_SIZE) as usize;
    bits.set_range(kernel_first, kernel_last, true);
    // The ramdisk module stays where the loader put it.
    if let Some((start, end)) = crate::ramdisk::range() {
        let last = (end.div_ceil(PAGE_SIZE) as usize).min(frame_count as usize);
        bits.set_range(((start / PAGE_SIZE) as usize).min(last), last, true);
    }
    let free = frame_count as usize - bits.count_set();
    table.usable_count = usable as u64;
    table.free_count = free as u64;
    table.next_hint = 0;
    drop(table);
    log!(Info, "frames: {} usable, {} free of {} ({} MiB)", usable, free, frame_count, frame_count * PAGE_SIZE >> 20);
}

/// Bytes of physical memory tracked.
pub fn total_bytes() -> u64 {
    RUSTOS_FRAMES.lock().frame_count * PAGE_SIZE
}

/// (free, usable) frame counts.
pub fn counts() -> (u64, u64) {
    let t = RUSTOS_FRAMES.lock();
    (t.free_count, t.usable_count)
}

/// Takes a free frame; its contents are whatever was there.
pub fn allocate() -> Option<u64> {
    RUSTOS_FRAMES.lock().allocate()
}

/// Returns a frame.
pub fn free(addr: u64) {
    RUSTOS_FRAMES.lock().free(addr)
}

/// The allocator as the `x86_64` crate's mapper wants it.
pub struct GlobalFrames;

// SAFETY: `allocate` returns frames that are marked in use and handed out once.
unsafe impl FrameAllocator<Size4KiB> for GlobalFrames {
    fn allocate_frame(&mut self) -> Option<PhysFrame<Size4KiB>> {
        allocate().map(|addr| PhysFrame::containing_address(PhysAddr::new(addr)))
    }
}

impl FrameDeallocator<Size4KiB> for GlobalFrames {
    /// # Safety
    /// The `FrameDeallocator` contract: `frame` came from this allocator and
    /// nothing uses it any more (no mapping points at it).
    unsafe fn deallocate_frame(&mut self, frame: PhysFrame<Size4KiB>) {
        free(frame.start_address().as_u64())
    }
}
