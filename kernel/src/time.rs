//! The PIT at 1000 Hz, the uptime counter, and the `sleep_ms` timer future.
//!
//! IRQ0 increments [`RUSTOS_TICKS`] and wakes the sleepers whose deadline has
//! passed. Sleepers register their waker in a small fixed table.

use crate::sync::IrqMutex;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::{Context, Poll, Waker};
use x86_64::instructions::port::Port;

/// Timer interrupts per second.
pub const HZ: u64 = 1000;
/// The PIT's input clock in Hz.
pub const PIT_CLOCK: u64 = 1_193_182;
/// The channel-0 divisor for [`HZ`].
pub const PIT_DIVISOR: u16 = ((PIT_CLOCK + HZ / 2) / HZ) as u16;

/// Timer interrupts since boot.
#[no_mangle]
pub static RUSTOS_TICKS: AtomicU64 = AtomicU64::new(0);

const MAX_SLEEPERS: usize = 32;
static SLEEPERS: IrqMutex<[Option<(u64, Waker)>; MAX_SLEEPERS]> = IrqMutex::new([const { None }; MAX_SLEEPERS]);
/// The planted bug of `fault lostwake` (`lostwake`): the deadline whose
/// sleeper's waker the timer drops without calling it (0: none).
static LOSE_WAKE_AT: AtomicU64 = AtomicU64::new(0);

/// Plants the lost wake-up: the sleeper whose deadline is `deadline` is never woken.
pub fn lose_wake_at(deadline: u64) {
    LOSE_WAKE_AT.store(deadline, Ordering::Relaxed);
}

/// Programs PIT channel 0 as a rate generator at [`HZ`].
pub fn init() {
    let mut command: Port<u8> = Port::new(0x43);
    let mut channel0: Port<u8> = Port::new(0x40);
    // SAFETY: the PIT's ports; mode 2, lobyte/hibyte access.
    unsafe {
        command.write(0x34);
        channel0.write(PIT_DIVISOR as u8);
        channel0.write((PIT_DIVISOR >> 8) as u8);
    }
}

/// Timer ticks since boot.
pub fn ticks() -> u64 {
    RUSTOS_TICKS.load(Ordering::Relaxed)
}

/// Milliseconds since boot.
pub fn uptime_ms() -> u64 {
    ticks() * PIT_DIVISOR as u64 * 1000 / PIT_CLOCK
}

/// IRQ0: counts the tick and wakes due sleepers.
pub fn on_tick() {
    let now = RUSTOS_TICKS.fetch_add(1, Ordering::Relaxed) + 1;
    let mut sleepers = SLEEPERS.lock();
    for slot in sleepers.iter_mut() {
        if matches!(slot, Some((deadline, _)) if *deadline <= now) {
            if let Some((deadline, waker)) = slot.take() {
                if deadline == LOSE_WAKE_AT.load(Ordering::Relaxed) {
                    LOSE_WAKE_AT.store(0, Ordering::Relaxed);
                    drop(waker); // the planted bug: the task is never woken
                } else {
                    waker.wake();
                }
            }
        }
    }
}

/// A future that completes `ms` milliseconds (timer ticks) after creation.
pub struct Sleep {
    deadline: u64,
}

/// Sleeps for `ms` milliseconds.
pub fn sleep_ms(ms: u64) -> Sleep {
    Sleep { deadline: ticks() + ms * HZ / 1000 }
}

impl Sleep {
    /// The tick at which it completes.
    pub fn deadline(&self) -> u64 {
        self.deadline
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if ticks() >= self.deadline {
            return Poll::Ready(());
        }
        let mut sleepers = SLEEPERS.lock();
        if ticks() >= self.deadline {
            return Poll::Ready(());
        }
        match sleepers.iter_mut().find(|s| s.is_none()) {
            Some(slot) => *slot = Some((self.deadline, cx.waker().clone())),
            // No free slot: poll again soon rather than sleep forever.
            None => cx.waker().wake_by_ref(),
        }
        Poll::Pending
    }
}
