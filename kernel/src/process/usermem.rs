//! Checked access to user memory for the system calls: a range is usable only
//! when it lies in the user half and every page of it is mapped user
//! accessible (and writable, for a write) in the running address space, so a
//! bad pointer fails the call instead of faulting the kernel.

use super::elf::USER_END;
use crate::layout::PAGE_SIZE;
use crate::memory::paging;
use x86_64::structures::paging::PageTableFlags as Flags;

/// Whether `[ptr, ptr + len)` is user memory the caller may read (or write, with `write`).
pub fn check(ptr: u64, len: u64, write: bool) -> bool {
    let Some(end) = ptr.checked_add(len) else { return false };
    if end > USER_END || ptr == 0 {
        return false;
    }
    let mut need = Flags::PRESENT | Flags::USER_ACCESSIBLE;
    if write {
        need |= Flags::WRITABLE;
    }
    let mut page = ptr & !(PAGE_SIZE - 1);
    while page < end {
        match paging::translate(page) {
            Some((_, flags)) if flags.contains(need) => {}
            _ => return false,
        }
        page += PAGE_SIZE;
    }
    true
}

/// The user bytes `[ptr, ptr + len)`, after [`check`].
pub fn read(ptr: u64, len: u64) -> Option<&'static [u8]> {
    if !check(ptr, len, false) {
        return None;
    }
    // SAFETY: checked just now: mapped, user readable, in the running address
    // space, which does not change while the system call runs (interrupts off).
    Some(unsafe { core::slice::from_raw_parts(ptr as *const u8, len as usize) })
}

/// Copies `bytes` to user memory at `ptr`; false (nothing copied) unless
/// the range passes [`check`] for writing.
pub fn write(ptr: u64, bytes: &[u8]) -> bool {
    if !check(ptr, bytes.len() as u64, true) {
        return false;
    }
    // SAFETY: checked just now: mapped, user writable, in the running address
    // space, which does not change while the system call runs (interrupts off).
    unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr as *mut u8, bytes.len()) };
    true
}
