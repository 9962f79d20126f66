//! The disk: the ATA primary master over PIO (`ata`) and the FAT32 volume on
//! it (`rustos_core::fat32`), mounted afresh for each operation (nothing
//! touches the disk at boot, and a disk changed behind the kernel's back is
//! seen as it is). One file tree: the volume's root directory is `/`, so
//! `note.txt` and `/note.txt` name the same file.
//!
//! Every operation runs under [`with_volume`]: interrupts off and the disk
//! lock held, so the shell (a preemptible thread) and a process's system call
//! (trap context) never interleave their sector transfers.

pub mod ata;

use alloc::vec::Vec;
use ata::Ata;
use rustos_core::fat32::{DirEntry, Error, Volume};
use spin::Mutex;

static DISK: Mutex<()> = Mutex::new(());

/// Why the disk could not be used, as one line.
pub fn describe(e: Error) -> &'static str {
    match e {
        Error::NoDevice => "no disk (no ATA drive answers on the primary channel)",
        other => other.describe(),
    }
}

/// Runs `f` on the mounted volume, with interrupts off and the disk lock held.
pub fn with_volume<T>(f: impl FnOnce(&Volume, &mut Ata) -> Result<T, Error>) -> Result<T, Error> {
    x86_64::instructions::interrupts::without_interrupts(|| {
        let _held = DISK.lock();
        Ata::identify()?;
        let volume = Volume::mount(&mut Ata)?;
        f(&volume, &mut Ata)
    })
}

/// Calls `f` with every entry of the root directory.
pub fn list(f: impl FnMut(&DirEntry)) -> Result<(), Error> {
    with_volume(|v, dev| v.list_root(dev, f))
}

/// Calls `f` with the bytes of file `path` (in the root directory), in order.
pub fn read(path: &str, f: impl FnMut(&[u8])) -> Result<(), Error> {
    with_volume(|v, dev| {
        let entry = v.find(dev, path)?;
        v.read_file(dev, &entry, f)
    })
}

/// The whole file `path`, when it has at most `max` bytes (else `Ok(None)`).
pub fn read_all(path: &str, max: usize) -> Result<Option<Vec<u8>>, Error> {
    with_volume(|v, dev| {
        let entry = v.find(dev, path)?;
        if entry.size as usize > max {
            return Ok(None);
        }
        let mut bytes = Vec::new();
        if bytes.try_reserve_exact(entry.size as usize).is_err() {
            return Ok(None);
        }
        v.read_file(dev, &entry, |piece| bytes.extend_from_slice(piece))?;
        Ok(Some(bytes))
    })
}

/// The entry of `path`, created empty when `create` and missing, emptied when `truncate`.
pub fn open(path: &str, create: bool, truncate: bool) -> Result<DirEntry, Error> {
    with_volume(|v, dev| {
        let mut entry = match v.find(dev, path) {
            Err(Error::NotFound) if create => v.create(dev, path)?,
            other => other?,
        };
        if entry.is_dir() {
            return Err(Error::IsDir);
        }
        if truncate && entry.size > 0 {
            v.truncate(dev, &mut entry)?;
        }
        Ok(entry)
    })
}

/// Writes `bytes` as the whole content of `path` (created if missing; a
/// file created here is deleted again when the write fails, e.g. on a full disk).
pub fn write_file(path: &str, bytes: &[u8]) -> Result<(), Error> {
    with_volume(|v, dev| {
        let (mut entry, created) = match v.find(dev, path) {
            Err(Error::NotFound) => (v.create(dev, path)?, true),
            other => (other?, false),
        };
        if entry.is_dir() {
            return Err(Error::IsDir);
        }
        v.truncate(dev, &mut entry)?;
        let written = v.write_at(dev, &mut entry, 0, bytes).map(|_| ());
        if written.is_err() && created {
            v.remove(dev, path)?;
        }
        written
    })
}

/// Deletes file `path`.
pub fn remove(path: &str) -> Result<(), Error> {
    with_volume(|v, dev| v.remove(dev, path))
}
