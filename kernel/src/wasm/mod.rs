//! WASM programs: runs a module from the ramdisk with the kernel's host
//! functions ([`host`]), a fuel limit, and its progress published in
//! [`RUSTOS_WASM`] for the debugger.
//!
//! [`run`] decodes the module in place (the ramdisk's bytes are never
//! copied), instantiates it, runs its start function and its `main` export,
//! and returns `main`'s result or the trap as one line. The interpreter is
//! `rustos_core::wasm` (host-tested); it runs on the calling thread (the
//! shell's), which it holds until the program returns, traps or runs out of
//! fuel. [`RUSTOS_WASM`] is documented in docs/kernel-structures.md.

mod draw;
mod host;

use core::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering::Relaxed};
use rustos_core::wasm::{ExecView, Instance, Module, Trap};

/// Magic of [`WasmState`]: "WASM".
pub const WASM_MAGIC: u32 = u32::from_le_bytes(*b"WASM");
/// Layout version of [`WasmState`].
pub const WASM_VERSION: u32 = 1;
/// Instance slots.
pub const MAX_INSTANCES: usize = 2;
/// Bytes of a slot's path kept.
pub const PATH_MAX: usize = 48;
/// Fuel (WASM instructions) a run gets unless told otherwise.
pub const DEFAULT_FUEL: u64 = 5_000_000;

/// [`WasmSlot::state`]: never used.
pub const SLOT_EMPTY: u32 = 0;
/// [`WasmSlot::state`]: the instance is running.
pub const SLOT_RUNNING: u32 = 1;
/// [`WasmSlot::state`]: the last run returned.
pub const SLOT_EXITED: u32 = 2;
/// [`WasmSlot::state`]: the last run trapped.
pub const SLOT_TRAPPED: u32 = 3;

/// One instance: what ran and how far it got.
#[repr(C)]
pub struct WasmSlot {
    /// `SLOT_EMPTY`, `SLOT_RUNNING`, `SLOT_EXITED` or `SLOT_TRAPPED`.
    pub state: AtomicU32,
    /// Bytes of `path` in use.
    pub path_len: AtomicU32,
    /// Virtual address of the module's bytes (in the ramdisk) and their length.
    pub module_addr: AtomicU64,
    pub module_len: AtomicU64,
    /// The module's path (`/ram/NAME`), not NUL terminated.
    pub path: [AtomicU8; PATH_MAX],
    /// Fuel, memory and call stack (`rustos_core::wasm::ExecView`).
    pub view: ExecView,
}

/// The WASM instances, for the debugger.
#[repr(C)]
pub struct WasmState {
    magic: u32,
    version: u32,
    /// Runs started since boot.
    pub runs: AtomicU64,
    /// Entries of `instances`.
    pub slot_count: u32,
    /// Frames a call stack holds (`rustos_core::wasm::MAX_DEPTH`).
    pub max_depth: u32,
    pub instances: [WasmSlot; MAX_INSTANCES],
}

const EMPTY_SLOT: WasmSlot = WasmSlot {
    state: AtomicU32::new(SLOT_EMPTY),
    path_len: AtomicU32::new(0),
    module_addr: AtomicU64::new(0),
    module_len: AtomicU64::new(0),
    path: [const { AtomicU8::new(0) }; PATH_MAX],
    view: ExecView::new(),
};

/// The WASM instances (all fields atomics: updated as the interpreter runs).
#[no_mangle]
pub static RUSTOS_WASM: WasmState = WasmState {
    magic: WASM_MAGIC,
    version: WASM_VERSION,
    runs: AtomicU64::new(0),
    slot_count: MAX_INSTANCES as u32,
    max_depth: rustos_core::wasm::MAX_DEPTH as u32,
    instances: [EMPTY_SLOT; MAX_INSTANCES],
};

/// Runs the module `bytes` (from `path`) with `args` and `fuel`: `main`'s
/// result (0 when it returns none), or the trap.
pub fn run(path: &str, bytes: &'static [u8], args: &[&str], fuel: u64) -> Result<i64, Trap> {
    let slot = RUSTOS_WASM.instances.iter().find(|s| s.state.load(Relaxed) != SLOT_RUNNING).ok_or(Trap::Host("every instance slot is busy"))?;
    RUSTOS_WASM.runs.fetch_add(1, Relaxed);
    let kept = path.len().min(PATH_MAX);
    for (cell, &b) in slot.path.iter().zip(&path.as_bytes()[..kept]) {
        cell.store(b, Relaxed);
    }
    slot.path_len.store(kept as u32, Relaxed);
    slot.module_addr.store(bytes.as_ptr() as u64, Relaxed);
    slot.module_len.store(bytes.len() as u64, Relaxed);
    let view = &slot.view;
    view.fuel_limit.store(fuel, Relaxed);
    view.fuel_used.store(0, Relaxed);
    view.depth.store(0, Relaxed);
    view.memory_pages.store(0, Relaxed);
    view.memory_addr.store(0, Relaxed);
    slot.state.store(SLOT_RUNNING, Relaxed);
    let result = run_module(bytes, args, view);
    slot.state.store(if result.is_ok() { SLOT_EXITED } else { SLOT_TRAPPED }, Relaxed);
    view.memory_addr.store(0, Relaxed); // the memory is freed
    result
}

fn run_module(bytes: &'static [u8], args: &[&str], view: &ExecView) -> Result<i64, Trap> {
    let module = Module::decode(bytes)?;
    let mut host = host::Kernel::new(args);
    let mut instance = Instance::new(&module, bytes, &mut host)?;
    if let Some(start) = module.start {
        instance.invoke(start, &[], &mut host, view)?;
    }
    let main = module.export("main").or(module.export("_start")).ok_or(Trap::NoExport("main".into()))?;
    let result = instance.invoke(main, &[], &mut host, view)?;
    host.finish();
    Ok(match module.func_type(main).and_then(|t| t.results.first()) {
        Some(rustos_core::wasm::ValType::I32) => result.unwrap_or(0) as u32 as i32 as i64,
        _ => result.unwrap_or(0) as i64,
    })
}
