//! A read-only ustar (POSIX tar) archive reader over a byte slice: the ramdisk.
//!
//! Contract: [`Archive::entries`] walks the 512-byte headers in order and
//! yields each member as an [`Entry`] borrowing from the archive (no copy, no
//! allocation); it stops at the end-of-archive marker (a zero block) or at the
//! end of the bytes. A header whose checksum, magic, size or name is wrong, or
//! a member that runs past the end, is an [`Error`] naming the byte offset,
//! and ends the walk. Accepted: POSIX ustar (`"ustar\0"`, version `"00"`) and
//! GNU (`"ustar "`) headers, the ustar `prefix` field; pax extended headers
//! (`x`, `g`) are skipped (their attributes are not applied).

use core::fmt;

/// Size of a header and of the unit of member data.
pub const BLOCK: usize = 512;

/// What a member is (from the header's type flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file (`'0'` or NUL).
    File,
    /// A directory (`'5'`).
    Dir,
    /// Anything else (links, devices, FIFOs), kept but not readable as a file.
    Other(u8),
}

/// One member of the archive.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// The ustar `prefix` field (empty for most members).
    pub prefix: &'a str,
    /// The `name` field.
    pub name: &'a str,
    /// The member's kind.
    pub kind: Kind,
    /// The member's data (empty for a directory).
    pub data: &'a [u8],
    /// Byte offset of the member's header in the archive.
    pub offset: usize,
}

impl Entry<'_> {
    /// The path without a leading `./` or `/` and without a trailing `/`,
    /// as (prefix part, name part): join them with `/` when the first is not empty.
    pub fn path_parts(&self) -> (&str, &str) {
        let prefix = self.prefix.trim_start_matches("./").trim_matches('/');
        let name = self.name.trim_start_matches("./").trim_matches('/');
        if prefix.is_empty() {
            (name.trim_start_matches("./"), "")
        } else {
            (prefix, name)
        }
    }

    /// Whether the member's path is `path` (leading `/` or `./` ignored).
    pub fn is(&self, path: &str) -> bool {
        let path = path.trim_start_matches("./").trim_matches('/');
        match self.path_parts() {
            (whole, "") => whole == path,
            (prefix, name) => {
                path.len() == prefix.len() + 1 + name.len()
                    && path.starts_with(prefix)
                    && path.as_bytes()[prefix.len()] == b'/'
                    && path.ends_with(name)
            }
        }
    }
}

impl fmt::Display for Entry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.path_parts() {
            (whole, "") => f.write_str(whole),
            (prefix, name) => write!(f, "{}/{}", prefix, name),
        }
    }
}

/// Why the archive cannot be read, with the byte offset of the bad header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The bytes end inside a header (a partial block).
    Truncated(usize),
    /// The header's checksum does not match its bytes.
    Checksum(usize),
    /// The header has no `ustar` magic.
    Magic(usize),
    /// A numeric field is not octal.
    Number(usize),
    /// A name or prefix is not UTF-8.
    Name(usize),
    /// The member's data runs past the end of the archive.
    DataPastEnd(usize),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Truncated(at) => write!(f, "corrupt tar: truncated header at byte {}", at),
            Error::Checksum(at) => write!(f, "corrupt tar: bad header checksum at byte {}", at),
            Error::Magic(at) => write!(f, "corrupt tar: no ustar magic at byte {}", at),
            Error::Number(at) => write!(f, "corrupt tar: bad numeric field at byte {}", at),
            Error::Name(at) => write!(f, "corrupt tar: name is not UTF-8 at byte {}", at),
            Error::DataPastEnd(at) => write!(f, "corrupt tar: member at byte {} runs past the end", at),
        }
    }
}

/// An archive in memory.
#[derive(Debug, Clone, Copy)]
pub struct Archive<'a> {
    bytes: &'a [u8],
}

