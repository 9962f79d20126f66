//! The host functions a WASM program imports from module `rustos`.
//!
//! | name | type | what it does |
//! |---|---|---|
//! | `print` | (ptr i32, len i32) | writes memory[ptr..ptr+len] as text to the console |
//! | `print_int` | (i64) | writes a signed decimal |
//! | `uptime_ms` | () -> i64 | milliseconds since boot |
//! | `key` | () -> i32 | the next key without waiting: its character code, 0x101-0x104 for the arrows up, down, left, right, -1 when none |
//! | `sleep_ms` | (i32) | waits (halting between timer ticks) |
//! | `argc` | () -> i32 | number of arguments (the path is not one) |
//! | `arg` | (i i32, ptr i32, cap i32) -> i32 | copies argument i to memory[ptr..], at most cap bytes; its full length, or -1 |
//! | `fb_width`, `fb_height` | () -> i32 | the framebuffer's size in pixels, switching graphics on; 0 without one |
//! | `fill_rect` | (x, y, w, h, rgb i32) | a filled rectangle (clipped), colour 0xRRGGBB |
//! | `clear` | (rgb i32) | fills the screen |
//!
//! A pointer outside the program's memory is a trap (`Trap::Host`).

use crate::{keyboard, time};
use alloc::vec::Vec;
use rustos_core::keymap::Key;
use rustos_core::wasm::{FuncType, Host, Trap, ValType};
use ValType::{I32, I64};

/// (name, parameters, results) of each host function, by index.
const FUNCTIONS: &[(&str, &[ValType], &[ValType])] = &[
    ("print", &[I32, I32], &[]),
    ("print_int", &[I64], &[]),
    ("uptime_ms", &[], &[I64]),
    ("key", &[], &[I32]),
    ("sleep_ms", &[I32], &[]),
    ("argc", &[], &[I32]),
    ("arg", &[I32, I32, I32], &[I32]),
    ("fb_width", &[], &[I32]),
    ("fb_height", &[], &[I32]),
    ("fill_rect", &[I32, I32, I32, I32, I32], &[]),
    ("clear", &[I32], &[]),
];

/// The kernel as a WASM host: the program's arguments, and whether its output ended a line.
pub struct Kernel<'a> {
    args: Vec<&'a str>,
    line_open: bool,
}

impl<'a> Kernel<'a> {
    pub fn new(args: &[&'a str]) -> Self {
        Kernel { args: args.to_vec(), line_open: false }
    }

    /// Ends the program's last line if it left one open (so the shell's next line starts clean).
    pub fn finish(&mut self) {
        if self.line_open {
            println!();
        }
    }
}

fn slice(memory: &mut [u8], ptr: u64, len: u64) -> Result<&mut [u8], Trap> {
    let (ptr, len) = (ptr as u32 as usize, len as u32 as usize);
    memory.get_mut(ptr..ptr.saturating_add(len)).ok_or(Trap::Host("pointer outside the program's memory"))
}

impl Host for Kernel<'_> {
    fn resolve(&mut self, module: &str, name: &str, ty: &FuncType) -> Option<usize> {
        if module != "rustos" {
            return None;
        }
        FUNCTIONS.iter().position(|(n, params, results)| *n == name && ty.params == *params && ty.results == *results)
    }

    fn call(&mut self, index: usize, args: &[u64], memory: &mut [u8]) -> Result<Option<u64>, Trap> {
        let arg = |i: usize| args[i] as u32 as i32;
        Ok(match FUNCTIONS[index].0 {
            "print" => {
                let bytes = slice(memory, args[0], args[1])?;
                for &b in bytes.iter() {
                    print!("{}", if b == b'\n' || (0x20..0x7F).contains(&b) { b as char } else { '.' });
                }
                if let Some(&last) = bytes.last() {
                    self.line_open = last != b'\n';
                }
                None
            }
            "print_int" => {
                print!("{}", args[0] as i64);
                self.line_open = true;
                None
            }
            "uptime_ms" => Some(time::uptime_ms()),
            "key" => Some(match keyboard::poll_key() {
                Some(Key::Char(c)) => c as u32,
                Some(Key::Up) => 0x101,
                Some(Key::Down) => 0x102,
                Some(Key::Left) => 0x103,
                Some(Key::Right) => 0x104,
                None => u32::MAX,
            } as u64),
            "sleep_ms" => {
                let until = time::uptime_ms() + arg(0).max(0) as u64;
                while time::uptime_ms() < until {
                    x86_64::instructions::hlt();
                }
                None
            }
            "argc" => Some(self.args.len() as u64),
            "arg" => {
                let Some(text) = self.args.get(arg(0) as u32 as usize) else { return Ok(Some(u32::MAX as u64)) };
                let cap = (arg(2).max(0) as usize).min(text.len());
                slice(memory, args[1], cap as u64)?.copy_from_slice(&text.as_bytes()[..cap]);
                Some(text.len() as u64)
            }
            "fb_width" => Some(super::draw::width() as u64),
            "fb_height" => Some(super::draw::height() as u64),
            "fill_rect" => {
                super::draw::fill_rect(arg(0), arg(1), arg(2), arg(3), arg(4) as u32);
                None
            }
            _ => {
                super::draw::clear(arg(0) as u32);
                None
            }
        })
    }
}
