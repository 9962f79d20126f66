//! The shell: a line editor over the merged keyboard and serial input.
//!
//! [`start`] spawns the input tasks and the shell task and runs the executor
//! forever. The shell echoes what is typed, supports backspace and recalls the
//! previous line with arrow up, and runs each line with `commands::execute`.

pub mod commands;
mod files;
mod gfx;
mod procs;
mod wasm;

use crate::keyboard;
use alloc::string::String;
use rustos_core::keymap::Key;

/// The prompt printed before each line.
pub const PROMPT: &str = "rustos> ";

/// Spawns the input tasks and the shell, then runs the executor forever.
pub fn start() -> ! {
    crate::task::spawn("keyboard", keyboard::keyboard_task());
    crate::task::spawn("serial", keyboard::serial_task());
    crate::task::spawn("shell", shell_task());
    crate::task::run()
}

/// Task: reads lines and runs them.
pub async fn shell_task() {
    println!("RustOS shell: type `help` for the commands.");
    let mut line = String::new();
    let mut previous = String::new();
    print!("{}", PROMPT);
    loop {
        match keyboard::next_key().await {
            Key::Char('\n') => {
                println!();
                commands::execute(line.trim());
                if !line.trim().is_empty() {
                    previous = core::mem::take(&mut line);
                }
                line.clear();
                print!("{}", PROMPT);
            }
            Key::Char('\u{8}') => {
                if line.pop().is_some() {
                    print!("\u{8} \u{8}");
                }
            }
            Key::Char('\u{3}') => {
                println!("^C");
                line.clear();
                print!("{}", PROMPT);
            }
            Key::Up => {
                for _ in 0..line.len() {
                    print!("\u{8} \u{8}");
                }
                line = previous.clone();
                print!("{}", line);
            }
            Key::Char(c) if !c.is_control() => {
                line.push(c);
                print!("{}", c);
            }
            _ => {}
        }
    }
}