impl<'a> Archive<'a> {
    /// The archive held in `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Archive { bytes }
    }

    /// The archive's bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The members, in order.
    pub fn entries(&self) -> Entries<'a> {
        Entries { bytes: self.bytes, offset: 0, done: false }
    }

    /// Checks every header; the number of members.
    pub fn validate(&self) -> Result<usize, Error> {
        self.entries().try_fold(0, |n, e| e.map(|_| n + 1))
    }

    /// The regular file at `path`: `Ok(None)` when there is none.
    pub fn find(&self, path: &str) -> Result<Option<Entry<'a>>, Error> {
        for entry in self.entries() {
            let entry = entry?;
            if entry.kind == Kind::File && entry.is(path) {
                return Ok(Some(entry));
            }
        }
        Ok(None)
    }
}

/// Iterator over an archive's members (see [`Archive::entries`]).
pub struct Entries<'a> {
    bytes: &'a [u8],
    offset: usize,
    done: bool,
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Entry<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.step() {
                Ok(Some(entry)) => return Some(Ok(entry)),
                Ok(None) => continue,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

impl<'a> Entries<'a> {
    /// Reads the header at `offset`: a member, None for a skipped pax header, or
    /// sets `done` at the end.
    fn step(&mut self) -> Result<Option<Entry<'a>>, Error> {
        let at = self.offset;
        let rest = &self.bytes[at.min(self.bytes.len())..];
        if rest.is_empty() {
            self.done = true;
            return Ok(None);
        }
        if rest.len() < BLOCK {
            return Err(Error::Truncated(at));
        }
        let header = &rest[..BLOCK];
        if header.iter().all(|&b| b == 0) {
            self.done = true;
            return Ok(None);
        }
        let stored = octal(&header[148..156]).ok_or(Error::Number(at))?;
        if stored != checksum(header) {
            return Err(Error::Checksum(at));
        }
        if &header[257..262] != b"ustar" {
            return Err(Error::Magic(at));
        }
        let size = octal(&header[124..136]).ok_or(Error::Number(at))? as usize;
        let data_start = at + BLOCK;
        let data = self.bytes.get(data_start..data_start.checked_add(size).ok_or(Error::DataPastEnd(at))?)
            .ok_or(Error::DataPastEnd(at))?;
        self.offset = data_start + size.div_ceil(BLOCK) * BLOCK;
        let kind = match header[156] {
            b'0' | 0 => Kind::File,
            b'5' => Kind::Dir,
            b'x' | b'g' => return Ok(None),
            other => Kind::Other(other),
        };
        let name = text(&header[0..100]).ok_or(Error::Name(at))?;
        let prefix = text(&header[345..500]).ok_or(Error::Name(at))?;
        let data = if kind == Kind::Dir { &data[..0] } else { data };
        Ok(Some(Entry { prefix, name, kind, data, offset: at }))
    }
}

/// The header checksum: the byte sum with the checksum field taken as spaces.
pub fn checksum(header: &[u8]) -> u64 {
    header.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { b' ' as u64 } else { b as u64 }).sum()
}

/// An octal field: digits, optionally surrounded by spaces and ended by NUL.
fn octal(field: &[u8]) -> Option<u64> {
    let digits = field.split(|&b| b == 0).next().unwrap_or(&[]);
    let digits = trim_spaces(digits);
    if digits.is_empty() {
        return Some(0);
    }
    digits.iter().try_fold(0u64, |n, &d| {
        if (b'0'..=b'7').contains(&d) { n.checked_mul(8)?.checked_add((d - b'0') as u64) } else { None }
    })
}

fn trim_spaces(mut s: &[u8]) -> &[u8] {
    while let [b' ', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' '] = s {
        s = rest;
    }
    s
}

/// A NUL-padded text field.
fn text(field: &[u8]) -> Option<&str> {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    core::str::from_utf8(&field[..end]).ok()
}

#[cfg(test)]
mod tests;
