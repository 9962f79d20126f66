//! The open-file table: which process holds which file descriptor, on which
//! file (the position of its directory entry on the disk, so the size is
//! always the disk's), at which offset, for reading or writing. Descriptors
//! 0-2 are the console's; files get 3 and up. Rows of processes that ended
//! without closing (killed, faulted) are taken back by the next `open`.

use crate::sync::IrqMutex;
use crate::thread;

/// Open files across all processes.
pub const MAX_OPEN: usize = 32;
/// The first descriptor `open` returns.
pub const FIRST_FD: u64 = 3;

/// One open file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFile {
    /// The process that opened it.
    pub pid: u64,
    /// Its descriptor in that process.
    pub fd: u64,
    /// Byte position of the file's directory entry on the disk.
    pub slot: u64,
    /// Where the next read or write starts.
    pub offset: u64,
    /// Opened for writing.
    pub writable: bool,
}

static FILES: IrqMutex<[Option<OpenFile>; MAX_OPEN]> = IrqMutex::new([None; MAX_OPEN]);

/// Records a new open file of `pid`; returns its descriptor, or `None` when the table is full.
pub fn open(pid: u64, slot: u64, writable: bool) -> Option<u64> {
    let mut files = FILES.lock();
    for row in files.iter_mut() {
        if row.is_some_and(|f| !thread::find(f.pid).is_some_and(|t| t.alive())) {
            *row = None;
        }
    }
    let fd = (FIRST_FD..).find(|fd| !files.iter().flatten().any(|f| f.pid == pid && f.fd == *fd))?;
    let row = files.iter_mut().find(|r| r.is_none())?;
    *row = Some(OpenFile { pid, fd, slot, offset: 0, writable });
    Some(fd)
}

/// The open file `fd` of `pid`.
pub fn get(pid: u64, fd: u64) -> Option<OpenFile> {
    FILES.lock().iter().flatten().find(|f| f.pid == pid && f.fd == fd).copied()
}

/// Moves the offset of `fd` of `pid`.
pub fn set_offset(pid: u64, fd: u64, offset: u64) {
    if let Some(f) = FILES.lock().iter_mut().flatten().find(|f| f.pid == pid && f.fd == fd) {
        f.offset = offset;
    }
}

/// Closes `fd` of `pid`; false when it was not open.
pub fn close(pid: u64, fd: u64) -> bool {
    let mut files = FILES.lock();
    match files.iter_mut().find(|r| r.is_some_and(|f| f.pid == pid && f.fd == fd)) {
        Some(row) => {
            *row = None;
            true
        }
        None => false,
    }
}

/// Closes every file of `pid`.
pub fn close_all(pid: u64) {
    for row in FILES.lock().iter_mut() {
        if row.is_some_and(|f| f.pid == pid) {
            *row = None;
        }
    }
}

/// How many files are open (all processes).
pub fn count() -> usize {
    FILES.lock().iter().flatten().count()
}
