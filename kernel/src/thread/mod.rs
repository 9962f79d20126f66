//! Preemptive threads: round robin on the PIT tick.
//!
//! Every thread has a record in the `#[no_mangle]` table [`table::RUSTOS_THREADS`]
//! holding its saved registers, and its own kernel stack with a guard page
//! (`stack`). Slot 0 is the boot thread: the executor with the shell and its
//! tasks, on the main stack; it never sleeps or exits. A switch happens in trap
//! context only (`sched`): on the timer tick when the time slice is over, or on
//! `int 0x81` (`hooks::YIELD_VECTOR`), which [`yield_now`], [`sleep_ms`] and
//! [`exit`] raise. User processes (`crate::process`) are threads whose saved
//! context is in ring 3.

pub mod sched;
pub mod stack;
pub mod table;

use crate::interrupts::frame::TrapFrame;
use crate::interrupts::hooks;
use table::{Thread, ThreadState, RUSTOS_THREADS};

/// Registers the boot thread (slot 0) as the running thread and installs the
/// scheduler's tick, yield, fault and executor-idle hooks.
pub fn init() {
    hooks::install_scheduler(tick_hook, yield_hook);
    hooks::install_fault(fault_hook);
    crate::task::executor::set_idle_hook(idle_hook);
    let mut table = RUSTOS_THREADS.lock();
    let tid = table.next_tid;
    table.next_tid += 1;
    let boot = &mut table.threads[0];
    boot.tid = tid;
    boot.state = ThreadState::Running as u32;
    boot.stack_top = crate::stacks::stack_top(core::ptr::addr_of!(crate::stacks::RUSTOS_MAIN_STACK));
    boot.cr3 = x86_64::registers::control::Cr3::read().0.start_address().as_u64();
    boot.set_name("kernel");
    table.slice_left = sched::SLICE_TICKS;
}

/// Why a thread could not be started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnError {
    /// Every slot holds a live thread.
    TableFull,
    /// No memory for the kernel stack or the address space.
    OutOfMemory,
    /// No program by that name.
    NoSuchProgram,
    /// The program file was refused (why).
    BadProgram(&'static str),
    /// The disk could not be read (no disk, a corrupt FAT, ...).
    Disk(rustos_core::fat32::Error),
}

impl core::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self {
            SpawnError::TableFull => write!(f, "the thread table is full"),
            SpawnError::OutOfMemory => write!(f, "out of memory"),
            SpawnError::NoSuchProgram => write!(f, "no such program"),
            SpawnError::BadProgram(why) => write!(f, "{}", why),
            SpawnError::Disk(e) => write!(f, "{}", crate::disk::describe(*e)),
        }
    }
}

/// Reserves a free (or finished) slot, maps its kernel stack, and fills its
/// record with `setup` (which gets the slot's kernel stack top); the thread is
/// made ready at once. Returns the new thread's id.
pub fn start(name: &str, setup: impl FnOnce(&mut Thread, u64) -> Result<(), SpawnError>) -> Result<u64, SpawnError> {
    let slot = {
        let mut table = RUSTOS_THREADS.lock();
        let slot = (1..table.threads.len()).find(|&i| !table.threads[i].alive()).ok_or(SpawnError::TableFull)?;
        let old = table.threads[slot];
        if old.state == ThreadState::Exited as u32 && old.ring == 3 && old.cr3 != table.threads[0].cr3 {
            // A finished process: its address space is no longer in use.
            crate::memory::paging::free_address_space(old.cr3);
        }
        // Reserved (not ready): no other spawn takes it, the scheduler skips it.
        table.threads[slot] = Thread::FREE;
        table.threads[slot].state = ThreadState::Sleeping as u32;
        table.threads[slot].wake_at = u64::MAX;
        slot
    };
    let release = || RUSTOS_THREADS.lock().threads[slot] = Thread::FREE;
    let Some(top) = stack::prepare(slot) else {
        release();
        return Err(SpawnError::OutOfMemory);
    };
    let mut record = Thread::FREE;
    record.set_name(name);
    record.stack_guard = stack::guard(slot);
    record.stack_top = top;
    record.cr3 = RUSTOS_THREADS.lock().threads[0].cr3;
    if let Err(e) = setup(&mut record, top) {
        release();
        return Err(e);
    }
    let mut table = RUSTOS_THREADS.lock();
    record.tid = table.next_tid;
    table.next_tid += 1;
    record.state = ThreadState::Ready as u32;
    let tid = record.tid;
    table.threads[slot] = record;
    Ok(tid)
}

/// First code of every kernel thread: runs `entry(arg)` (`entry` is the
/// address of a `fn(u64)`), then exits with 0.
extern "C" fn thread_entry(entry: usize, arg: u64) -> ! {
    // SAFETY: `spawn` stored the address of a `fn(u64)` in rdi.
    let entry: fn(u64) = unsafe { core::mem::transmute::<usize, fn(u64)>(entry) };
    entry(arg);
    exit(0)
}

