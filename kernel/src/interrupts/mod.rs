//! Interrupts and exceptions: the IDT, the entry stubs, and dispatch.
//!
//! Every vector enters through an assembly stub (`trap`) that builds a
//! [`TrapFrame`] and calls [`trap_dispatch`]: vectors 0-31 go to the exception
//! handlers, 32-47 to the PIC's IRQ handlers.

pub mod exceptions;
pub mod idt;
pub mod irq;
pub mod trap;

pub use trap::TrapFrame;

use crate::gdt;
use idt::{Gate, GateKind};

/// Vector of IRQ 0 after the PIC remap.
pub const PIC1_OFFSET: u8 = 32;
/// Vector of IRQ 8 after the PIC remap.
pub const PIC2_OFFSET: u8 = 40;

/// The IST index that the gate of `vector` uses.
pub fn ist_for(vector: u8) -> u8 {
    match vector {
        exceptions::DOUBLE_FAULT => gdt::DOUBLE_FAULT_IST,
        exceptions::PAGE_FAULT => gdt::PAGE_FAULT_IST,
        exceptions::NMI => gdt::NMI_IST,
        exceptions::MACHINE_CHECK => gdt::MACHINE_CHECK_IST,
        _ => 0,
    }
}

/// Fills every gate with its stub and loads the IDT.
pub fn init_idt() {
    for vector in 0..=255u8 {
        let dpl = if vector == exceptions::BREAKPOINT { 3 } else { 0 };
        idt::set_gate(vector, Gate::new(trap::stub_address(vector), GateKind::Interrupt, ist_for(vector), dpl));
    }
    idt::load();
    log!(Info, "idt: 256 gates, exceptions 0-31, IRQs {}-{}", PIC1_OFFSET, PIC2_OFFSET + 7);
}

/// Remaps and unmasks the PIC, programs the PIT, and starts the input devices.
pub fn init_hardware() {
    irq::init();
}

/// Called by `trap_common` for every vector.
#[no_mangle]
pub extern "C" fn trap_dispatch(frame: &mut TrapFrame) {
    match frame.vector as u8 {
        0..=31 => exceptions::handle(frame),
        PIC1_OFFSET..=47 => irq::handle(frame),
        _ => log!(Warn, "unexpected interrupt vector {}", frame.vector),
    }
}
