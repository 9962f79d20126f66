//! The kernel heap: fixed-size blocks over a growing linked-list heap.
//!
//! Requests up to 2048 bytes are served from one free list per size class
//! (`rustos_core::blocks`); a list that is empty takes a new block from the
//! fallback, `linked_list_allocator::Heap`, which also serves larger requests.
//! When the fallback runs out, the heap grows: more frames are mapped after its
//! end, up to [`HEAP_MAX`]. [`RUSTOS_HEAP`] is the global allocator; its state is
//! a `#[repr(C)]` structure (docs/kernel-structures.md) except the fallback's
//! hole list, which is the crate's own and is decoded from DWARF.

use crate::layout::PAGE_SIZE;
use crate::memory::{frames, paging};
use crate::sync::IrqMutex;
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{null_mut, NonNull};
use linked_list_allocator::Heap;
use rustos_core::blocks::{class_for, BlockLists, BLOCK_SIZES};
use x86_64::structures::paging::PageTableFlags as Flags;

/// Virtual start of the heap.
pub const HEAP_START: u64 = 0x4444_4444_0000;
/// Size mapped at boot.
pub const HEAP_INITIAL: u64 = 256 * 1024;
/// Largest the heap may grow to.
pub const HEAP_MAX: u64 = 32 * 1024 * 1024;
/// Smallest growth step.
pub const GROW_STEP: u64 = 64 * 1024;
/// Magic of [`KernelHeap`]: "HEAP".
pub const HEAP_MAGIC: u32 = u32::from_le_bytes(*b"HEAP");
/// Layout version of [`KernelHeap`].
pub const HEAP_VERSION: u32 = 1;

/// Allocation statistics.
#[derive(Debug, Default, Clone, Copy)]
#[repr(C)]
pub struct HeapStats {
    /// Successful allocations.
    pub allocs: u64,
    /// Deallocations.
    pub frees: u64,
    /// Bytes requested and not yet freed.
    pub bytes_in_use: u64,
    /// Highest `bytes_in_use`.
    pub peak_bytes: u64,
    /// Allocations served by the fallback directly (too large for a block).
    pub large_allocs: u64,
    /// Times the heap grew.
    pub grows: u64,
    /// Allocations refused.
    pub failures: u64,
}

/// The heap's state.
#[repr(C)]
pub struct KernelHeap {
    magic: u32,
    version: u32,
    /// Virtual start.
    pub start: u64,
    /// Bytes mapped.
    pub size: u64,
    /// Most bytes it may map.
    pub max: u64,
    /// Statistics.
    pub stats: HeapStats,
    /// The fixed-size free lists.
    pub lists: BlockLists,
    /// The fallback allocator (crate layout: decode from DWARF).
    pub fallback: Heap,
}

/// The global allocator.
#[no_mangle]
#[global_allocator]
pub static RUSTOS_HEAP: IrqMutex<KernelHeap> = IrqMutex::new(KernelHeap {
    magic: HEAP_MAGIC,
    version: HEAP_VERSION,
    start: HEAP_START,
    size: 0,
    max: HEAP_MAX,
    stats: HeapStats { allocs: 0, frees: 0, bytes_in_use: 0, peak_bytes: 0, large_allocs: 0, grows: 0, failures: 0 },
    lists: BlockLists::new(),
    fallback: Heap::empty(),
});

/// Maps `bytes` of fresh frames at `virt`.
fn map_range(virt: u64, bytes: u64) -> bool {
    let mut offset = 0;
    while offset < bytes {
        let Some(frame) = frames::allocate() else { return false };
        if paging::map(virt + offset, frame, Flags::WRITABLE | Flags::NO_EXECUTE).is_err() {
            frames::free(frame);
            return false;
        }
        offset += PAGE_SIZE;
    }
    true
}

/// Maps the initial heap and hands it to the fallback allocator. Never
/// inlined: the debugger stops on it (`until rustos::heap::init`).
#[inline(never)]
pub fn init() {
    assert!(map_range(HEAP_START, HEAP_INITIAL), "cannot map the initial heap");
    let mut heap = RUSTOS_HEAP.lock();
    // SAFETY: the range was just mapped and is used by nothing else.
    unsafe { heap.fallback.init(HEAP_START as *mut u8, HEAP_INITIAL as usize) };
    heap.size = HEAP_INITIAL;
    drop(heap);
    log!(Info, "heap: {} KiB at {:#x}, grows to {} MiB", HEAP_INITIAL / 1024, HEAP_START, HEAP_MAX >> 20);
}

