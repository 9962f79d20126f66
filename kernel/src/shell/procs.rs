//! The shell's process commands: `run`, `spawn`, `ps`, `kill`.

use crate::process;
use crate::thread::{self, table::ThreadState};
use rustos_core::parse::parse_dec;

/// Exit code of a thread ended by `kill`.
pub const KILLED: i64 = -9;

fn start(args: &str, usage: &str) -> Option<u64> {
    let Some(name) = args.split_whitespace().next() else {
        println!("error: usage: {} PROG [ARGS] (`ls` lists the programs on the disk)", usage);
        return None;
    };
    match process::spawn_command(args) {
        Ok(pid) => Some(pid),
        Err(thread::SpawnError::NoSuchProgram) => {
            println!("error: {}: no program '{}' on the disk", usage, name);
            None
        }
        Err(e) => {
            println!("error: {}: cannot start '{}': {}", usage, name, e);
            None
        }
    }
}

/// `run PROG [ARGS]`: starts `/PROG` from the disk and waits for it to end (the shell's
/// tasks wait too; use `spawn` for a program that does not end).
pub fn run(args: &str) {
    let Some(pid) = start(args, "run") else { return };
    match thread::join(pid) {
        Some(code) => println!("[{}] exited with {}", pid, code),
        None => println!("[{}] gone", pid),
    }
}

/// `spawn PROG [ARGS]`: starts `/PROG` from the disk and returns to the prompt.
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
