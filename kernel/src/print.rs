//! `print!`/`println!` to serial and screen, and a levelled logger.
//!
//! `print!` writes to both COM1 and the VGA screen; `serial_print!` to COM1
//! only. `log!(Level, ...)` prefixes its line with the level and the uptime,
//! and drops lines below the level set with [`set_level`].

use core::sync::atomic::{AtomicU8, Ordering};

/// Log levels, most verbose first.
#[allow(dead_code)] // the full set of levels is the logger's API; not all are used yet
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
}

impl Level {
    /// The level's name as printed in log lines.
    pub fn name(self) -> &'static str {
        ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"][self as usize]
    }
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);

/// Drops log lines below `level` from now on.
#[allow(dead_code)]
pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

/// Whether lines at `level` are printed.
pub fn enabled(level: Level) -> bool {
    level as u8 >= LEVEL.load(Ordering::Relaxed)
}

#[doc(hidden)]
pub fn _print(args: core::fmt::Arguments) {
    crate::serial::write_fmt(args);
    crate::vga::write_fmt(args);
}

#[doc(hidden)]
pub fn _serial_print(args: core::fmt::Arguments) {
    crate::serial::write_fmt(args);
}

#[doc(hidden)]
pub fn _log(level: Level, args: core::fmt::Arguments) {
    if enabled(level) {
        let ms = crate::time::uptime_ms();
        _print(format_args!("[{:>5}.{:03}] {:<5} {}\n", ms / 1000, ms % 1000, level.name(), args));
    }
}

/// Prints to COM1 and the screen.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => ($crate::print::_print(format_args!($($arg)*)));
}

/// Prints a line to COM1 and the screen.
#[macro_export]
macro_rules! println {
    () => ($crate::print!("\n"));
    ($($arg:tt)*) => ($crate::print!("{}\n", format_args!($($arg)*)));
}

/// Prints to COM1 only.
#[macro_export]
macro_rules! serial_print {
    ($($arg:tt)*) => ($crate::print::_serial_print(format_args!($($arg)*)));
}

/// Prints a line to COM1 only.
#[macro_export]
macro_rules! serial_println {
    () => ($crate::serial_print!("\n"));
    ($($arg:tt)*) => ($crate::serial_print!("{}\n", format_args!($($arg)*)));
}

/// Logs a line at a level: `log!(Info, "heap at {:#x}", addr)`.
#[macro_export]
macro_rules! log {
    ($level:ident, $($arg:tt)*) => ($crate::print::_log($crate::print::Level::$level, format_args!($($arg)*)));
}
