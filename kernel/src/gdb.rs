//! The gdb support script (`kernel/gdb/rustos.py`), embedded in the ELF.
//!
//! gdb reads the `.debug_gdb_scripts` section of the files it loads and runs
//! the scripts found there when auto-loading allows it (the ELF's directory
//! in gdb's auto-load safe-path; README "Debugging with gdb"). The section
//! holds one entry: kind 4 (an inline Python script), the script's name on
//! the first line, its text, and a NUL. `build.rs` writes the entry as
//! assembly (`.byte` lines), so that it defines no symbol; the section is not
//! allocated (the linker script keeps it as INFO), so it is never loaded into
//! the machine.

core::arch::global_asm!(include_str!(concat!(env!("OUT_DIR"), "/gdb_scripts.s")));
