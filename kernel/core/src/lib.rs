//! RustOS's pure logic: data structures and decoders that touch no hardware.
//!
//! Everything here compiles for the host as well as for `x86_64-unknown-none`,
//! so it is tested with a plain `cargo test` on the development machine. The
//! kernel wraps these pieces with locks, interrupts and physical memory.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

extern crate alloc;

pub mod bitmap;
pub mod fat32;
pub mod blocks;
pub mod keymap;
pub mod ring;
pub mod parse;
pub mod tar;
pub mod wasm;
