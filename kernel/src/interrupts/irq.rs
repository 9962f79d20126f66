//! Hardware interrupts: the 8259 PIC pair remapped to vectors 32-47.
//!
//! IRQ0 (PIT) ticks the clock, IRQ1 (PS/2 keyboard) queues a scancode, IRQ4
//! (COM1) queues received bytes. Every handler ends with an EOI, except when
//! a debugging trigger of the shell's `fault` command asks otherwise
//! ([`arm_deadlock`], [`skip_next_eoi`]).

use super::frame::TrapFrame;
use pic8259::ChainedPics;
use core::sync::atomic::{AtomicBool, Ordering};
use spin::Mutex;
use x86_64::instructions::port::Port;

/// Vector of IRQ 0 after the PIC remap.
pub const PIC1_OFFSET: u8 = 32;
/// Vector of IRQ 8 after the PIC remap.
pub const PIC2_OFFSET: u8 = 40;
/// Vector of IRQ 15, the last of the PIC pair.
pub const LAST_VECTOR: u8 = PIC2_OFFSET + 7;

/// The PIC pair.
// SAFETY: the offsets put IRQs 0-15 on vectors 32-47, above the CPU's
// exception vectors, and these are the only PICS the kernel creates.
pub static PICS: Mutex<ChainedPics> = Mutex::new(unsafe { ChainedPics::new(PIC1_OFFSET, PIC2_OFFSET) });

/// IRQ lines in use.
pub const IRQ_TIMER: u8 = 0;
pub const IRQ_KEYBOARD: u8 = 1;
pub const IRQ_COM1: u8 = 4;

/// A lock for the deadlock demonstration (`fault deadlock`): once
/// [`arm_deadlock`] was called, every timer IRQ takes it. A holder that leaves
/// interrupts enabled is then interrupted by a handler spinning on it forever.
pub static DEADLOCK_DEMO: Mutex<u64> = Mutex::new(0);
static DEADLOCK_ARMED: AtomicBool = AtomicBool::new(false);
static SKIP_EOI: AtomicBool = AtomicBool::new(false);

/// Makes every later timer IRQ take [`DEADLOCK_DEMO`] (counting the ticks in it).
pub fn arm_deadlock() {
    DEADLOCK_ARMED.store(true, Ordering::Relaxed);
}

/// Makes the next timer IRQ return without its EOI: IRQ 0 stays in service in
/// the master PIC, which then holds back IRQ 0 and every lower-priority IRQ
/// (keyboard, COM1, the slave): a silent hang.
pub fn skip_next_eoi() {
    SKIP_EOI.store(true, Ordering::Relaxed);
}

/// Remaps the PICs, unmasks the timer, keyboard, cascade and COM1, and starts the PIT.
pub fn init() {
    // SAFETY: the PIC ports are ours; interrupts are still off.
    unsafe {
        let mut pics = PICS.lock();
        pics.initialize();
        let master_mask = !((1u8 << IRQ_TIMER) | (1 << IRQ_KEYBOARD) | (1 << 2) | (1 << IRQ_COM1));
        pics.write_masks(master_mask, 0xFF);
    }
    crate::time::init();
    crate::keyboard::init();
    log!(Info, "pic: remapped to {}-{}, IRQs 0, 1, 4 unmasked; pit at {} Hz", PIC1_OFFSET, PIC2_OFFSET + 7, crate::time::HZ);
}

/// Whether IRQ 7 or 15 is spurious: its bit is not set in the chip's ISR
/// (OCW3 0x0B selects the ISR for reading).
fn is_spurious(irq: u8) -> bool {
    let command = if irq == 7 { 0x20 } else { 0xA0 };
    let mut port: Port<u8> = Port::new(command);
    // SAFETY: OCW3 only selects which register the next read returns.
    let isr = unsafe {
        port.write(0x0B);
        port.read()
    };
    isr & 0x80 == 0
}

/// Handles an IRQ vector and acknowledges it (spurious IRQs 7 and 15 are not
/// acknowledged on their own chip; a spurious 15 still needs the master's EOI).
pub fn handle(frame: &mut TrapFrame) {
    let irq = frame.vector as u8 - PIC1_OFFSET;
    if (irq == 7 || irq == 15) && is_spurious(irq) {
        if irq == 15 {
            // SAFETY: the master did deliver the cascade IRQ.
            unsafe { PICS.lock().notify_end_of_interrupt(PIC1_OFFSET) };
        }
        return;
    }
    match irq {
        IRQ_TIMER => {
            crate::time::on_tick();
            if DEADLOCK_ARMED.load(Ordering::Relaxed) {
                *DEADLOCK_DEMO.lock() += 1;
            }
            if SKIP_EOI.swap(false, Ordering::Relaxed) {
                return;
            }
        }
        IRQ_KEYBOARD => crate::keyboard::on_keyboard_irq(),
        IRQ_COM1 => crate::keyboard::on_serial_irq(),
        _ => {}
    }
    // SAFETY: acknowledges the vector being handled.
    unsafe { PICS.lock().notify_end_of_interrupt(frame.vector as u8) };
}
