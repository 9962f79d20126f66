//! The shell's `wasm [--fuel N] PATH [ARGS]`: runs a WASM program from the
//! ramdisk, then says how it ended in one line when it did not return 0.

use crate::{ramdisk, wasm};
use alloc::vec::Vec;
use rustos_core::parse::parse_dec;

/// `wasm [--fuel N] PATH [ARGS]`.
pub fn run(args: &str) {
    let mut words: Vec<&str> = args.split_whitespace().collect();
    let mut fuel = wasm::DEFAULT_FUEL;
    if words.first() == Some(&"--fuel") {
        match words.get(1).and_then(|n| parse_dec(n)).filter(|&n| n > 0) {
            Some(n) => fuel = n,
            None => return println!("error: wasm: --fuel needs a positive number of instructions"),
        }
        words.drain(..2);
    }
    let Some((&path, rest)) = words.split_first() else {
        return println!("error: usage: wasm [--fuel N] PATH [ARGS]");
    };
    let bytes = match ramdisk::read(path) {
        Ok(bytes) => bytes,
        Err(e) => return println!("error: wasm: {}: {}", path, e),
    };
    match wasm::run(path, bytes, rest, fuel) {
        Ok(0) => {}
        Ok(code) => println!("{}: exited with {}", path, code),
        Err(trap) => println!("error: wasm: {}: {}", path, trap),
    }
}
