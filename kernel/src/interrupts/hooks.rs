//! Handlers that higher layers install into the trap path, so that
//! `interrupts` does not depend on them: the scheduler's tick and yield
//! (`thread`), the system calls (`process`), and the fault handler for
//! threads other than the boot thread. Each is a function pointer kept in an
//! atomic (0 = not installed).

use super::frame::TrapFrame;
use core::sync::atomic::{AtomicUsize, Ordering};

/// The system-call vector (`int 0x80`, gate DPL 3).
pub const SYSCALL_VECTOR: u8 = 0x80;
/// The vector a kernel thread raises to give up the CPU (`int 0x81`, gate DPL 0).
pub const YIELD_VECTOR: u8 = 0x81;

/// A handler of a trap.
pub type Handler = fn(&mut TrapFrame);
/// A fault handler: gets the frame and CR2; returns true when it dealt with the fault.
pub type FaultHandler = fn(&mut TrapFrame, u64) -> bool;

static TICK: AtomicUsize = AtomicUsize::new(0);
static YIELD: AtomicUsize = AtomicUsize::new(0);
static SYSCALL: AtomicUsize = AtomicUsize::new(0);
static FAULT: AtomicUsize = AtomicUsize::new(0);

fn load(slot: &AtomicUsize) -> Option<Handler> {
    let f = slot.load(Ordering::Acquire);
    // SAFETY: only `install` stores into the slots, and it stores `Handler`s.
    (f != 0).then(|| unsafe { core::mem::transmute::<usize, Handler>(f) })
}

/// Installs the scheduler: `tick` after each timer tick that interrupted no
/// other trap, `yield_` for [`YIELD_VECTOR`].
pub fn install_scheduler(tick: Handler, yield_: Handler) {
    TICK.store(tick as usize, Ordering::Release);
    YIELD.store(yield_ as usize, Ordering::Release);
}

/// Installs the system-call handler for [`SYSCALL_VECTOR`].
pub fn install_syscall(handler: Handler) {
    SYSCALL.store(handler as usize, Ordering::Release);
}

/// Installs the fault handler tried before the kernel's own report.
pub fn install_fault(handler: FaultHandler) {
    FAULT.store(handler as usize, Ordering::Release);
}

/// Runs the tick handler, if installed.
pub fn tick(frame: &mut TrapFrame) {
    if let Some(f) = load(&TICK) {
        f(frame)
    }
}

/// Runs the handler of a software vector ([`YIELD_VECTOR`], [`SYSCALL_VECTOR`]);
/// returns false when none is installed for it.
pub fn software(frame: &mut TrapFrame) -> bool {
    let slot = match frame.vector as u8 {
        YIELD_VECTOR => &YIELD,
        SYSCALL_VECTOR => &SYSCALL,
        _ => return false,
    };
    load(slot).map(|f| f(frame)).is_some()
}

/// Runs the fault handler, if installed; true when it dealt with the fault.
pub fn fault(frame: &mut TrapFrame, cr2: u64) -> bool {
    let f = FAULT.load(Ordering::Acquire);
    if f == 0 {
        return false;
    }
    // SAFETY: only `install_fault` stores into FAULT, and it stores `FaultHandler`s.
    let f = unsafe { core::mem::transmute::<usize, FaultHandler>(f) };
    f(frame, cr2)
}
