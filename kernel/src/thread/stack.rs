//! The threads' kernel stacks: slot `i` owns `THREAD_STACK_SLOT` bytes of
//! virtual space at `THREAD_STACKS + i * THREAD_STACK_SLOT`, whose first page
//! is a guard page that is never mapped; the [`STACK_SIZE`] bytes above it are
//! mapped when the slot is first used and kept for the next thread of the slot.

use crate::layout::{PAGE_SIZE, THREAD_STACKS, THREAD_STACK_SLOT};
use crate::memory::{frames, paging};
use x86_64::structures::paging::PageTableFlags as Flags;

/// Usable bytes of a thread's kernel stack.
pub const STACK_SIZE: u64 = 32 * 1024;

/// Address of slot `slot`'s guard page.
pub fn guard(slot: usize) -> u64 {
    THREAD_STACKS + slot as u64 * THREAD_STACK_SLOT
}

/// The top (initial stack pointer) of slot `slot`'s stack.
pub fn top(slot: usize) -> u64 {
    guard(slot) + PAGE_SIZE + STACK_SIZE
}

/// Maps slot `slot`'s stack pages if they are not mapped yet; returns its top,
/// or `None` when memory ran out.
pub fn prepare(slot: usize) -> Option<u64> {
    let mut page = guard(slot) + PAGE_SIZE;
    while page < top(slot) {
        if paging::translate(page).is_none() {
            let frame = frames::allocate()?;
            let flags = Flags::PRESENT | Flags::WRITABLE | Flags::NO_EXECUTE | Flags::GLOBAL;
            if paging::map(page, frame, flags).is_err() {
                frames::free(frame);
                return None;
            }
        }
        page += PAGE_SIZE;
    }
    Some(top(slot))
}
