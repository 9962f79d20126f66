//! The thread table: one `#[repr(C)]` record per kernel thread or process,
//! each holding its saved register context, read by the debugger
//! (docs/kernel-structures.md, "RUSTOS_THREADS").
//!
//! A bottom layer of `thread`: plain data and the lock around it.

use crate::interrupts::frame::TrapFrame;
use crate::sync::IrqMutex;

/// Most threads and processes alive at once (slot 0 is the boot thread).
pub const MAX_THREADS: usize = 16;
/// Bytes of a thread's name (UTF-8, zero padded).
pub const NAME_LEN: usize = 16;
/// Magic of [`ThreadTable`]: "THRD".
pub const THREADS_MAGIC: u32 = u32::from_le_bytes(*b"THRD");
/// Layout version of [`ThreadTable`].
pub const THREADS_VERSION: u32 = 1;

/// What a thread slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum ThreadState {
    /// The slot is free.
    Free = 0,
    /// Waiting for the CPU.
    Ready = 1,
    /// On the CPU now.
    Running = 2,
    /// Asleep until `wake_at`.
    Sleeping = 3,
    /// Finished (exited or killed); the slot can be reused.
    Exited = 4,
}

impl ThreadState {
    /// The state's name as `ps` prints it.
    pub fn name(state: u32) -> &'static str {
        ["free", "ready", "running", "sleeping", "exited"].get(state as usize).copied().unwrap_or("?")
    }
}

/// One thread or process.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct Thread {
    /// Thread id, also the process id (ids start at 1, never reused; 0 = free).
    pub tid: u64,
    /// A [`ThreadState`] value.
    pub state: u32,
    /// Privilege level the thread's code runs at: 0 (kernel thread) or 3 (user process).
    pub ring: u32,
    /// Timer ticks spent on the CPU.
    pub ticks: u64,
    /// Tick at which a sleeping thread becomes ready.
    pub wake_at: u64,
    /// Exit status (valid in state `Exited`).
    pub exit_code: i64,
    /// Virtual address of the kernel stack's guard page (0: the boot stack).
    pub stack_guard: u64,
    /// Top of the kernel stack (TSS.RSP0 while the thread runs).
    pub stack_top: u64,
    /// Physical address of the thread's PML4 (CR3).
    pub cr3: u64,
    /// The thread's name, zero padded.
    pub name: [u8; NAME_LEN],
    /// The registers saved when the thread last left the CPU (stale while it runs).
    pub context: TrapFrame,
}

impl Thread {
    /// An unused slot.
    pub const FREE: Thread = Thread {
        tid: 0,
        state: ThreadState::Free as u32,
        ring: 0,
        ticks: 0,
        wake_at: 0,
        exit_code: 0,
        stack_guard: 0,
        stack_top: 0,
        cr3: 0,
        name: [0; NAME_LEN],
        context: TrapFrame::ZERO,
    };

    /// The thread's name.
    pub fn name(&self) -> &str {
        let len = self.name.iter().position(|&b| b == 0).unwrap_or(NAME_LEN);
        core::str::from_utf8(&self.name[..len]).unwrap_or("?")
    }

    /// Sets the name (cut to [`NAME_LEN`] bytes).
    pub fn set_name(&mut self, name: &str) {
        self.name = [0; NAME_LEN];
        let n = name.len().min(NAME_LEN);
        self.name[..n].copy_from_slice(&name.as_bytes()[..n]);
    }

    /// Whether the slot holds a thread that has not finished.
    pub fn alive(&self) -> bool {
        !matches!(self.state, s if s == ThreadState::Free as u32 || s == ThreadState::Exited as u32)
    }
}

/// The scheduler's state.
#[repr(C)]
pub struct ThreadTable {
    magic: u32,
    version: u32,
    /// Slots in `threads`.
    pub capacity: u32,
    /// Index of the slot on the CPU.
    pub current: u32,
    /// The id the next thread gets.
    pub next_tid: u64,
    /// Context switches since boot.
    pub switches: u64,
    /// Ticks left in the current thread's time slice.
    pub slice_left: u64,
    /// The threads; slot 0 is the boot thread (the executor, shell and its tasks).
    pub threads: [Thread; MAX_THREADS],
}

/// The thread table.
#[no_mangle]
pub static RUSTOS_THREADS: IrqMutex<ThreadTable> = IrqMutex::new(ThreadTable {
    magic: THREADS_MAGIC,
    version: THREADS_VERSION,
    capacity: MAX_THREADS as u32,
    current: 0,
    next_tid: 1,
    switches: 0,
    slice_left: 0,
    threads: [Thread::FREE; MAX_THREADS],
});
