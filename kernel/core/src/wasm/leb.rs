//! A cursor over module bytes: LEB128 integers, bytes, names. Running past the
//! end or an over-long number is a [`Trap::Malformed`] at the offset.

use super::Trap;

/// A position in a byte slice.
#[derive(Clone)]
pub struct Reader<'a> {
    pub bytes: &'a [u8],
    pub pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8], pos: usize) -> Self {
        Reader { bytes, pos }
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    pub fn err(&self, what: &'static str) -> Trap {
        Trap::Malformed(what, self.pos)
    }

    #[inline]
    pub fn byte(&mut self) -> Result<u8, Trap> {
        let b = *self.bytes.get(self.pos).ok_or(self.err("unexpected end"))?;
        self.pos += 1;
        Ok(b)
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Trap> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or(self.err("unexpected end"))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// An unsigned LEB128 of at most `bits` bits.
    fn unsigned(&mut self, bits: u32) -> Result<u64, Trap> {
        let mut result = 0u64;
        let mut shift = 0;
        loop {
            let b = self.byte()?;
            if shift >= bits || (shift + 7 > bits && (b & 0x7F) >> (bits - shift) != 0) {
                return Err(self.err("integer too long"));
            }
            result |= ((b & 0x7F) as u64) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                return Ok(result);
            }
        }
    }

    /// A signed LEB128 of at most `bits` bits, sign-extended to i64.
    fn signed(&mut self, bits: u32) -> Result<i64, Trap> {
        let mut result = 0i64;
        let mut shift = 0;
        loop {
            let b = self.byte()?;
            if shift >= bits {
                return Err(self.err("integer too long"));
            }
            result |= ((b & 0x7F) as i64) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    result |= -1i64 << shift;
                }
                return Ok(result);
            }
        }
    }

    /// A u32 (LEB128); one-byte values (most indices and depths) take the short path.
    #[inline]
    pub fn u32(&mut self) -> Result<u32, Trap> {
        if let Some(&b) = self.bytes.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(b as u32);
            }
        }
        self.unsigned(32).map(|v| v as u32)
    }

    pub fn i32(&mut self) -> Result<i32, Trap> {
        self.signed(32).map(|v| v as i32)
    }

    pub fn i64(&mut self) -> Result<i64, Trap> {
        self.signed(64)
    }

    /// A length-prefixed UTF-8 name.
    pub fn name(&mut self) -> Result<&'a str, Trap> {
        let n = self.u32()? as usize;
        let bytes = self.take(n)?;
        core::str::from_utf8(bytes).map_err(|_| self.err("name is not UTF-8"))
    }
}
