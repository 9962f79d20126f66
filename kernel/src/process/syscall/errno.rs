//! The system calls' error codes (negative results in rax) and their limits.

/// Error: not permitted (e.g. the boot thread calling exit).
pub const EPERM: i64 = -1;
/// Error: no such file or program.
pub const ENOENT: i64 = -2;
/// Error: the disk failed, or its FAT is corrupt.
pub const EIO: i64 = -5;
/// Error: the program file is not a loadable ELF.
pub const ENOEXEC: i64 = -8;
/// Error: not an open file descriptor (or not open for that).
pub const EBADF: i64 = -9;
/// Error: the thread table is full.
pub const EAGAIN: i64 = -11;
/// Error: no memory (or the program is too big for it).
pub const ENOMEM: i64 = -12;
/// Error: a bad address.
pub const EFAULT: i64 = -14;
/// Error: no disk.
pub const ENODEV: i64 = -19;
/// Error: a directory.
pub const EISDIR: i64 = -21;
/// Error: a bad argument (or a name with no 8.3 form).
pub const EINVAL: i64 = -22;
/// Error: too many open files.
pub const EMFILE: i64 = -24;
/// Error: the disk is full.
pub const ENOSPC: i64 = -28;
/// Error: no such system call.
pub const ENOSYS: i64 = -38;

/// Most bytes one `write`, `read` or `write_file` moves.
pub const IO_MAX: u64 = 4096;
