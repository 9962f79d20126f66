//! Files on the disk through the file system calls: open, read, write,
//! seek, close, readdir, remove, and spawn. Errors are the kernel's negative
//! codes (e.g. -2 no such file, -14 a bad address, -28 disk full).

use crate::{nr, syscall};

/// `open` flag: for writing.
pub const O_WRITE: u64 = 1;
/// `open` flag: create when missing.
pub const O_CREATE: u64 = 2;
/// `open` flag: empty the file first.
pub const O_TRUNCATE: u64 = 4;
/// `seek` from the start.
pub const SEEK_SET: u64 = 0;
/// `seek` from the end.
pub const SEEK_END: u64 = 2;

/// Opens `path` with `flags`; a file descriptor or an error.
pub fn open(path: &str, flags: u64) -> i64 {
    // SAFETY: ptr and len describe `path`.
    unsafe { syscall(nr::OPEN, path.as_ptr() as u64, path.len() as u64, flags) }
}

/// Reads into `buf` from `fd`; the bytes read (0 at the end) or an error.
pub fn read(fd: i64, buf: &mut [u8]) -> i64 {
    // SAFETY: ptr and len describe `buf`, which the kernel may write.
    unsafe { syscall(nr::READ, fd as u64, buf.as_mut_ptr() as u64, buf.len() as u64) }
}

/// Writes `bytes` to `fd`; the bytes written or an error.
pub fn write(fd: i64, bytes: &[u8]) -> i64 {
    // SAFETY: ptr and len describe `bytes`.
    unsafe { syscall(nr::WRITE_FILE, fd as u64, bytes.as_ptr() as u64, bytes.len() as u64) }
}

/// Moves the offset of `fd`; the new offset or an error.
pub fn seek(fd: i64, offset: i64, whence: u64) -> i64 {
    // SAFETY: plain numbers.
    unsafe { syscall(nr::SEEK, fd as u64, offset as u64, whence) }
}

/// Closes `fd`.
pub fn close(fd: i64) -> i64 {
    // SAFETY: a plain number.
    unsafe { syscall(nr::CLOSE, fd as u64, 0, 0) }
}

/// Deletes `path`.
pub fn remove(path: &str) -> i64 {
    // SAFETY: ptr and len describe `path`.
    unsafe { syscall(nr::REMOVE, path.as_ptr() as u64, path.len() as u64, 0) }
}

/// Starts `PROG [ARGS]` from the disk; its pid or an error.
pub fn spawn(command: &str) -> i64 {
    // SAFETY: ptr and len describe `command`.
    unsafe { syscall(nr::SPAWN, command.as_ptr() as u64, command.len() as u64, 0) }
}

/// One entry of the root directory, as `readdir` returns it.
pub struct DirEntry {
    raw: [u8; 32],
    len: usize,
}

impl DirEntry {
    /// The file's name.
    pub fn name(&self) -> &str {
        core::str::from_utf8(&self.raw[16..16 + self.len]).unwrap_or("?")
    }

    /// The file's size in bytes.
    pub fn size(&self) -> u64 {
        u64::from_le_bytes(self.raw[0..8].try_into().unwrap_or([0; 8]))
    }
}

/// Entry `index` of `/`: `Ok(None)` past the last, `Err(code)` on an error.
pub fn readdir(index: u64) -> Result<Option<DirEntry>, i64> {
    let mut raw = [0u8; 32];
    // SAFETY: ptr and len describe `raw`, which the kernel may write.
    let n = unsafe { syscall(nr::READDIR, index, raw.as_mut_ptr() as u64, raw.len() as u64) };
    match n {
        0 => Ok(None),
        n if n < 0 => Err(n),
        n => Ok(Some(DirEntry { raw, len: (n as usize).min(16) })),
    }
}
