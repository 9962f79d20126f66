//! Fixed-size-block free lists: one singly linked list of free blocks per size class.
//!
//! The kernel heap serves small allocations (8 to 2048 bytes) from these
//! lists and everything else from a fallback allocator. A free block holds the
//! address of the next free block of its class in its first eight bytes (0 ends
//! the list). [`BlockLists`] is `#[repr(C)]` with a magic and a version so that
//! the debugger can decode it (see `docs/kernel-structures.md`).

/// Block sizes, one free list each; a block's alignment equals its size.
pub const BLOCK_SIZES: [usize; 9] = [8, 16, 32, 64, 128, 256, 512, 1024, 2048];
/// Number of size classes.
pub const CLASS_COUNT: usize = BLOCK_SIZES.len();
/// Magic of [`BlockLists`]: "BLKS".
pub const BLOCKS_MAGIC: u32 = u32::from_le_bytes(*b"BLKS");
/// Layout version of [`BlockLists`].
pub const BLOCKS_VERSION: u32 = 1;

/// The size class that serves a request of `size` bytes aligned to `align`, if any.
pub fn class_for(size: usize, align: usize) -> Option<usize> {
    let needed = size.max(align);
    BLOCK_SIZES.iter().position(|&block| block >= needed)
}

/// The heads of the free lists and how many blocks each holds.
#[repr(C)]
pub struct BlockLists {
    magic: u32,
    version: u32,
    class_count: u32,
    _pad: u32,
    sizes: [u64; CLASS_COUNT],
    heads: [u64; CLASS_COUNT],
    counts: [u64; CLASS_COUNT],
}

impl BlockLists {
    /// Empty lists.
    pub const fn new() -> Self {
        let mut sizes = [0u64; CLASS_COUNT];
        let mut i = 0;
        while i < CLASS_COUNT {
            sizes[i] = BLOCK_SIZES[i] as u64;
            i += 1;
        }
        BlockLists {
            magic: BLOCKS_MAGIC,
            version: BLOCKS_VERSION,
            class_count: CLASS_COUNT as u32,
            _pad: 0,
            sizes,
            heads: [0; CLASS_COUNT],
            counts: [0; CLASS_COUNT],
        }
    }

    /// Takes a free block of `class`, if its list is not empty.
    ///
    /// # Safety
    /// Every block on the lists must be valid, writable memory of its class's
    /// size that nothing else uses (as [`push`](Self::push) requires).
    pub unsafe fn pop(&mut self, class: usize) -> Option<*mut u8> {
        let head = self.heads[class];
        if head == 0 {
            return None;
        }
        let block = head as *mut u64;
        // SAFETY: `head` is a block on the list, so (the caller's guarantee)
        // valid, 8-aligned memory that holds the next block's address.
        self.heads[class] = unsafe { block.read() };
        self.counts[class] -= 1;
        Some(block as *mut u8)
    }

    /// Gives `block` back to the list of `class`.
    ///
    /// # Safety
    /// `block` must point to at least `BLOCK_SIZES[class]` bytes, aligned to that
    /// size, that the caller owns and will not use again.
    pub unsafe fn push(&mut self, class: usize, block: *mut u8) {
        let node = block as *mut u64;
        // SAFETY: the caller gives us `block`: at least 8 writable bytes,
        // aligned to its class size (8 or more), that nobody else uses.
        unsafe { node.write(self.heads[class]) };
        self.heads[class] = node as u64;
        self.counts[class] += 1;
    }

    /// Number of free blocks in `class`.
    pub fn count(&self, class: usize) -> u64 {
        self.counts[class]
    }

    /// Bytes held in all free lists.
    pub fn free_bytes(&self) -> u64 {
        (0..CLASS_COUNT).map(|c| self.counts[c] * BLOCK_SIZES[c] as u64).sum()
    }
}

impl Default for BlockLists {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(class_for(1, 1), Some(0));
        assert_eq!(class_for(8, 8), Some(0));
        assert_eq!(class_for(9, 1), Some(1));
        assert_eq!(class_for(24, 64), Some(3));
        assert_eq!(class_for(2048, 8), Some(8));
        assert_eq!(class_for(2049, 8), None);
    }

    #[test]
    fn lifo_reuse_and_counts() {
        let mut storage = vec![0u64; 64];
        let base = storage.as_mut_ptr() as *mut u8;
        let mut lists = BlockLists::new();
        // SAFETY: both blocks (base and base + 16) lie inside `storage`, are
        // 16 bytes and 8-aligned, and nothing else uses them while listed.
        unsafe {
            lists.push(1, base);
            lists.push(1, base.add(16));
            assert_eq!(lists.count(1), 2);
            assert_eq!(lists.free_bytes(), 32);
            assert_eq!(lists.pop(1), Some(base.add(16)));
            assert_eq!(lists.pop(1), Some(base));
            assert_eq!(lists.pop(1), None);
            assert_eq!(lists.pop(0), None);
        }
        assert_eq!(lists.count(1), 0);
    }
}
