//! Interrupts and exceptions: the IDT, the entry stubs, and dispatch.
//!
//! Every vector enters through an assembly stub (`trap`) that builds a
//! [`frame::TrapFrame`] and calls `trap::trap_dispatch`: vectors 0-31 go to
//! the exception handlers, 32-47 to the PIC's IRQ handlers.
//!
//! Layers, lowest first: `frame`; `hooks` (handlers installed by `thread`
//! and `process`); `idt`; `exceptions` and `irq` (the
//! handlers); `trap` (stubs and dispatch); this file (set-up).

pub mod exceptions;
pub mod frame;
pub mod hooks;
pub mod idt;
pub mod irq;
pub mod trap;

use idt::{Gate, GateKind};

/// Fills every gate with its stub and loads the IDT.
pub fn init_idt() {
    for vector in 0..=255u8 {
        // Ring 3 may raise #BP and make system calls; any other `int n` from ring 3 is a #GP.
        let dpl = if vector == exceptions::BREAKPOINT || vector == hooks::SYSCALL_VECTOR { 3 } else { 0 };
        let ist = exceptions::ist_for(vector);
        idt::set_gate(vector, Gate::new(trap::stub_address(vector), GateKind::Interrupt, ist, dpl));
    }
    idt::load();
    log!(Info, "idt: 256 gates, exceptions 0-31, IRQs {}-{}", irq::PIC1_OFFSET, irq::LAST_VECTOR);
}

/// Remaps and unmasks the PIC, programs the PIT, and starts the input devices.
pub fn init_hardware() {
    irq::init();
}
