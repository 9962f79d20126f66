//! The `int 0x80` system calls (gate DPL 3): number in rax, arguments in rdi,
//! rsi, rdx, result in rax (negative = an error below). Each call runs to
//! completion in trap context with interrupts off; a call that blocks (yield,
//! sleep) or ends the process (exit) switches threads through the scheduler,
//! so a process never has kernel state to save. Every user pointer is checked
//! (`usermem`) before use: a bad one fails the call with [`EFAULT`]. The
//! numbers are in `table`; docs/kernel-structures.md lists them.

mod fs;
pub mod table;

use super::usermem;
use crate::interrupts::frame::TrapFrame;
use crate::thread::{self, sched, SpawnError};
use crate::time;
pub use table::Sys;

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

fn sys_write(fd: u64, ptr: u64, len: u64) -> i64 {
    if fd != 1 && fd != 2 {
        return EBADF;
    }
    let len = len.min(IO_MAX);
    let Some(bytes) = usermem::read(ptr, len) else { return EFAULT };
    match core::str::from_utf8(bytes) {
        Ok(text) => print!("{}", text),
        Err(_) => return EINVAL,
    }
    len as i64
}

fn sys_spawn(ptr: u64, len: u64) -> i64 {
    if len > super::ARGS_MAX as u64 + 16 {
        return EINVAL;
    }
    let Some(bytes) = usermem::read(ptr, len) else { return EFAULT };
    let Ok(command) = core::str::from_utf8(bytes) else { return EINVAL };
    match super::spawn_command(command) {
        Ok(pid) => pid as i64,
        Err(SpawnError::NoSuchProgram) => ENOENT,
        Err(SpawnError::BadProgram(super::TOO_BIG)) | Err(SpawnError::OutOfMemory) => ENOMEM,
        Err(SpawnError::BadProgram(_)) => ENOEXEC,
        Err(SpawnError::TableFull) => EAGAIN,
        Err(SpawnError::Disk(e)) => fs::errno(e),
    }
}

/// Runs the system call in `frame` (the `int 0x80` hook, installed by `process::init`).
pub fn dispatch(frame: &mut TrapFrame) {
    let (a, b, c) = (frame.rdi, frame.rsi, frame.rdx);
    let now = time::ticks();
    let Some(call) = Sys::from_number(frame.rax) else {
        frame.rax = ENOSYS as u64;
        return;
    };
    let pid = thread::current_tid();
    let result = match call {
        Sys::Exit => {
            if sched::end_current(frame, a as i64, now) {
                super::files::close_all(pid);
                return;
            }
            EPERM
        }
        Sys::Write => sys_write(a, b, c),
        Sys::Yield => {
            frame.rax = 0;
            return sched::on_yield(frame, now);
        }
        Sys::Sleep => {
            frame.rax = 0;
            let deadline = now.saturating_add(a.saturating_mul(time::HZ) / 1000);
            return sched::sleep_current(frame, deadline, now);
        }
        Sys::Uptime => time::uptime_ms() as i64,
        Sys::Getpid => pid as i64,
        Sys::Open => fs::open(pid, a, b, c),
        Sys::Read => fs::read(pid, a, b, c),
        Sys::WriteFile if a == 1 || a == 2 => sys_write(a, b, c),
        Sys::WriteFile => fs::write(pid, a, b, c),
        Sys::Seek => fs::seek(pid, a, b as i64, c),
        Sys::Close => fs::close(pid, a),
        Sys::Readdir => fs::readdir(a, b, c),
        Sys::Remove => fs::remove(a, b),
        Sys::Spawn => sys_spawn(a, b),
    };
    frame.rax = result as u64;
}
