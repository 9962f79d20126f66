//! RustOS: an educational x86_64 kernel.
//!
//! Boot order (see [`init`]): serial and screen first, so everything after can
//! report; the boot information and the ramdisk module's place; GDT and TSS; the IDT; memory (frames, page
//! tables, heap; the ramdisk is mounted once its frames are kept); the thread table (the boot thread) and the system calls; the interrupt controller and timer; then the mode asked for on
//! the command line: the shell (default), `test` or `test=NAME`, or
//! `bench[=ROUNDS]`.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

extern crate alloc;

#[macro_use]
mod print;
mod bench;
mod boot;
mod bootinfo;
mod cpu;
mod disk;
mod exit;
mod fb;
mod fault;
mod gdb;
mod gdt;
mod heap;
mod interrupts;
mod keyboard;
mod lostwake;
mod ktest;
mod layout;
mod memory;
mod panic;
mod process;
mod ramdisk;
mod recovery;
mod serial;
mod shell;
mod sync;
mod stacks;
mod task;
mod thread;
mod time;
mod vga;
mod wasm;

use rustos_core::parse::{boot_mode, BootMode};

/// Brings the machine up, in order. Returns with interrupts enabled.
fn init(start_info: u64) {
    serial::init();
    vga::WRITER.lock().clear();
    println!("RustOS {} booting", env!("CARGO_PKG_VERSION"));
    bootinfo::init(start_info);
    ramdisk::locate(start_info);
    gdt::init();
    interrupts::init_idt();
    memory::init();
    ramdisk::mount();
    heap::init();
    thread::init();
    process::init();
    interrupts::init_hardware();
    x86_64::instructions::interrupts::enable();
    keyboard::drain_pending();
    log!(Info, "ready: {} MiB of RAM, heap at {:#x}", memory::frames::total_bytes() >> 20, heap::HEAP_START);
}

/// The Rust entry, called by `kernel_entry` on the main stack with the
/// physical address of the PVH start info.
#[no_mangle]
pub extern "C" fn kernel_main(start_info: u64) -> ! {
    init(start_info);
    match boot_mode(bootinfo::cmdline()) {
        BootMode::Shell => shell::start(),
        BootMode::TestAll => ktest::run(None),
        BootMode::TestOne(name) => ktest::run(Some(name)),
        BootMode::Bench(rounds) => bench::run(rounds),
    }
}
