//! The `int 0x80` system calls (gate DPL 3): number in rax, arguments in rdi,
//! rsi, rdx, result in rax (negative = error). Each call runs to completion
//! in trap context with interrupts off; a call that blocks (yield, sleep)
//! or ends the process (exit) switches threads through the scheduler, so a
//! process never has kernel state to save. Table: docs/kernel-structures.md.

use super::usermem;
use crate::interrupts::frame::TrapFrame;
use crate::thread::{self, sched};
use crate::time;

/// `exit(code)`.
pub const SYS_EXIT: u64 = 0;
/// `write(fd, ptr, len)`: to the console (fd 1 or 2); returns the bytes written.
pub const SYS_WRITE: u64 = 1;
/// `yield()`.
pub const SYS_YIELD: u64 = 2;
/// `sleep(ms)`.
pub const SYS_SLEEP: u64 = 3;
/// `uptime()`: milliseconds since boot.
pub const SYS_UPTIME: u64 = 4;
/// `getpid()`.
pub const SYS_GETPID: u64 = 5;

/// Error: a bad address.
pub const EFAULT: i64 = -14;
/// Error: a bad argument.
pub const EINVAL: i64 = -22;
/// Error: not permitted (e.g. the boot thread calling exit).
pub const EPERM: i64 = -1;
/// Error: no such system call.
pub const ENOSYS: i64 = -38;

/// One system call as the debugger decodes it (`syscalls`, `catch syscall`).
pub struct SyscallInfo {
    /// Its name.
    pub name: &'static str,
    /// Its arguments (rdi, rsi, rdx), comma separated: `int`, `fd`, `ms`, `len`,
    /// `buf` (a user pointer; its length is the next argument), `ptr`.
    pub args: &'static str,
}

/// The system calls by number: the debugger reads their names and arguments
/// here (through DWARF), so they are written down once.
#[no_mangle]
#[used]
pub static RUSTOS_SYSCALLS: [SyscallInfo; 6] = [
    SyscallInfo { name: "exit", args: "int" },
    SyscallInfo { name: "write", args: "fd,buf,len" },
    SyscallInfo { name: "yield", args: "" },
    SyscallInfo { name: "sleep", args: "ms" },
    SyscallInfo { name: "uptime", args: "" },
    SyscallInfo { name: "getpid", args: "" },
];

/// Most bytes one `write` takes.
pub const WRITE_MAX: u64 = 4096;

fn sys_write(fd: u64, ptr: u64, len: u64) -> i64 {
    if fd != 1 && fd != 2 {
        return EINVAL;
    }
    let len = len.min(WRITE_MAX);
    let Some(bytes) = usermem::read(ptr, len) else { return EFAULT };
    match core::str::from_utf8(bytes) {
        Ok(text) => print!("{}", text),
        Err(_) => return EINVAL,
    }
    len as i64
}

/// Runs the system call in `frame` (the `int 0x80` hook, installed by `process::init`).
pub fn dispatch(frame: &mut TrapFrame) {
    let (number, a, b, c) = (frame.rax, frame.rdi, frame.rsi, frame.rdx);
    let now = time::ticks();
    frame.rax = match number {
        SYS_EXIT => {
            if sched::end_current(frame, a as i64, now) {
                return;
            }
            EPERM as u64
        }
        SYS_WRITE => sys_write(a, b, c) as u64,
        SYS_YIELD => {
            frame.rax = 0;
            return sched::on_yield(frame, now);
        }
        SYS_SLEEP => {
            frame.rax = 0;
            let deadline = now.saturating_add(a.saturating_mul(time::HZ) / 1000);
            return sched::sleep_current(frame, deadline, now);
        }
        SYS_UPTIME => time::uptime_ms(),
        SYS_GETPID => thread::current_tid(),
        _ => ENOSYS as u64,
    };
}
