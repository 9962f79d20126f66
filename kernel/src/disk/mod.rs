//! The disk: the ATA primary master read with PIO (`ata`) and the FAT32
//! volume on it (`rustos_core::fat32`), mounted on demand (nothing touches
//! the disk at boot). One file tree: the volume's root directory is `/`.

pub mod ata;

use ata::Ata;
use rustos_core::fat32::{DirEntry, Error, Volume};

/// Why the disk could not be used, as one line.
pub fn describe(e: Error) -> &'static str {
    match e {
        Error::Io => "no disk (no ATA drive answers on the primary channel)",
        other => other.describe(),
    }
}

fn mount() -> Result<Volume, Error> {
    Ata::identify()?;
    Volume::mount(&mut Ata)
}

/// Calls `f` with every entry of the root directory.
pub fn list(f: impl FnMut(&DirEntry)) -> Result<(), Error> {
    mount()?.list_root(&mut Ata, f)
}

/// Calls `f` with the bytes of file `path` (in the root directory), in order.
pub fn read(path: &str, f: impl FnMut(&[u8])) -> Result<(), Error> {
    let volume = mount()?;
    let entry = volume.find(&mut Ata, path)?;
    volume.read_file(&mut Ata, &entry, f)
}
