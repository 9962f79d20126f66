//! A small WebAssembly (MVP, integers only) interpreter: decode, validate, run.
//!
//! Contract: [`Module::decode`] reads a binary module (types, imports of
//! functions, functions, one memory, globals, exports, start, code, data and
//! the `name` section's function names) and [`validate`](validate::validate)s
//! every body: supported opcodes, indices in range, well-nested blocks (which
//! also yields the branch side table). What is outside that subset (floats,
//! tables, `call_indirect`, multi-value blocks, imported memories or globals)
//! is a [`Trap::Malformed`] at decode time, never a panic. [`Instance::new`]
//! resolves the imports through a [`Host`] (a missing one is
//! [`Trap::MissingImport`]) and lays out memory and globals; [`Instance::call`]
//! runs an export with a fuel limit (one unit per instruction) and publishes
//! its progress in an [`ExecView`] (fuel used, memory size, the call stack as
//! function indices) that a debugger reads. Every failure is a [`Trap`]; the
//! interpreter checks its operand stack itself, so even an invalid body cannot
//! make it panic.

mod exec;
mod leb;
mod module;
mod ops;
pub mod validate;

pub use exec::{ExecView, Host, Instance, MAX_DEPTH};
pub use module::{Export, FuncType, Import, Module, ValType};

use core::fmt;

/// Size of a linear-memory page.
pub const PAGE: usize = 65536;
/// Most pages an instance may have (1 MiB).
pub const MAX_PAGES: u32 = 16;

/// Why a module could not be loaded or why its run stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trap {
    /// The bytes are not a module this interpreter accepts (what, byte offset).
    Malformed(&'static str, usize),
    /// An import the host does not provide (module, name).
    MissingImport(alloc::string::String, alloc::string::String),
    /// No exported function of that name.
    NoExport(alloc::string::String),
    /// `unreachable` was executed.
    Unreachable,
    /// A load or store outside linear memory (address, size).
    OutOfBounds(u64, u32),
    /// Integer division or remainder by zero.
    DivideByZero,
    /// Signed division overflow (`MIN / -1`) or a bad conversion.
    IntegerOverflow,
    /// Calls nested deeper than [`MAX_DEPTH`], or the operand stack full.
    StackOverflow,
    /// The fuel limit (instructions) was reached.
    FuelExhausted(u64),
    /// A host function failed (its message).
    Host(&'static str),
    /// The operand stack did not hold what an instruction needed (an invalid body).
    BadStack(usize),
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trap::Malformed(what, at) => write!(f, "malformed module: {} at byte {:#x}", what, at),
            Trap::MissingImport(m, n) => write!(f, "missing import {}.{}", m, n),
            Trap::NoExport(n) => write!(f, "no exported function '{}'", n),
            Trap::Unreachable => f.write_str("trap: unreachable executed"),
            Trap::OutOfBounds(addr, size) => write!(f, "trap: out-of-bounds memory access ({} bytes at {:#x})", size, addr),
            Trap::DivideByZero => f.write_str("trap: integer divide by zero"),
            Trap::IntegerOverflow => f.write_str("trap: integer overflow"),
            Trap::StackOverflow => write!(f, "trap: call stack exhausted (more than {} frames)", MAX_DEPTH),
            Trap::FuelExhausted(n) => write!(f, "trap: out of fuel after {} instructions", n),
            Trap::Host(msg) => write!(f, "trap: host function: {}", msg),
            Trap::BadStack(at) => write!(f, "trap: operand stack mismatch at byte {:#x}", at),
        }
    }
}

#[cfg(test)]
mod tests;
