//! Starting a process: a PML4 sharing the kernel's entries
//! (`paging::new_address_space`), the ELF program loaded into its user half
//! (`elf`), a user stack of [`USER_STACK_SIZE`] bytes below
//! [`USER_STACK_TOP`] over an unmapped guard page, the arguments on top of
//! it, and a thread whose saved context enters the program in ring 3. The
//! program file is `/PROG` on the disk ([`load_program`]), or a built-in copy
//! when no disk answers (`programs`).

use super::{elf, programs};
use crate::layout::{PAGE_SIZE, PHYS_OFFSET};
use crate::memory::{frames, paging};
use crate::thread::{self, SpawnError};
use x86_64::structures::paging::PageTableFlags as Flags;

/// Top of a process's stack (its initial RSP).
pub const USER_STACK_TOP: u64 = 0x0000_7fff_ffff_0000;
/// Bytes of a process's stack.
pub const USER_STACK_SIZE: u64 = 64 * 1024;
/// User code selector (GDT index 4, RPL 3).
pub const USER_CS: u64 = 0x23;
/// User data/stack selector (GDT index 3, RPL 3).
pub const USER_SS: u64 = 0x1b;
/// Most bytes of arguments a program gets.
pub const ARGS_MAX: usize = 256;
/// Largest program file `spawn_command` loads.
pub const PROGRAM_MAX: usize = 4 * 1024 * 1024;
pub use super::elf::TOO_BIG;

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

/// Copies `args` to the top of the (mapped) stack of `pml4`; returns their address.
fn place_args(pml4: u64, args: &[u8]) -> u64 {
    let at = USER_STACK_TOP - ARGS_MAX as u64;
    if let Some((phys, _)) = paging::translate_in(pml4, at) {
        // SAFETY: a frame of the new process's stack, through the physical
        // window; the ARGS_MAX bytes lie in the stack's last page.
        unsafe { core::ptr::copy_nonoverlapping(args.as_ptr(), (PHYS_OFFSET + phys) as *mut u8, args.len()) };
    }
    at
}

/// Starts program `image` as a ring-3 process called `name` with arguments
/// `args` (at most [`ARGS_MAX`] bytes); returns its pid.
pub fn spawn(name: &str, image: &[u8], args: &str) -> Result<u64, SpawnError> {
    if args.len() > ARGS_MAX {
        return Err(SpawnError::BadProgram("arguments too long"));
    }
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
        c.rdi = place_args(pml4, args.as_bytes());
        c.rsi = args.len() as u64;
        c.rsp = c.rdi;
        Ok(())
    })
}

/// The ELF file of program `name`: `/name` on the disk, or the built-in copy when there is no disk.
pub fn load_program(name: &str) -> Result<alloc::borrow::Cow<'static, [u8]>, SpawnError> {
    use rustos_core::fat32::Error;
    match crate::disk::read_all(name, PROGRAM_MAX) {
        Ok(Some(image)) => Ok(image.into()),
        Ok(None) => Err(SpawnError::BadProgram(TOO_BIG)),
        Err(Error::NotFound) | Err(Error::BadName) => Err(SpawnError::NoSuchProgram),
        Err(Error::IsDir) => Err(SpawnError::BadProgram("a directory, not a program")),
        Err(Error::NoDevice) => programs::find(name).map(|p| p.image.into()).ok_or(SpawnError::Disk(Error::NoDevice)),
        Err(e) => Err(SpawnError::Disk(e)),
    }
}

/// Starts `PROG [ARGS]` (the program from the disk); returns its pid.
pub fn spawn_command(command: &str) -> Result<u64, SpawnError> {
    let command = command.trim();
    let (name, args) = command.split_once(' ').map(|(n, a)| (n, a.trim())).unwrap_or((command, ""));
    if name.is_empty() {
        return Err(SpawnError::NoSuchProgram);
    }
    let image = load_program(name)?;
    spawn(name.trim_start_matches('/'), &image, args)
}

/// Starts program `name` with no arguments; returns its pid.
pub fn spawn_program(name: &str) -> Result<u64, SpawnError> {
    spawn_command(name)
}
