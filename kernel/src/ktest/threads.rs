//! Kernel tests of the preemptive threads (ring 0; they run in QEMU and in
//! the emulator alike).

use crate::thread::{self, stack, table::ThreadState};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

static COUNTS: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
static STOP: AtomicBool = AtomicBool::new(false);

/// Counts as fast as it can without ever yielding: only preemption lets others run.
fn counter(i: u64) {
    while !STOP.load(Ordering::Relaxed) {
        COUNTS[i as usize].fetch_add(1, Ordering::Relaxed);
    }
}

/// Two busy threads that never yield both make progress, and so does the boot thread.
pub fn threads_preempt() {
    STOP.store(false, Ordering::Relaxed);
    let a = thread::spawn("count0", counter, 0).expect("spawn count0");
    let b = thread::spawn("count1", counter, 1).expect("spawn count1");
    let start = crate::time::ticks();
    // The boot thread waits with hlt; the ticks come back to it in turn.
    while crate::time::ticks() < start + 100 {
        x86_64::instructions::interrupts::enable_and_hlt();
    }
    STOP.store(true, Ordering::Relaxed);
    assert_eq!(thread::join(a), Some(0));
    assert_eq!(thread::join(b), Some(0));
    let (c0, c1) = (COUNTS[0].load(Ordering::Relaxed), COUNTS[1].load(Ordering::Relaxed));
    assert!(c0 > 0 && c1 > 0, "counts {} and {}", c0, c1);
    let ta = thread::find(a).expect("record of count0");
    assert!(ta.ticks > 0, "count0 was charged no tick");
    assert_eq!(ta.state, ThreadState::Exited as u32);
}

static ORDER: AtomicU64 = AtomicU64::new(0);

fn sleeper(ms: u64) {
    let before = crate::time::ticks();
    thread::sleep_ms(ms);
    assert!(crate::time::ticks() >= before + ms);
    ORDER.fetch_add(1, Ordering::Relaxed);
}

/// A sleeping thread wakes after its deadline; the joiner waits for it.
pub fn thread_sleep() {
    ORDER.store(0, Ordering::Relaxed);
    let t = thread::spawn("sleeper", sleeper, 20).expect("spawn");
    let record = thread::find(t).expect("record");
    assert!(record.alive());
    assert_eq!(thread::join(t), Some(0));
    assert_eq!(ORDER.load(Ordering::Relaxed), 1);
}

fn yielder(rounds: u64) {
    for _ in 0..rounds {
        ORDER.fetch_add(1, Ordering::Relaxed);
        thread::yield_now();
    }
}

/// Yielding threads interleave and finish.
pub fn thread_yield() {
    ORDER.store(0, Ordering::Relaxed);
    let a = thread::spawn("y1", yielder, 50).expect("spawn");
    let b = thread::spawn("y2", yielder, 50).expect("spawn");
    assert_eq!(thread::join(a), Some(0));
    assert_eq!(thread::join(b), Some(0));
    assert_eq!(ORDER.load(Ordering::Relaxed), 100);
}

fn faulter(addr: u64) {
    // SAFETY: deliberately reads an unmapped address to fault this thread.
    let _ = unsafe { core::ptr::read_volatile(addr as *const u64) };
}

/// A fault in a kernel thread ends that thread only (exit code -(vector + 1)).
pub fn thread_fault_ends_thread() {
    let t = thread::spawn("faulter", faulter, 0xdead_0000).expect("spawn");
    assert_eq!(thread::join(t), Some(-15));
}

/// Every thread stack has an unmapped guard page below it.
pub fn thread_stack_guard() {
    let t = thread::spawn("guarded", |_| {}, 0).expect("spawn");
    let record = thread::find(t).expect("record");
    thread::join(t);
    assert!(crate::memory::paging::translate(record.stack_guard).is_none(), "guard page is mapped");
    assert!(crate::memory::paging::translate(record.stack_top - 8).is_some(), "stack is not mapped");
    assert_eq!(record.stack_top - record.stack_guard, 4096 + stack::STACK_SIZE);
}
