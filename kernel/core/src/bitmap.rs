//! A bitmap of physical frames: bit set = frame in use.
//!
//! The kernel's frame allocator keeps one bit per 4 KiB frame in a slice of
//! `u64` words (bit `i % 64` of word `i / 64` is frame `i`). This module holds
//! the search and bookkeeping; the kernel owns the storage.

/// Bookkeeping over a borrowed slice of bitmap words.
pub struct Bitmap<'a> {
    words: &'a mut [u64],
    bits: usize,
}

impl<'a> Bitmap<'a> {
    /// A view of `bits` bits stored in `words` (which must hold at least that many).
    pub fn new(words: &'a mut [u64], bits: usize) -> Self {
        assert!(words.len() * 64 >= bits, "bitmap storage too small");
        Bitmap { words, bits }
    }

    /// Number of bits tracked.
    pub fn len(&self) -> usize {
        self.bits
    }

    /// Whether no bits are tracked.
    pub fn is_empty(&self) -> bool {
        self.bits == 0
    }

    /// Whether bit `i` is set.
    pub fn get(&self, i: usize) -> bool {
        i < self.bits && self.words[i / 64] & (1 << (i % 64)) != 0
    }

    /// Sets or clears bit `i`.
    pub fn set(&mut self, i: usize, value: bool) {
        assert!(i < self.bits, "bit {} out of range", i);
        if value {
            self.words[i / 64] |= 1 << (i % 64);
        } else {
            self.words[i / 64] &= !(1 << (i % 64));
        }
    }

    /// Sets or clears every bit in `start..end`.
    pub fn set_range(&mut self, start: usize, end: usize, value: bool) {
        for i in start..end.min(self.bits) {
            self.set(i, value);
        }
    }

    /// The first clear bit at or after `from`, skipping full words quickly.
    pub fn find_clear(&self, from: usize) -> Option<usize> {
        let mut i = from;
        while i < self.bits {
            let word = self.words[i / 64];
            if word == u64::MAX && i % 64 == 0 {
                i += 64;
                continue;
            }
            if word & (1 << (i % 64)) == 0 {
                return Some(i);
            }
            i += 1;
        }
        None
    }

    /// Number of set bits.
    pub fn count_set(&self) -> usize {
        (0..self.bits).filter(|&i| self.get(i)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_find() {
        let mut words = [0u64; 3];
        let mut b = Bitmap::new(&mut words, 150);
        b.set_range(0, 130, true);
        assert_eq!(b.find_clear(0), Some(130));
        b.set(64, false);
        assert_eq!(b.find_clear(0), Some(64));
        assert_eq!(b.count_set(), 129);
        b.set_range(130, 150, true);
        b.set(64, true);
        assert_eq!(b.find_clear(0), None);
        assert!(!b.get(150));
    }
}
