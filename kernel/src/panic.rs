//! The panic handler: report on serial and (white on red) on screen, then halt.
//!
//! In test mode the panic is handed to the test runner instead, which counts
//! it (as a pass for a should-panic test) and goes on with the next test.

use core::panic::PanicInfo;
use core::fmt::Write;

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    x86_64::instructions::interrupts::disable();
    // SAFETY: this path never returns to whatever held the locks.
    unsafe {
        crate::serial::force_unlock();
        crate::vga::force_unlock();
    }
    if crate::ktest::running() {
        crate::serial_println!("panic: {}", info);
        crate::ktest::on_panic();
        // No test's recovery point was armed: the runner itself panicked.
        crate::serial_println!("test runner panicked outside a test");
        crate::exit::exit(crate::exit::ExitCode::Failed);
    }
    crate::serial_println!("KERNEL PANIC: {}", info);
    {
        let mut w = crate::vga::WRITER.lock();
        w.set_color(crate::vga::Color::White, crate::vga::Color::Red);
        let _ = write!(w, "KERNEL PANIC: {}\n", info);
    }
    crate::cpu::halt_forever()
}
