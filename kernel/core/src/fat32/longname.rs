//! Long names (VFAT, in Microsoft's FAT specification "Long File Name
//! Implementation"): the long-name entries that precede a short entry are
//! gathered here, checked against the short name's checksum, and give the
//! entry its name. Only ASCII names of up to [`LONG_MAX`] characters are
//! kept (others fall back to the 8.3 name); the kernel creates 8.3 names only.

/// Longest long name kept (two long-name entries of 13 characters).
pub const LONG_MAX: usize = 26;
const PIECES: usize = LONG_MAX / 13;
/// Where the 13 UCS-2 characters of one long-name entry lie.
const CHAR_OFFSETS: [usize; 13] = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

/// The checksum of an 11-byte short name that its long-name entries carry.
pub fn checksum(short: &[u8]) -> u8 {
    short[..11].iter().fold(0u8, |sum, &b| (sum >> 1 | sum << 7).wrapping_add(b))
}

/// The long-name entries seen since the last short entry.
#[derive(Debug, Clone, Copy)]
pub(super) struct LongName {
    chars: [u8; LONG_MAX],
    len: usize,
    /// Slots of the long-name entries, in disk order.
    pub slots: [u64; PIECES],
    pub count: usize,
    checksum: u8,
    first: usize,
    valid: bool,
}

impl LongName {
    pub const EMPTY: LongName = LongName { chars: [0; LONG_MAX], len: 0, slots: [0; PIECES], count: 0, checksum: 0, first: 0, valid: false };

    /// Takes in one long-name entry (at `slot`); they come last piece first.
    pub fn feed(&mut self, raw: &[u8], slot: u64) {
        let ord = (raw[0] & 0x1F) as usize;
        if raw[0] & 0x40 != 0 {
            *self = LongName::EMPTY;
            self.valid = (1..=PIECES).contains(&ord);
            self.checksum = raw[13];
            self.len = ord * 13;
            self.first = ord;
        }
        if !self.valid || ord + self.count != self.first || raw[13] != self.checksum {
            self.valid = false;
            return;
        }
        self.slots[self.count] = slot;
        self.count += 1;
        for (i, &at) in CHAR_OFFSETS.iter().enumerate() {
            let c = u16::from_le_bytes([raw[at], raw[at + 1]]);
            let pos = (ord - 1) * 13 + i;
            match c {
                0 => self.len = self.len.min(pos),
                0xFFFF => {}
                c if c < 0x80 && c != b'/' as u16 => self.chars[pos] = c as u8,
                _ => self.valid = false,
            }
        }
    }

    /// The long name of the short entry `raw`, if the pieces seen belong to it; resets.
    pub fn take(&mut self, raw: &[u8]) -> Option<([u8; LONG_MAX], usize)> {
        let this = *self;
        *self = LongName::EMPTY;
        let whole = this.valid && this.count == this.first && this.len > 0 && this.checksum == checksum(raw);
        whole.then_some((this.chars, this.len))
    }
}