impl KernelHeap {
    fn grow(&mut self, at_least: u64) -> bool {
        let bytes = at_least.div_ceil(GROW_STEP) * GROW_STEP + GROW_STEP;
        if self.size + bytes > self.max || !map_range(self.start + self.size, bytes) {
            return false;
        }
        // SAFETY: the new pages directly follow the heap's top.
        unsafe { self.fallback.extend(bytes as usize) };
        self.size += bytes;
        self.stats.grows += 1;
        true
    }

    fn fallback_alloc(&mut self, layout: Layout) -> *mut u8 {
        if let Ok(ptr) = self.fallback.allocate_first_fit(layout) {
            return ptr.as_ptr();
        }
        if self.grow(layout.size() as u64 + layout.align() as u64) {
            if let Ok(ptr) = self.fallback.allocate_first_fit(layout) {
                return ptr.as_ptr();
            }
        }
        null_mut()
    }

    // Never inlined: the heap sanitizer hooks it by name (rustos_dbg/machine/sanitizer.py).
    #[inline(never)]
    fn alloc(&mut self, layout: Layout) -> *mut u8 {
        let ptr = match class_for(layout.size(), layout.align()) {
            // SAFETY: blocks on the lists were given back by `dealloc`.
            Some(class) => match unsafe { self.lists.pop(class) } {
                Some(block) => block,
                None => {
                    let size = BLOCK_SIZES[class];
                    self.fallback_alloc(Layout::from_size_align(size, size).unwrap())
                }
            },
            None => {
                self.stats.large_allocs += 1;
                self.fallback_alloc(layout)
            }
        };
        if ptr.is_null() {
            self.stats.failures += 1;
        } else {
            self.stats.allocs += 1;
            self.stats.bytes_in_use += layout.size() as u64;
            self.stats.peak_bytes = self.stats.peak_bytes.max(self.stats.bytes_in_use);
        }
        ptr
    }

    /// Returns the block at `ptr` to its free list or to the fallback.
    ///
    /// # Safety
    /// `ptr` must have come from [`KernelHeap::alloc`] with this same `layout`
    /// and not have been freed since (the `GlobalAlloc::dealloc` contract).
    unsafe fn dealloc(&mut self, ptr: *mut u8, layout: Layout) {
        match class_for(layout.size(), layout.align()) {
            // SAFETY: a block of this class, served by `alloc` from the same
            // list or the fallback, and no longer used by the caller.
            Some(class) => unsafe { self.lists.push(class, ptr) },
            // SAFETY: `alloc` served this layout from the fallback, so `ptr` is
            // one of its non-null blocks.
            None => unsafe { self.fallback.deallocate(NonNull::new_unchecked(ptr), layout) },
        }
        self.stats.frees += 1;
        self.stats.bytes_in_use -= layout.size() as u64;
    }

    /// Bytes free in the fallback allocator.
    pub fn fallback_free(&self) -> u64 {
        self.fallback.free() as u64
    }
}

// SAFETY: `alloc` returns blocks of at least `layout.size()` bytes aligned to
// `layout.align()` (size classes are powers of two; larger requests go to the
// fallback with their layout) that no other allocation overlaps, or null; the
// lock serialises every use of the heap, interrupts included.
unsafe impl GlobalAlloc for IrqMutex<KernelHeap> {
    /// # Safety
    /// The `GlobalAlloc::alloc` contract: `layout` has a non-zero size.
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.lock().alloc(layout)
    }

    /// # Safety
    /// The `GlobalAlloc::dealloc` contract: `ptr` came from this allocator's
    /// `alloc` with the same `layout` and was not freed since.
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's guarantee, passed on unchanged.
        unsafe { self.lock().dealloc(ptr, layout) }
    }
}

/// A copy of the statistics and sizes: (start, size, stats, free bytes in lists, free bytes in fallback).
pub fn snapshot() -> (u64, u64, HeapStats, u64, u64) {
    let heap = RUSTOS_HEAP.lock();
    (heap.start, heap.size, heap.stats, heap.lists.free_bytes(), heap.fallback_free())
}

/// Free blocks in each size class.
pub fn class_counts() -> [u64; BLOCK_SIZES.len()] {
    let heap = RUSTOS_HEAP.lock();
    core::array::from_fn(|c| heap.lists.count(c))
}
