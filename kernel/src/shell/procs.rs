//! The shell's process and file commands: `run`, `spawn`, `ps`, `kill`, `ls`, `cat`.

use crate::process::{self, programs};
use crate::thread::{self, table::ThreadState};
use rustos_core::parse::parse_dec;

/// Exit code of a thread ended by `kill`.
pub const KILLED: i64 = -9;

fn start(args: &str, usage: &str) -> Option<u64> {
    let name = args.split_whitespace().next();
    let Some(name) = name else {
        println!("error: usage: {} PROG (programs: {})", usage, program_names());
        return None;
    };
    match process::spawn_program(name) {
        Ok(pid) => Some(pid),
        Err(thread::SpawnError::NoSuchProgram) => {
            println!("error: no program '{}' (programs: {})", name, program_names());
            None
        }
        Err(e) => {
            println!("error: cannot start '{}': {}", name, e);
            None
        }
    }
}

fn program_names() -> alloc::string::String {
    let names: alloc::vec::Vec<&str> = programs::PROGRAMS.iter().map(|p| p.name).collect();
    names.join(", ")
}

/// `run PROG`: starts the program and waits for it to end (the shell's
/// tasks wait too; use `spawn` for a program that does not end).
pub fn run(args: &str) {
    let Some(pid) = start(args, "run") else { return };
    match thread::join(pid) {
        Some(code) => println!("[{}] exited with {}", pid, code),
        None => println!("[{}] gone", pid),
    }
}

/// `spawn PROG`: starts the program and returns to the prompt.
pub fn spawn(args: &str) {
    if let Some(pid) = start(args, "spawn") {
        println!("[{}] started", pid);
    }
}

/// `ps`: a header, then one row per thread or process: pid, name, state, ring, ticks.
pub fn ps(_: &str) {
    let (threads, current) = thread::snapshot();
    println!("{:>5} {:<16} {:<9} {:>4} {:>8}", "PID", "NAME", "STATE", "RING", "TICKS");
    for (i, t) in threads.iter().enumerate().filter(|(_, t)| t.alive()) {
        let state = if i == current { "running" } else { ThreadState::name(t.state) };
        println!("{:>5} {:<16} {:<9} {:>4} {:>8}", t.tid, t.name(), state, t.ring, t.ticks);
    }
}

/// `kill PID`: ends a thread or process (not the kernel's boot thread).
pub fn kill(args: &str) {
    let Some(pid) = parse_dec(args.trim()) else {
        println!("error: usage: kill PID");
        return;
    };
    if thread::kill(pid, KILLED) {
        println!("[{}] killed", pid);
    } else {
        println!("error: no process {} that can be killed", pid);
    }
}

/// `ls`: the disk's root directory, one entry a line (size, name, `/` for a directory).
pub fn ls(_: &str) {
    let listed = crate::disk::list(|e| {
        let slash = if e.is_dir() { "/" } else { "" };
        println!("{:>10} {}{}", e.size, e.name(), slash);
    });
    if let Err(e) = listed {
        println!("error: ls: {}", crate::disk::describe(e));
    }
}

/// `cat FILE`: prints a text file from the disk (`note.txt` is `/note.txt`).
pub fn cat(args: &str) {
    let Some(path) = args.split_whitespace().next() else {
        println!("error: usage: cat FILE");
        return;
    };
    let mut ends_in_newline = true;
    let read = crate::disk::read(path, |bytes| {
        for &b in bytes {
            print!("{}", if b == b'\n' || (0x20..0x7F).contains(&b) { b as char } else { '.' });
        }
        ends_in_newline = bytes.last() == Some(&b'\n');
    });
    match read {
        Ok(()) if !ends_in_newline => println!(),
        Ok(()) => {}
        Err(e) => println!("error: cat: {}: {}", path, crate::disk::describe(e)),
    }
}
