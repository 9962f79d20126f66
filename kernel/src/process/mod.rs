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

pub mod elf;
pub mod programs;
pub mod syscall;
pub mod usermem;

use crate::layout::{PAGE_SIZE, PHYS_OFFSET};
use crate::memory::{frames, paging};
use crate::thread::{self, SpawnError};
use x86_64::structures::paging::PageTableFlags as Flags;

/// Installs the system-call handler for `int 0x80`.
pub fn init() {
    crate::interrupts::hooks::install_syscall(syscall::dispatch);
}

/// Top of a process's stack (its initial RSP).
pub const USER_STACK_TOP: u64 = 0x0000_7fff_ffff_0000;
/// Bytes of a process's stack.
pub const USER_STACK_SIZE: u64 = 64 * 1024;
/// User code selector (GDT index 4, RPL 3).
pub const USER_CS: u64 = 0x23;
/// User data/stack selector (GDT index 3, RPL 3).
pub const USER_SS: u64 = 0x1b;

fn map_stack(pml4: u64) -> Result<(), &'static str> {
    let mut page = USER_STACK_TOP - USER_STACK_SIZE;
    while page < USER_STACK_TOP {
        let frame = frames::allocate().ok_or("no memory for the user stack")?;
        // SAFETY: a fresh frame, through the physical window.
        unsafe { core::ptr::write_bytes((PHYS_OFFSET + frame) as *mut u8, 0, PAGE_SIZE as usize) };
        if paging::map_user(pml4, page, frame, Flags::WRITABLE | Flags::NO_EXECUTE).is_err() {
            frames::free(frame);
            return Err("no memory for the user stack");
        }
        page += PAGE_SIZE;
    }
    Ok(())
}

/// Starts program `image` as a ring-3 process called `name`; returns its pid.
pub fn spawn(name: &str, image: &[u8]) -> Result<u64, SpawnError> {
    thread::start(name, |t, _| {
        let pml4 = paging::new_address_space(t.cr3).ok_or(SpawnError::OutOfMemory)?;
        let entry = match elf::load(pml4, image).and_then(|entry| map_stack(pml4).map(|_| entry)) {
            Ok(entry) => entry,
            Err(why) => {
                paging::free_address_space(pml4);
                return Err(SpawnError::BadProgram(why));
            }
        };
        t.ring = 3;
        t.cr3 = pml4;
        let c = &mut t.context;
        c.rip = entry;
        c.cs = USER_CS;
        c.ss = USER_SS;
        c.rflags = 0x202;
        c.rsp = USER_STACK_TOP;
        Ok(())
    })
}

/// Starts the embedded program `name`; returns its pid.
pub fn spawn_program(name: &str) -> Result<u64, SpawnError> {
    let program = programs::find(name).ok_or(SpawnError::NoSuchProgram)?;
    spawn(name, program.image)
}
