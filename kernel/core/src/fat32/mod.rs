//! FAT32, read and write (Microsoft's FAT specification, "FAT: General
//! Overview of On-Disk Format"): the BIOS parameter block of sector 0
//! (`volume`), cluster chains in the FATs, 8.3 entries of the root directory
//! (`entry`, `dir`; long names read and deleted but never created:
//! `longname`; subdirectories listed but not entered) and file contents (`file`). Sectors come from a
//! [`BlockDevice`], so this runs over ATA in the kernel and over a byte array
//! in the host tests. Every chain walk is bounded by the volume's cluster
//! count and every cluster number is range-checked, so a corrupt FAT gives
//! [`Error::Corrupt`], never a loop or a write outside the data area.
//!
//! Writes keep every FAT copy the same; the FSInfo sector's free-cluster
//! hint is left alone (the specification makes it advisory).

mod dir;
mod entry;
mod file;
mod longname;
mod volume;
#[cfg(test)]
mod tests;

pub use entry::{short_name, DirEntry, ATTR_DIRECTORY};
pub use longname::{checksum, LONG_MAX};
pub use volume::Volume;

/// Bytes per sector (the only size supported).
pub const SECTOR: usize = 512;

/// Why a FAT32 operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// No device answers.
    NoDevice,
    /// The device could not read or write a sector.
    Io,
    /// Sector 0 is not a FAT32 boot sector.
    NotFat32,
    /// A cluster number or chain is out of range.
    Corrupt,
    /// No entry by that name.
    NotFound,
    /// The entry is a directory.
    IsDir,
    /// No free cluster left.
    Full,
    /// The name has no 8.3 form.
    BadName,
    /// An offset past the end of the file.
    BadOffset,
}

impl Error {
    /// A one-line description.
    pub fn describe(self) -> &'static str {
        match self {
            Error::NoDevice => "no disk",
            Error::Io => "disk read or write failed",
            Error::NotFat32 => "not a FAT32 volume",
            Error::Corrupt => "corrupt FAT",
            Error::NotFound => "no such file",
            Error::IsDir => "is a directory",
            Error::Full => "disk full",
            Error::BadName => "not an 8.3 file name",
            Error::BadOffset => "offset past the end of the file",
        }
    }
}

/// A store of 512-byte sectors.
pub trait BlockDevice {
    /// Reads sector `lba` into `buf`.
    fn read(&mut self, lba: u64, buf: &mut [u8; SECTOR]) -> Result<(), Error>;
    /// Writes `buf` to sector `lba`.
    fn write(&mut self, lba: u64, buf: &[u8; SECTOR]) -> Result<(), Error>;
}
