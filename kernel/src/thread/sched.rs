//! The round-robin scheduler, run from trap context with interrupts off.
//!
//! A switch saves the interrupted thread's [`TrapFrame`] into its record and
//! overwrites the frame with the next thread's saved context, so the
//! `iretq` at the end of `trap_common` resumes the next thread (in 64-bit mode
//! `iretq` always reloads SS:RSP, so the frame may belong to any stack and any
//! ring). It also points TSS.RSP0 at the next thread's kernel stack and loads
//! its CR3 when that differs.

use super::table::{ThreadState, ThreadTable, RUSTOS_THREADS};
use crate::interrupts::frame::TrapFrame;
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::structures::paging::PhysFrame;
use x86_64::PhysAddr;

/// Timer ticks a thread runs before the next ready one gets the CPU.
pub const SLICE_TICKS: u64 = 10;

fn wake_sleepers(table: &mut ThreadTable, now: u64) {
    for t in table.threads.iter_mut() {
        if t.state == ThreadState::Sleeping as u32 && t.wake_at <= now {
            t.state = ThreadState::Ready as u32;
        }
    }
}

/// The next slot to run after `current`, round robin; `current` itself when it
/// is still running and no other thread is ready.
fn pick(table: &ThreadTable) -> Option<usize> {
    let n = table.threads.len();
    let current = table.current as usize;
    (1..=n).map(|k| (current + k) % n).find(|&i| {
        let s = table.threads[i].state;
        s == ThreadState::Ready as u32 || (i == current && s == ThreadState::Running as u32)
    })
}

/// Moves the CPU to slot `next`: saves `frame` into the current record and
/// loads `next`'s context into it.
fn switch_to(table: &mut ThreadTable, frame: &mut TrapFrame, next: usize) {
    let current = table.current as usize;
    table.slice_left = SLICE_TICKS;
    if next == current {
        return;
    }
    let old = &mut table.threads[current];
    old.context = *frame;
    if old.state == ThreadState::Running as u32 {
        old.state = ThreadState::Ready as u32;
    }
    let new = &mut table.threads[next];
    new.state = ThreadState::Running as u32;
    *frame = new.context;
    let (stack_top, cr3) = (new.stack_top, new.cr3);
    table.current = next as u32;
    table.switches += 1;
    crate::gdt::set_kernel_stack(stack_top);
    if cr3 != 0 && Cr3::read().0.start_address().as_u64() != cr3 {
        // SAFETY: every thread's PML4 maps the kernel half as the kernel's own
        // tables do, so the code and stack in use stay mapped.
        unsafe { Cr3::write(PhysFrame::containing_address(PhysAddr::new(cr3)), Cr3Flags::empty()) };
    }
}

/// The timer tick: charges the tick to the running thread, wakes sleepers,
/// and switches when the time slice is used up and another thread is ready.
pub fn on_tick(frame: &mut TrapFrame, now: u64) {
    let mut table = RUSTOS_THREADS.lock();
    let current = table.current as usize;
    table.threads[current].ticks += 1;
    wake_sleepers(&mut table, now);
    table.slice_left = table.slice_left.saturating_sub(1);
    if table.slice_left > 0 {
        return;
    }
    if let Some(next) = pick(&table) {
        switch_to(&mut table, frame, next);
    }
}

/// A voluntary switch (yield, sleep, exit): runs the next ready thread. The
/// boot thread never sleeps or exits, so some thread is always runnable.
pub fn on_yield(frame: &mut TrapFrame, now: u64) {
    let mut table = RUSTOS_THREADS.lock();
    wake_sleepers(&mut table, now);
    let next = pick(&table).unwrap_or(0);
    switch_to(&mut table, frame, next);
}

/// Puts the running thread to sleep until tick `deadline` and runs the next
/// one (the boot thread, which never sleeps, just yields).
pub fn sleep_current(frame: &mut TrapFrame, deadline: u64, now: u64) {
    {
        let mut table = RUSTOS_THREADS.lock();
        let current = table.current as usize;
        if current != 0 {
            table.threads[current].state = ThreadState::Sleeping as u32;
            table.threads[current].wake_at = deadline;
        }
    }
    on_yield(frame, now);
}

/// Ends the running thread (a fault in a thread other than the boot thread)
/// with `code` and switches away; returns false for the boot thread, which
/// cannot be ended.
pub fn end_current(frame: &mut TrapFrame, code: i64, now: u64) -> bool {
    let mut table = RUSTOS_THREADS.lock();
    let current = table.current as usize;
    if current == 0 {
        return false;
    }
    table.threads[current].state = ThreadState::Exited as u32;
    table.threads[current].exit_code = code;
    wake_sleepers(&mut table, now);
    let next = pick(&table).unwrap_or(0);
    switch_to(&mut table, frame, next);
    true
}
