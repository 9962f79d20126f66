//! The `int 0x80` system calls (gate DPL 3): number in rax, arguments in rdi,
//! rsi, rdx, result in rax (negative = an error below). Each call runs to
//! completion in trap context with interrupts off; a call that blocks (yield,
//! sleep) or ends the process (exit) switches threads through the scheduler,
//! so a process never has kernel state to save. Every user pointer is checked
//! (`usermem`) before use: a bad one fails the call with [`EFAULT`]. The
//! numbers are in `table`; docs/kernel-structures.md lists them.

pub mod errno;
mod fs;
pub mod table;

use crate::process::usermem;
use crate::interrupts::frame::TrapFrame;
use crate::thread::{self, sched, SpawnError};
use crate::time;
pub use table::Sys;

pub use errno::*;

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
    if len > crate::process::spawn::ARGS_MAX as u64 + 16 {
        return EINVAL;
    }
    let Some(bytes) = usermem::read(ptr, len) else { return EFAULT };
    let Ok(command) = core::str::from_utf8(bytes) else { return EINVAL };
    match crate::process::spawn::spawn_command(command) {
        Ok(pid) => pid as i64,
        Err(SpawnError::NoSuchProgram) => ENOENT,
        Err(SpawnError::BadProgram(crate::process::spawn::TOO_BIG)) | Err(SpawnError::OutOfMemory) => ENOMEM,
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
                crate::process::files::close_all(pid);
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
