//! The gdb support script (`kernel/gdb/rustos.py`), embedded in the ELF.
//!
//! gdb reads the `.debug_gdb_scripts` section of the files it loads and runs
//! the scripts named there when auto-loading allows it (the ELF's directory
//! in gdb's auto-load safe-path; README "Debugging with gdb"). The section
//! holds one entry: kind 4 (an inline Python script), the script's name on
//! the first line, its text, and a NUL. The section is not allocated (its name
//! starts with `.debug_`), so it is never loaded into the machine.

/// Kind byte of an inline Python script entry, then the script's name line.
const HEADER: &[u8] = b"\x04gdb.inlined-script.rustos\n";
/// The script.
const SCRIPT: &[u8] = include_bytes!("../gdb/rustos.py");
/// Length of the entry: header, script, NUL.
const ENTRY_LEN: usize = HEADER.len() + SCRIPT.len() + 1;

/// `HEADER`, `SCRIPT` and a NUL, concatenated at compile time.
const fn entry() -> [u8; ENTRY_LEN] {
    let mut out = [0u8; ENTRY_LEN];
    let mut i = 0;
    while i < HEADER.len() {
        out[i] = HEADER[i];
        i += 1;
    }
    let mut j = 0;
    while j < SCRIPT.len() {
        out[i + j] = SCRIPT[j];
        j += 1;
    }
    out
}

/// The `.debug_gdb_scripts` entry.
#[used]
#[link_section = ".debug_gdb_scripts"]
static GDB_SCRIPT: [u8; ENTRY_LEN] = entry();