/// Starts a ring-0 thread running `entry(arg)`; returns its id.
pub fn spawn(name: &str, entry: fn(u64), arg: u64) -> Result<u64, SpawnError> {
    start(name, |t, top| {
        t.ring = 0;
        let c = &mut t.context;
        c.rip = thread_entry as *const () as u64;
        c.rdi = entry as usize as u64;
        c.rsi = arg;
        c.cs = crate::gdt::KERNEL_CS as u64;
        c.ss = crate::gdt::KERNEL_DS as u64;
        c.rflags = 0x202;
        // As after a `call`: RSP + 8 is 16-byte aligned at the function's entry.
        c.rsp = top - 8;
        Ok(())
    })
}

/// Gives the CPU to the next ready thread (returns at once when there is none).
pub fn yield_now() {
    // SAFETY: the gate of YIELD_VECTOR switches threads and returns here
    // with every register as it was (the trap frame saves them all).
    unsafe { core::arch::asm!("int 0x81") };
}

/// Sleeps `ms` milliseconds. The boot thread (which runs the executor and
/// never leaves the ready set) waits with `hlt` instead.
pub fn sleep_ms(ms: u64) {
    let deadline = crate::time::ticks() + ms * crate::time::HZ / 1000;
    if current_slot() == 0 {
        while crate::time::ticks() < deadline {
            x86_64::instructions::interrupts::enable_and_hlt();
        }
        return;
    }
    {
        let mut table = RUSTOS_THREADS.lock();
        let i = table.current as usize;
        table.threads[i].wake_at = deadline;
        table.threads[i].state = ThreadState::Sleeping as u32;
    }
    yield_now();
}

/// Ends the calling thread with `code` (the boot thread cannot exit: it halts).
pub fn exit(code: i64) -> ! {
    {
        let mut table = RUSTOS_THREADS.lock();
        let i = table.current as usize;
        if i != 0 {
            table.threads[i].state = ThreadState::Exited as u32;
            table.threads[i].exit_code = code;
        }
    }
    loop {
        yield_now();
        if current_slot() == 0 {
            crate::cpu::halt_forever();
        }
    }
}

/// The slot of the running thread.
pub fn current_slot() -> usize {
    RUSTOS_THREADS.lock().current as usize
}

/// The id of the running thread.
pub fn current_tid() -> u64 {
    let table = RUSTOS_THREADS.lock();
    table.threads[table.current as usize].tid
}

/// Whether a thread other than the running one is ready.
pub fn others_ready() -> bool {
    let table = RUSTOS_THREADS.lock();
    let current = table.current as usize;
    table.threads.iter().enumerate().any(|(i, t)| i != current && t.state == ThreadState::Ready as u32)
}

/// A copy of the record of thread `tid`, if it exists (alive or finished).
pub fn find(tid: u64) -> Option<Thread> {
    RUSTOS_THREADS.lock().threads.iter().find(|t| t.tid == tid && t.state != ThreadState::Free as u32).copied()
}

/// Waits (sleeping or yielding) until thread `tid` has finished; returns its
/// exit code, or `None` if there is no such thread.
pub fn join(tid: u64) -> Option<i64> {
    loop {
        let t = find(tid)?;
        if t.state == ThreadState::Exited as u32 {
            return Some(t.exit_code);
        }
        sleep_ms(1);
    }
}

/// Ends thread `tid` (not the caller, not the boot thread) with `code`;
/// returns false when no such live thread exists.
pub fn kill(tid: u64, code: i64) -> bool {
    let mut table = RUSTOS_THREADS.lock();
    let current = table.current as usize;
    match table.threads.iter().position(|t| t.tid == tid && t.alive()) {
        Some(i) if i != 0 && i != current => {
            table.threads[i].state = ThreadState::Exited as u32;
            table.threads[i].exit_code = code;
            true
        }
        _ => false,
    }
}

/// A copy of every slot, and the running slot's index.
pub fn snapshot() -> ([Thread; table::MAX_THREADS], usize) {
    let table = RUSTOS_THREADS.lock();
    (table.threads, table.current as usize)
}

fn tick_hook(frame: &mut TrapFrame) {
    sched::on_tick(frame, crate::time::ticks());
}

fn yield_hook(frame: &mut TrapFrame) {
    sched::on_yield(frame, crate::time::ticks());
}

/// The executor's idle hook: gives the CPU to a ready thread, if any.
fn idle_hook() -> bool {
    if others_ready() {
        yield_now();
        return true;
    }
    false
}

/// The fault hook: a fault in a thread or process other than the boot thread
/// ends it (never the kernel), with one report line naming it, the vector,
/// the error code (decoded for #PF, with the U bit), CR2 and rip; then the
/// next thread runs. The boot thread's faults go to the kernel's handler.
fn fault_hook(frame: &mut TrapFrame, cr2: u64) -> bool {
    use crate::interrupts::exceptions::{name, PfError, PAGE_FAULT};
    let (table, current) = snapshot();
    if current == 0 {
        return false;
    }
    let t = &table[current];
    let vector = frame.vector as u8;
    let kind = if t.ring == 3 { "process" } else { "thread" };
    print!("{} {} ({}) killed by {}: vector {}, error code {:#x}", kind, t.tid, t.name(), name(vector), vector, frame.error_code);
    if vector == PAGE_FAULT {
        print!(" ({})", PfError(frame.error_code));
    }
    println!(", CR2 {:#x}, rip {:#x}, ring {}", cr2, frame.rip, frame.cs & 3);
    sched::end_current(frame, -(vector as i64) - 1, crate::time::ticks())
}
