//! `nullderef`: reads address 0 in ring 3; the kernel kills it with a page-fault report.
#![no_std]
#![no_main]
#![deny(clippy::undocumented_unsafe_blocks)]

fn main() -> i64 {
    rustos_user::write("nullderef: reading address 0\n");
    // SAFETY: deliberately faults; the kernel ends the process.
    let value = unsafe { core::ptr::read_volatile(core::ptr::null::<u64>()) };
    value as i64
}

rustos_user::entry!(main);
