//! The planted lost wake-up of `fault lostwake` (README: "a task that never wakes").
//! A fault trigger (docs/kernel-layers.md, layer 6), beside `fault`.
//!
//! [`plant`] spawns [`NAPPERS`] tasks, each sleeping a little longer than the
//! one before through two async fns (`napper` -> `nap` -> `time::Sleep`). The
//! first ones wake and finish; for the last one the timer is told to drop the
//! waker at its deadline without calling it
//! ([`time::lose_wake_at`](crate::time::lose_wake_at)): that task waits
//! forever, and nothing holds a waker that could wake it.

use crate::time;

/// Tasks spawned by [`plant`].
pub const NAPPERS: u64 = 3;
/// Milliseconds the first napper sleeps; each next one sleeps this much longer.
pub const NAP_MS: u64 = 10;

/// Spawns the nappers; returns the id of the first one and of the one that never wakes.
pub fn plant() -> Option<(u64, u64)> {
    let first = crate::task::spawn("napper", napper(NAP_MS, NAPPERS == 1))?;
    let mut last = first;
    for k in 2..=NAPPERS {
        last = crate::task::spawn("napper", napper(k * NAP_MS, k == NAPPERS))?;
    }
    Some((first, last))
}

/// Task: one nap, then a line on the console.
async fn napper(ms: u64, lose: bool) {
    let slept = nap(ms, lose).await;
    println!("napper: woke after {} ms", slept);
}

/// Sleeps `ms` milliseconds; with `lose`, the timer drops the waker instead of waking it.
async fn nap(ms: u64, lose: bool) -> u64 {
    let start = time::ticks();
    let sleep = time::sleep_ms(ms);
    if lose {
        time::lose_wake_at(sleep.deadline());
    }
    sleep.await;
    (time::ticks() - start) * 1000 / time::HZ
}
