//! One 32-byte short (8.3) directory entry: decoded into [`DirEntry`], and
//! the 11-byte on-disk form of a name ([`short_name`]).

use super::longname::LONG_MAX;
use super::Error;

/// Directory-entry attribute: a directory.
pub const ATTR_DIRECTORY: u8 = 0x10;
/// Directory-entry attribute: an ordinary file (archive bit).
pub const ATTR_ARCHIVE: u8 = 0x20;
pub(super) const ATTR_VOLUME_ID: u8 = 0x08;
pub(super) const ATTR_LONG_NAME: u8 = 0x0F;
/// First name byte of a deleted entry.
pub(super) const DELETED: u8 = 0xE5;

/// One 8.3 directory entry, with where it lives on the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirEntry {
    name: [u8; LONG_MAX],
    name_len: u8,
    short: [u8; 12],
    short_len: u8,
    /// Attribute bits.
    pub attr: u8,
    /// First cluster (0: an empty file).
    pub cluster: u32,
    /// Size in bytes.
    pub size: u32,
    /// Byte position of the 32-byte entry on the device (sector * 512 + offset).
    pub slot: u64,
}

impl DirEntry {
    /// The name: the long name when it has one, else `name.ext` in lower case.
    pub fn name(&self) -> &str {
        core::str::from_utf8(&self.name[..self.name_len as usize]).unwrap_or("?")
    }

    /// The 8.3 name as `name.ext`, lower case.
    pub fn short_name(&self) -> &str {
        core::str::from_utf8(&self.short[..self.short_len as usize]).unwrap_or("?")
    }

    /// Whether `name` (case-insensitive) is this entry's long or short name.
    pub fn is_called(&self, name: &str) -> bool {
        self.name().eq_ignore_ascii_case(name) || self.short_name().eq_ignore_ascii_case(name)
    }

    /// Whether the entry is a directory.
    pub fn is_dir(&self) -> bool {
        self.attr & ATTR_DIRECTORY != 0
    }

    /// Whether the raw entry is a file or directory (not free, deleted, a label or a long-name piece).
    pub(super) fn is_listed(raw: &[u8]) -> bool {
        raw[0] != 0 && raw[0] != DELETED && raw[11] & ATTR_LONG_NAME != ATTR_LONG_NAME && raw[11] & ATTR_VOLUME_ID == 0
    }

    pub(super) fn decode(raw: &[u8], slot: u64, long: Option<([u8; LONG_MAX], usize)>) -> DirEntry {
        let mut name = [0u8; 12];
        let mut n = 0;
        for &b in raw[0..8].iter().take_while(|&&b| b != b' ') {
            name[n] = b.to_ascii_lowercase();
            n += 1;
        }
        if raw[8] != b' ' {
            name[n] = b'.';
            n += 1;
            for &b in raw[8..11].iter().take_while(|&&b| b != b' ') {
                name[n] = b.to_ascii_lowercase();
                n += 1;
            }
        }
        let hi = u16::from_le_bytes([raw[20], raw[21]]) as u32;
        let lo = u16::from_le_bytes([raw[26], raw[27]]) as u32;
        let size = u32::from_le_bytes([raw[28], raw[29], raw[30], raw[31]]);
        let (long, long_len) = long.unwrap_or_else(|| {
            let mut long = [0u8; LONG_MAX];
            long[..n].copy_from_slice(&name[..n]);
            (long, n)
        });
        DirEntry {
            name: long, name_len: long_len as u8, short: name, short_len: n as u8,
            attr: raw[11], cluster: (hi << 16 | lo) & 0x0FFF_FFFF, size, slot,
        }
    }

    /// Writes the cluster and size fields into the raw entry.
    pub(super) fn store_extent(&self, raw: &mut [u8]) {
        raw[20..22].copy_from_slice(&((self.cluster >> 16) as u16).to_le_bytes());
        raw[26..28].copy_from_slice(&(self.cluster as u16).to_le_bytes());
        raw[28..32].copy_from_slice(&self.size.to_le_bytes());
    }

    /// A fresh raw entry for an empty file called `name` (11-byte form).
    pub(super) fn new_file(name: &[u8; 11]) -> [u8; 32] {
        let mut raw = [0u8; 32];
        raw[..11].copy_from_slice(name);
        raw[11] = ATTR_ARCHIVE;
        // Created/modified 1980-01-01 (date 0x21): no clock-calendar in the kernel.
        for at in [16, 18, 24] {
            raw[at..at + 2].copy_from_slice(&0x21u16.to_le_bytes());
        }
        raw
    }
}

/// The 11-byte 8.3 form of `name` (a leading `/` is ignored; letters, digits,
/// `_` and `-`; case-insensitive), or [`Error::BadName`].
pub fn short_name(name: &str) -> Result<[u8; 11], Error> {
    let name = name.strip_prefix('/').unwrap_or(name);
    let (base, ext) = name.split_once('.').unwrap_or((name, ""));
    let ok = |s: &str, max: usize| s.len() <= max && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if base.is_empty() || !ok(base, 8) || !ok(ext, 3) {
        return Err(Error::BadName);
    }
    let mut raw = [b' '; 11];
    for (i, b) in base.bytes().enumerate() {
        raw[i] = b.to_ascii_uppercase();
    }
    for (i, b) in ext.bytes().enumerate() {
        raw[8 + i] = b.to_ascii_uppercase();
    }
    Ok(raw)
}
