//! COM1: a 16550 UART for kernel output and shell input.
//!
//! Output goes through `uart_16550` behind a spin lock. Input is interrupt
//! driven: `init` enables the receive interrupt (IRQ4) and the IRQ handler
//! drains the receive buffer into a lock-free queue with [`drain_rx`], as far
//! as the queue has room (no byte is dropped: the rest waits in the UART).
//!
//! `init` programs the UART itself rather than with the crate's `init`: that
//! one enables the FIFOs, and enabling them empties the receive buffer, which
//! loses input typed (or piped) before the kernel was ready. Without FIFOs
//! the UART holds one byte and the sender waits for it to be read.

use core::fmt::Write;
use spin::Mutex;
use uart_16550::SerialPort;
use x86_64::instructions::port::Port;

/// I/O base of COM1.
pub const COM1: u16 = 0x3F8;

/// The COM1 port, locked for output.
// SAFETY: 0x3F8 is COM1 (a 16550 in QEMU and the emulator), and this is the
// only `SerialPort` on it.
pub static SERIAL1: Mutex<SerialPort> = Mutex::new(unsafe { SerialPort::new(COM1) });

/// Initialises COM1: 38400 baud 8N1, FIFOs left off, DTR/RTS/OUT2 set,
/// receive-data interrupt enabled.
pub fn init() {
    let reg = |offset: u16| Port::<u8>::new(COM1 + offset);
    // SAFETY: programs COM1's own registers.
    unsafe {
        reg(1).write(0x00); // IER: interrupts off while configuring
        reg(3).write(0x80); // LCR: DLAB on
        reg(0).write(0x03); // divisor low: 115200 / 3 = 38400 baud
        reg(1).write(0x00); // divisor high
        reg(3).write(0x03); // LCR: 8 bits, no parity, 1 stop bit, DLAB off
        reg(2).write(0x00); // FCR: FIFOs off (if they were on, this empties them once)
        reg(4).write(0x0B); // MCR: DTR, RTS, OUT2 (routes the IRQ to the PIC)
        reg(1).write(0x01); // IER: received data available
    }
}

/// Writes formatted text to COM1 with interrupts off (so an IRQ handler that
/// prints cannot deadlock on the lock).
pub fn write_fmt(args: core::fmt::Arguments) {
    x86_64::instructions::interrupts::without_interrupts(|| {
        let _ = SERIAL1.lock().write_fmt(args);
    });
}

/// Releases the output lock whatever holds it.
///
/// # Safety
/// Only for the panic and fault paths, where the holder will never run again
/// (or never touches the port again before it re-locks it).
pub unsafe fn force_unlock() {
    // SAFETY: the caller's guarantee: whoever held the lock is abandoned.
    unsafe { SERIAL1.force_unlock() };
}

/// Calls `sink` with the bytes waiting in the receive buffer while `has_room()`
/// says they can be kept; the others stay in the UART (the sender waits).
pub fn drain_rx(mut has_room: impl FnMut() -> bool, mut sink: impl FnMut(u8)) {
    let mut lsr: Port<u8> = Port::new(COM1 + 5);
    let mut rbr: Port<u8> = Port::new(COM1);
    // SAFETY: reading the 16550's LSR and RBR has no effect beyond the UART.
    unsafe {
        while has_room() && lsr.read() & 1 != 0 {
            sink(rbr.read());
        }
    }
}
