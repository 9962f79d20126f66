//! Hardware interrupts: the 8259 PIC pair remapped to vectors 32-47.
//!
//! IRQ0 (PIT) ticks the clock, IRQ1 (PS/2 keyboard) queues a scancode, IRQ4
//! (COM1) queues received bytes. Every handler ends with an EOI.

use super::{TrapFrame, PIC1_OFFSET, PIC2_OFFSET};
use pic8259::ChainedPics;
use spin::Mutex;

/// The PIC pair.
pub static PICS: Mutex<ChainedPics> = Mutex::new(unsafe { ChainedPics::new(PIC1_OFFSET, PIC2_OFFSET) });

/// IRQ lines in use.
pub const IRQ_TIMER: u8 = 0;
pub const IRQ_KEYBOARD: u8 = 1;
pub const IRQ_COM1: u8 = 4;

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

/// Handles an IRQ vector and acknowledges it.
pub fn handle(frame: &mut TrapFrame) {
    let irq = frame.vector as u8 - PIC1_OFFSET;
    match irq {
        IRQ_TIMER => crate::time::on_tick(),
        IRQ_KEYBOARD => crate::keyboard::on_keyboard_irq(),
        IRQ_COM1 => crate::keyboard::on_serial_irq(),
        _ => {}
    }
    // SAFETY: acknowledges the vector being handled.
    unsafe { PICS.lock().notify_end_of_interrupt(frame.vector as u8) };
}
