//! User processes: ring-3 threads, each with its own address space.
//!
//! [`spawn`] builds a PML4 that shares the kernel's entries
//! (`paging::new_address_space`), loads a static ELF program into its user
//! half (`elf`), maps a user stack of [`USER_STACK_SIZE`] bytes below
//! [`USER_STACK_TOP`] with an unmapped guard page under it, and starts a
//! thread whose saved context enters the program in ring 3 (CS 0x23, SS 0x1b,
//! IF set) at the first switch to it. The process calls the kernel through
//! `int 0x80` (`syscall`); a fault ends it with a report (see
//! `interrupts::exceptions`). Its address space is freed when its slot is reused.
//!
//! Programs are ELF files in the disk's root directory ([`spawn_command`]
//! reads `/PROG`). Only when no disk answers at all does the kernel fall back
//! to the copies of hello, spin and nullderef built into it (`programs`): the
//! emulator boots without a disk unless given one, and the debugger's own
//! tests and sessions run those three there.
//!
//! The arguments (`PROG ARGS` minus `PROG `) are copied to the top of the
//! user stack; the program starts with their address in rdi and their length
//! in rsi, and RSP just below them.

pub mod elf;
pub mod files;
pub mod programs;
pub mod spawn;
pub mod syscall;
pub mod usermem;

pub use spawn::*;

/// Installs the system-call handler for `int 0x80`.
pub fn init() {
    crate::interrupts::hooks::install_syscall(syscall::dispatch);
}

