//! `spin`: loops forever without a system call; only preemption takes the CPU back.
#![no_std]
#![no_main]
#![deny(clippy::undocumented_unsafe_blocks)]

fn main() -> i64 {
    let mut n: u64 = 0;
    loop {
        // SAFETY: a volatile write to a local keeps the loop from being optimised away.
        unsafe { core::ptr::write_volatile(&mut n, n.wrapping_add(1)) };
    }
}

rustos_user::entry!(main);
