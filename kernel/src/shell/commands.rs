//! The shell's commands: one function each, listed in [`COMMANDS`].

use super::{files, gfx, procs, wasm};
use crate::{fault, recovery};
use crate::memory::{frames, paging};
use crate::task::executor::{TaskState, QUEUE_CAPACITY};
use crate::{bootinfo, heap, time, vga};
use rustos_core::blocks::BLOCK_SIZES;
use rustos_core::parse::{parse_dec, parse_hex};

/// A shell command: name, argument synopsis, one-line help, and its function.
pub struct Command {
    pub name: &'static str,
    pub args: &'static str,
    pub help: &'static str,
    pub run: fn(&str),
}

/// Every command, in the order `help` lists them.
pub const COMMANDS: &[Command] = &[
    Command { name: "help", args: "[NAME]", help: "list the commands, or say what one does", run: help },
    Command { name: "echo", args: "TEXT", help: "print TEXT", run: echo },
    Command { name: "clear", args: "", help: "clear the screen", run: clear },
    Command { name: "info", args: "", help: "memory map, heap, uptime and tasks", run: info },
    Command { name: "color", args: "FG [BG]", help: "set the screen colours (0-15)", run: color },
    Command { name: "page", args: "HEXADDR", help: "page-table walk of an address", run: page },
    Command { name: "heap", args: "", help: "heap statistics and free lists", run: heap_cmd },
    Command { name: "tasks", args: "", help: "executor tasks and the ready queue", run: tasks },
    Command { name: "uptime", args: "", help: "time since boot", run: uptime },
    Command { name: "reboot", args: "", help: "reset the machine", run: reboot },
    Command { name: "halt", args: "", help: "stop the CPU", run: halt },
    Command { name: "panic", args: "[TEXT]", help: "panic the kernel", run: panic_cmd },
    Command { name: "run", args: "PROG [ARGS]", help: "run /PROG from the disk, wait for it", run: procs::run },
    Command { name: "spawn", args: "PROG [ARGS]", help: "start /PROG in the background", run: procs::spawn },
    Command { name: "ps", args: "", help: "threads and processes", run: procs::ps },
    Command { name: "kill", args: "PID", help: "end a thread or process", run: procs::kill },
    Command { name: "ls", args: "[DIR]", help: "list the disk's root directory /", run: files::ls },
    Command { name: "cat", args: "FILE", help: "print a file from the disk", run: files::cat },
    Command { name: "write", args: "FILE TEXT", help: "write TEXT and a newline to FILE", run: files::write },
    Command { name: "rm", args: "FILE", help: "delete a file from the disk", run: files::rm },
    Command { name: "draw", args: "rect|line|circle|clear ...", help: "draw on the framebuffer, switching to it: rect X Y W H, line X1 Y1 X2 Y2, circle CX CY R (filled), clear; COLOR a name or 0xRRGGBB", run: gfx::draw },
    Command { name: "fb", args: "[on|off]", help: "framebuffer state; back to text with off", run: gfx::fb_cmd },
    Command { name: "wasm", args: "[--fuel N] PATH [ARGS]", help: "run a WASM program (/ram/NAME)", run: wasm::run },
    Command { name: "fault", args: "bp|pf [ADDR]|gp|ud|de|df|triple|uaf|deadlock|irqlock|overrun|noeoi|lostwake", help: "raise an exception, or plant a bug, for debugging", run: fault_cmd },
];

/// Runs one line.
pub fn execute(line: &str) {
    if line.is_empty() {
        return;
    }
    let (name, args) = line.split_once(' ').map(|(n, a)| (n, a.trim())).unwrap_or((line, ""));
    match COMMANDS.iter().find(|c| c.name == name) {
        Some(command) => (command.run)(args),
        None => println!("error: unknown command '{}' (type `help`)", name),
    }
}

