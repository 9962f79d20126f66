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

/// One row of `RUSTOS_SYSCALLS` (`#[repr(C)]`: the debugger reads it through DWARF).
#[repr(C)]
pub struct SyscallInfo {
    /// The number in rax.
    pub number: u64,
    /// The name, NUL-padded ASCII.
    pub name: [u8; 16],
    /// The arguments (rdi, rsi, rdx), NUL-padded ASCII, e.g. `fd, buf, len`.
    pub args: [u8; 32],
}

const fn padded<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [0u8; N];
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() && i < N {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

/// Every system call: number, name, arguments (the debugger's `syscalls` and
/// `catch syscall` read them here, so they are written down once).
#[no_mangle]
#[used]
pub static RUSTOS_SYSCALLS: [SyscallInfo; 6] = [
    SyscallInfo { number: SYS_EXIT, name: padded("exit"), args: padded("code") },
    SyscallInfo { number: SYS_WRITE, name: padded("write"), args: padded("fd, buf, len") },
    SyscallInfo { number: SYS_YIELD, name: padded("yield"), args: padded("") },
    SyscallInfo { number: SYS_SLEEP, name: padded("sleep"), args: padded("ms") },
    SyscallInfo { number: SYS_UPTIME, name: padded("uptime"), args: padded("") },
    SyscallInfo { number: SYS_GETPID, name: padded("getpid"), args: padded("") },
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
