//! The file system calls: open, read, write_file, seek, close, readdir and
//! remove, over the disk's root directory (`crate::disk`) and the open-file
//! table (`process::files`). Data moves between the disk and user memory one
//! sector at a time through a buffer on the kernel stack.

use super::errno::*;
use crate::process::usermem;
use crate::disk;
use crate::process::files;
use rustos_core::fat32::{Error, SECTOR};

/// `open` flag: for writing.
pub const O_WRITE: u64 = 1;
/// `open` flag: create the file when missing.
pub const O_CREATE: u64 = 2;
/// `open` flag: empty the file first.
pub const O_TRUNCATE: u64 = 4;
/// Bytes of a `readdir` record: size (u64), flags (u64, bit 0 = directory), name (16 bytes, NUL-padded).
pub const DIRENT_SIZE: u64 = 32;
/// Longest path `open` and `remove` take.
const PATH_MAX: u64 = 64;

/// The error code for a disk or file-system error.
pub fn errno(e: Error) -> i64 {
    match e {
        Error::NotFound => ENOENT,
        Error::IsDir => EISDIR,
        Error::Full => ENOSPC,
        Error::BadName | Error::BadOffset => EINVAL,
        Error::NoDevice => ENODEV,
        Error::Io | Error::NotFat32 | Error::Corrupt => EIO,
    }
}

fn path(ptr: u64, len: u64) -> Result<&'static str, i64> {
    if len == 0 || len > PATH_MAX {
        return Err(EINVAL);
    }
    let bytes = usermem::read(ptr, len).ok_or(EFAULT)?;
    core::str::from_utf8(bytes).map_err(|_| EINVAL)
}

/// `open(path, len, flags)`.
pub fn open(pid: u64, ptr: u64, len: u64, flags: u64) -> i64 {
    if flags & !(O_WRITE | O_CREATE | O_TRUNCATE) != 0 {
        return EINVAL;
    }
    let name = match path(ptr, len) {
        Ok(name) => name,
        Err(e) => return e,
    };
    let writing = flags & O_WRITE != 0;
    match disk::open(name, flags & O_CREATE != 0, writing && flags & O_TRUNCATE != 0) {
        Ok(entry) => files::open(pid, entry.slot, writing).map_or(EMFILE, |fd| fd as i64),
        Err(e) => errno(e),
    }
}

/// `read(fd, buf, len)`.
pub fn read(pid: u64, fd: u64, ptr: u64, len: u64) -> i64 {
    let Some(file) = files::get(pid, fd) else { return EBADF };
    let len = len.min(IO_MAX);
    if !usermem::check(ptr, len, true) {
        return EFAULT;
    }
    let done = disk::with_volume(|v, dev| {
        let entry = v.entry_at(dev, file.slot)?;
        let mut buf = [0u8; SECTOR];
        let mut done = 0u64;
        while done < len {
            let want = (len - done).min(SECTOR as u64) as usize;
            let n = v.read_at(dev, &entry, file.offset + done, &mut buf[..want])?;
            if n == 0 {
                break;
            }
            // Checked above: user memory, writable, in this address space.
            usermem::write(ptr + done, &buf[..n]);
            done += n as u64;
        }
        Ok(done)
    });
    match done {
        Ok(n) => {
            files::set_offset(pid, fd, file.offset + n);
            n as i64
        }
        Err(e) => errno(e),
    }
}

/// `write_file(fd, buf, len)` for a file descriptor (3 and up).
pub fn write(pid: u64, fd: u64, ptr: u64, len: u64) -> i64 {
    let Some(file) = files::get(pid, fd).filter(|f| f.writable) else { return EBADF };
    let len = len.min(IO_MAX);
    let Some(bytes) = usermem::read(ptr, len) else { return EFAULT };
    let written = disk::with_volume(|v, dev| {
        let mut entry = v.entry_at(dev, file.slot)?;
        v.write_at(dev, &mut entry, file.offset, bytes)
    });
    match written {
        Ok(n) => {
            files::set_offset(pid, fd, file.offset + n as u64);
            n as i64
        }
        Err(e) => errno(e),
    }
}

/// `seek(fd, offset, whence)`: the new offset must lie in `[0, size]`.
pub fn seek(pid: u64, fd: u64, offset: i64, whence: u64) -> i64 {
    let Some(file) = files::get(pid, fd) else { return EBADF };
    let size = match disk::with_volume(|v, dev| v.entry_at(dev, file.slot)) {
        Ok(entry) => entry.size as i64,
        Err(e) => return errno(e),
    };
    let base = match whence {
        0 => 0,
        1 => file.offset as i64,
        2 => size,
        _ => return EINVAL,
    };
    match base.checked_add(offset) {
        Some(to) if (0..=size).contains(&to) => {
            files::set_offset(pid, fd, to as u64);
            to
        }
        _ => EINVAL,
    }
}

/// `close(fd)`.
pub fn close(pid: u64, fd: u64) -> i64 {
    if files::close(pid, fd) { 0 } else { EBADF }
}

/// `readdir(index, buf, len)`.
pub fn readdir(index: u64, ptr: u64, len: u64) -> i64 {
    if len < DIRENT_SIZE {
        return EINVAL;
    }
    if !usermem::check(ptr, DIRENT_SIZE, true) {
        return EFAULT;
    }
    let mut seen = 0;
    let mut record = None;
    if let Err(e) = disk::list(|e| {
        if seen == index {
            record = Some(*e);
        }
        seen += 1;
    }) {
        return errno(e);
    }
    let Some(entry) = record else { return 0 };
    let mut raw = [0u8; DIRENT_SIZE as usize];
    raw[0..8].copy_from_slice(&(entry.size as u64).to_le_bytes());
    raw[8] = entry.is_dir() as u8;
    let name = entry.name().as_bytes();
    raw[16..16 + name.len()].copy_from_slice(name);
    usermem::write(ptr, &raw);
    name.len() as i64
}

/// `remove(path, len)`.
pub fn remove(ptr: u64, len: u64) -> i64 {
    match path(ptr, len) {
        Ok(name) => disk::remove(name).map_or_else(errno, |_| 0),
        Err(e) => e,
    }
}