/// `help`: the commands with their arguments, two to a line where they fit (a screen
/// holds them all); `help NAME`: what one does.
fn help(args: &str) {
    if !args.is_empty() {
        match COMMANDS.iter().find(|c| c.name == args) {
            Some(c) => println!("  {} {}\n    {}", c.name, c.args, c.help),
            None => println!("error: help: unknown command '{}' (type `help`)", args),
        }
        return;
    }
    println!("commands: (`help NAME` says what one does)");
    let mut left: Option<alloc::string::String> = None;
    for c in COMMANDS {
        let cell = alloc::format!("{} {}", c.name, c.args);
        let cell = cell.trim_end();
        if cell.len() > 36 {
            if let Some(l) = left.take() {
                println!("  {}", l);
            }
            println!("  {}", cell);
        } else if let Some(l) = left.take() {
            println!("  {:<38}{}", l, cell);
        } else {
            left = Some(alloc::string::String::from(cell));
        }
    }
    if let Some(l) = left {
        println!("  {}", l);
    }
}

fn echo(args: &str) {
    println!("{}", args);
}

fn clear(_: &str) {
    x86_64::instructions::interrupts::without_interrupts(|| vga::WRITER.lock().clear());
}

fn info(_: &str) {
    println!("memory map:");
    for r in bootinfo::regions() {
        println!("  {:#012x}-{:#012x} {:>8} KiB {}", r.start, r.start + r.size, r.size / 1024, bootinfo::kind_name(r.kind));
    }
    let (free, usable) = frames::counts();
    println!("frames: {} free of {} usable ({} KiB free)", free, usable, free * 4);
    heap_cmd("");
    uptime("");
    tasks("");
}

fn color(args: &str) {
    let mut words = args.split_whitespace();
    let fg = words.next().and_then(parse_dec).and_then(|n| vga::Color::from_index(n as u8));
    let bg = match words.next() {
        Some(w) => parse_dec(w).and_then(|n| vga::Color::from_index(n as u8)),
        None => Some(vga::Color::Black),
    };
    match (fg, bg) {
        (Some(fg), Some(bg)) => x86_64::instructions::interrupts::without_interrupts(|| vga::WRITER.lock().set_color(fg, bg)),
        _ => println!("error: usage: color FG [BG], colours 0-15"),
    }
}

fn page(args: &str) {
    let Some(addr) = parse_hex(args) else {
        println!("error: usage: page HEXADDR");
        return;
    };
    if x86_64::VirtAddr::try_new(addr).is_err() {
        println!("error: {:#x} is not canonical", addr);
        return;
    }
    println!(
        "page {:#x}: pml4 {} pdpt {} pd {} pt {} offset {:#x}",
        addr, (addr >> 39) & 0x1FF, (addr >> 30) & 0x1FF, (addr >> 21) & 0x1FF, (addr >> 12) & 0x1FF, addr & 0xFFF
    );
    let (steps, n) = paging::walk(addr);
    for step in &steps[..n] {
        let name = ["", "PTE", "PDE", "PDPTE", "PML4E"][step.level as usize];
        println!("  {:<5} [{:>3}] at {:#x} = {:#018x}", name, step.index, step.entry_addr, step.entry);
    }
    match paging::translate(addr) {
        Some((phys, flags)) => println!("  -> phys {:#x} flags {:?}", phys, flags),
        None => println!("  -> not mapped"),
    }
}

fn heap_cmd(_: &str) {
    let (start, size, stats, list_free, fallback_free) = heap::snapshot();
    println!("heap: {:#x} size {} bytes, in use {} bytes, peak {} bytes", start, size, stats.bytes_in_use, stats.peak_bytes);
    println!("  allocs {} frees {} large {} grows {} failures {}", stats.allocs, stats.frees, stats.large_allocs, stats.grows, stats.failures);
    println!("  free in lists {} bytes, free in fallback {} bytes", list_free, fallback_free);
    let counts = heap::class_counts();
    for (size, count) in BLOCK_SIZES.iter().zip(counts.iter()) {
        if *count > 0 {
            println!("  list {:>4}: {} free", size, count);
        }
    }
}

