//! Leaving the machine: isa-debug-exit (QEMU and rustos-dbg) and reboot.

use x86_64::instructions::port::Port;

/// Port of the isa-debug-exit device.
pub const DEBUG_EXIT_PORT: u16 = 0xF4;

/// Exit codes written to isa-debug-exit; the host sees `(code << 1) | 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum ExitCode {
    /// All tests passed (host status 33).
    Success = 0x10,
    /// Some test failed (host status 35).
    Failed = 0x11,
}

/// Ends the run through isa-debug-exit; halts if no such device answers.
pub fn exit(code: ExitCode) -> ! {
    let mut port: Port<u32> = Port::new(DEBUG_EXIT_PORT);
    // SAFETY: writing the debug-exit port stops the emulator; on real hardware it is unused.
    unsafe { port.write(code as u32) };
    crate::cpu::halt_forever()
}

/// Resets the machine by pulsing the 8042's reset line (command 0xFE).
pub fn reboot() -> ! {
    let mut port: Port<u8> = Port::new(0x64);
    // SAFETY: command 0xFE to the keyboard controller resets the CPU.
    unsafe { port.write(0xFE) };
    crate::cpu::halt_forever()
}
