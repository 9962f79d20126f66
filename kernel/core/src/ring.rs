//! A fixed-capacity FIFO of `u64` ids with a `#[repr(C)]` layout.
//!
//! The executor's ready queue is one of these. Its layout is stable and
//! documented in `docs/kernel-structures.md` so that the debugger can decode
//! it from guest memory: a magic, a version, the capacity, the head index, the
//! number of queued ids, then the slots. Ids are read from `head` onwards,
//! wrapping at `capacity`.

/// Magic of a [`RingQueue`]: "RING" in little-endian ASCII.
pub const RING_MAGIC: u32 = u32::from_le_bytes(*b"RING");
/// Layout version of a [`RingQueue`].
pub const RING_VERSION: u32 = 1;

/// A first-in first-out queue of up to `N` ids.
#[repr(C)]
pub struct RingQueue<const N: usize> {
    magic: u32,
    version: u32,
    capacity: u32,
    head: u32,
    len: u32,
    _pad: u32,
    slots: [u64; N],
}

impl<const N: usize> RingQueue<N> {
    /// An empty queue.
    pub const fn new() -> Self {
        RingQueue { magic: RING_MAGIC, version: RING_VERSION, capacity: N as u32, head: 0, len: 0, _pad: 0, slots: [0; N] }
    }

    /// Appends `id`; gives it back when the queue is full.
    pub fn push(&mut self, id: u64) -> Result<(), u64> {
        if self.len as usize == N {
            return Err(id);
        }
        let tail = (self.head as usize + self.len as usize) % N;
        self.slots[tail] = id;
        self.len += 1;
        Ok(())
    }

    /// Removes and returns the oldest id.
    pub fn pop(&mut self) -> Option<u64> {
        if self.len == 0 {
            return None;
        }
        let id = self.slots[self.head as usize];
        self.head = ((self.head as usize + 1) % N) as u32;
        self.len -= 1;
        Some(id)
    }

    /// Whether `id` is queued.
    pub fn contains(&self, id: u64) -> bool {
        self.iter().any(|queued| queued == id)
    }

    /// Number of queued ids.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The queued ids, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.len as usize).map(move |i| self.slots[(self.head as usize + i) % N])
    }
}

impl<const N: usize> Default for RingQueue<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_order_and_wraparound() {
        let mut q: RingQueue<3> = RingQueue::new();
        for round in 0..5u64 {
            q.push(round * 10).unwrap();
            q.push(round * 10 + 1).unwrap();
            assert_eq!(q.pop(), Some(round * 10));
            assert_eq!(q.pop(), Some(round * 10 + 1));
        }
        assert!(q.is_empty());
    }

    #[test]
    fn full_queue_refuses() {
        let mut q: RingQueue<2> = RingQueue::new();
        q.push(1).unwrap();
        q.push(2).unwrap();
        assert_eq!(q.push(3), Err(3));
        assert_eq!(q.iter().collect::<Vec<_>>(), vec![1, 2]);
        assert!(q.contains(2) && !q.contains(3));
    }

    #[test]
    fn layout_is_stable() {
        assert_eq!(core::mem::size_of::<RingQueue<4>>(), 24 + 4 * 8);
        let q: RingQueue<4> = RingQueue::new();
        // SAFETY: `q` is a live, initialised value at least 8 bytes long, and
        // the bytes are only read while `q` is borrowed.
        let bytes = unsafe { core::slice::from_raw_parts(&q as *const _ as *const u8, 8) };
        assert_eq!(&bytes[..4], b"RING");
    }
}