fn tasks(_: &str) {
    let mut ready = [0u64; QUEUE_CAPACITY];
    let (table, n) = crate::task::executor::snapshot(&mut ready);
    println!("tasks:");
    for t in table.iter().filter(|t| t.state != TaskState::Free as u32) {
        let state = ["free", "ready", "running", "waiting"].get(t.state as usize).copied().unwrap_or("?");
        println!("  {:>3} {:<10} {:<8} polls {} wakes {}", t.id, t.name(), state, t.polls, t.wakes);
    }
    print!("ready queue:");
    for id in &ready[..n] {
        print!(" {}", id);
    }
    println!();
}

fn uptime(_: &str) {
    let ms = time::uptime_ms();
    println!("uptime: {}.{:03} s ({} ticks)", ms / 1000, ms % 1000, time::ticks());
}

fn reboot(_: &str) {
    println!("rebooting");
    crate::exit::reboot();
}

fn halt(_: &str) {
    println!("halting the CPU");
    crate::cpu::halt_forever();
}

fn panic_cmd(args: &str) {
    if args.is_empty() {
        panic!("panic requested from the shell");
    }
    panic!("panic requested from the shell: {} ({} bytes)", args, args.len());
}

fn fault_cmd(args: &str) {
    let mut words = args.split_whitespace();
    match (words.next(), words.next()) {
        (Some("bp"), None) => fault::trigger_breakpoint(),
        (Some("pf"), addr) => {
            let addr = match addr.map(parse_hex) {
                None => 0xdead_beef_000,
                Some(Some(a)) => a,
                Some(None) => return println!("error: usage: fault pf [HEXADDR]"),
            };
            // A page fault is reported, then the shell goes on.
            if let Some(f) = recovery::catch(|| {
                fault::trigger_page_fault(addr);
            }) {
                println!("fault pf: recovered (CR2 {:#x}, error code {:#x})", f.cr2, f.error_code);
            } else {
                println!("fault pf: {:#x} is mapped, no fault", addr);
            }
        }
        (Some("gp"), None) => fault::trigger_general_protection(),
        (Some("ud"), None) => fault::trigger_invalid_opcode(),
        (Some("de"), None) => fault::trigger_divide_error(),
        (Some("df"), None) => fault::trigger_stack_overflow(),
        (Some("triple"), None) => fault::trigger_triple_fault(),
        (Some("uaf"), None) => {
            let (account, balance) = fault::trigger_use_after_free();
            println!("fault uaf: account 2 at {:#x} has balance {} (expected 500)", account, balance);
        }
        (Some("deadlock"), None) => {
            println!("fault deadlock: DEADLOCK_DEMO taken with interrupts on; the timer IRQ takes it next");
            fault::trigger_deadlock();
        }
        (Some("irqlock"), None) => {
            println!("fault irqlock: DEADLOCK_DEMO taken with interrupts on, then by the timer IRQ, then held across a tick");
            fault::trigger_irq_unsafe_lock();
        }
        (Some("overrun"), None) => match fault::trigger_heap_overrun() {
            Some((block, hit)) => println!("fault overrun: wrote 8 bytes past the block at {:#x}, into the free block at {:#x}", block, hit),
            None => println!("fault overrun: no two adjacent blocks, nothing written"),
        },
        (Some("noeoi"), None) => {
            fault::trigger_missing_eoi();
            println!("fault noeoi: the next timer IRQ ends without EOI");
        }
        (Some("lostwake"), None) => match crate::lostwake::plant() {
            Some((first, lost)) => println!("fault lostwake: tasks {}-{} nap; the timer will drop task {}'s waker", first, lost, lost),
            None => println!("fault lostwake: the task table is full"),
        },
        _ => println!("error: usage: fault bp|pf [ADDR]|gp|ud|de|df|triple|uaf|deadlock|irqlock|overrun|noeoi|lostwake"),
    }
}
