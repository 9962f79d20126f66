//! Build script: relinks the kernel when its linker script changes (cargo does
//! not track files named only in link arguments), and turns the gdb support
//! script (`gdb/rustos.py`) into the assembly of its `.debug_gdb_scripts`
//! entry (`$OUT_DIR/gdb_scripts.s`, included by `src/gdb.rs`).

use std::fmt::Write;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=linker.ld");
    println!("cargo:rerun-if-changed=gdb/rustos.py");
    let script = std::fs::read("gdb/rustos.py").expect("gdb/rustos.py");
    // An entry: kind 4 (inline Python script), the name line, the text, a NUL.
    let mut entry = vec![4u8];
    entry.extend_from_slice(b"gdb.inlined-script.rustos\n");
    entry.extend_from_slice(&script);
    entry.push(0);
    let mut asm = String::from(".pushsection .debug_gdb_scripts, \"MS\", @progbits, 1\n");
    for line in entry.chunks(32) {
        let bytes: Vec<String> = line.iter().map(|b| b.to_string()).collect();
        writeln!(asm, ".byte {}", bytes.join(",")).unwrap();
    }
    asm.push_str(".popsection\n");
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    std::fs::write(Path::new(&out).join("gdb_scripts.s"), asm).expect("write gdb_scripts.s");
}
