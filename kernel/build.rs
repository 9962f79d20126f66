//! Build script: relinks the kernel when its linker script changes (cargo does
//! not track files named only in link arguments), and turns the gdb support
//! script (`gdb/rustos.py`) into the assembly of its `.debug_gdb_scripts`
//! entry (`$OUT_DIR/gdb_scripts.s`, included by `src/gdb.rs`), and copies the
//! user programs that `scripts/build-kernel` built (`$RUSTOS_USER_DIR`) to
//! `$OUT_DIR/user/` for `src/process/programs.rs` to embed; without that
//! variable (clippy, a bare cargo build) the images are empty, and the loader
//! refuses them as "not an ELF file".

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
    user_programs(Path::new(&out));
}

/// The user programs the kernel embeds (its fallback when no disk answers).
const PROGRAMS: [&str; 3] = ["hello", "spin", "nullderef"];

fn user_programs(out: &Path) {
    println!("cargo:rerun-if-env-changed=RUSTOS_USER_DIR");
    let dir = out.join("user");
    std::fs::create_dir_all(&dir).expect("create $OUT_DIR/user");
    let source = std::env::var("RUSTOS_USER_DIR").ok();
    for name in PROGRAMS {
        let image = match &source {
            Some(src) => {
                let path = Path::new(src).join(name);
                println!("cargo:rerun-if-changed={}", path.display());
                std::fs::read(&path).unwrap_or_default()
            }
            None => Vec::new(),
        };
        std::fs::write(dir.join(name), image).expect("write a user program");
    }
}
