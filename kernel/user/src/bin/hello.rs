//! `hello`: prints a greeting with its privilege level, read from CS, and its
//! pid; exits with 0 when that level is 3, else 1.
#![no_std]
#![no_main]
#![deny(clippy::undocumented_unsafe_blocks)]

use rustos_user::{fmt_u64, getpid, ring, write};

fn main() -> i64 {
    let mut buf = [0u8; 20];
    write("hello from user space, ring ");
    write(fmt_u64(ring(), &mut buf));
    write(", pid ");
    write(fmt_u64(getpid(), &mut buf));
    write("\n");
    if ring() == 3 { 0 } else { 1 }
}

rustos_user::entry!(main);
