//! Build script: relinks the kernel when its linker script changes (cargo does
//! not track files named only in link arguments), and turns the gdb support
//! script (`gdb/rustos.py`) into the assembly of its `.debug_gdb_scripts`
//! entry (`$OUT_DIR/gdb_scripts.s`, included by `src/gdb.rs`), and copies the
//! user programs that `scripts/build-kernel` built (`$RUSTOS_USER_DIR`) to
//! `$OUT_DIR/user/` for `src/process/programs.rs` to embed; without that
//! variable (clippy, a bare cargo build) the images are empty, and the loader
//! refuses them as "not an ELF file". It also takes the 8x16 font of the
//! framebuffer console from the VGA BIOS ROM (`$OUT_DIR/font8x16.bin`).

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
    vga_font(Path::new(&out));
}

/// Where Debian's `seabios` package installs the VGA BIOS of QEMU's standard VGA.
const VGA_ROMS: [&str; 2] = ["/usr/share/seabios/vgabios-stdvga.bin", "/usr/share/qemu/vgabios-stdvga.bin"];
/// Glyph 'A' of the IBM VGA 8x16 font: how the font is found inside the ROM.
const GLYPH_A: [u8; 16] = [0, 0, 0x10, 0x38, 0x6C, 0xC6, 0xC6, 0xFE, 0xC6, 0xC6, 0xC6, 0xC6, 0, 0, 0, 0];

/// Writes `$OUT_DIR/font8x16.bin`: the 256 glyphs x 16 rows of the 8x16 font in
/// the VGA BIOS ROM (`$RUSTOS_VGA_ROM`, else the seabios package's), for `src/fb/font.rs`.
fn vga_font(out: &Path) {
    println!("cargo:rerun-if-env-changed=RUSTOS_VGA_ROM");
    let candidates: Vec<String> = match std::env::var("RUSTOS_VGA_ROM") {
        Ok(path) => vec![path],
        Err(_) => VGA_ROMS.iter().map(|p| p.to_string()).collect(),
    };
    for rom in &candidates {
        let Ok(raw) = std::fs::read(rom) else { continue };
        println!("cargo:rerun-if-changed={}", rom);
        let at = raw.windows(16).position(|w| w == GLYPH_A).expect("no 8x16 font in the VGA ROM");
        let base = at - 0x41 * 16;
        std::fs::write(out.join("font8x16.bin"), &raw[base..base + 4096]).expect("write font8x16.bin");
        return;
    }
    panic!("the framebuffer font comes from SeaBIOS's VGA ROM: install Debian's 'seabios' package ({})", VGA_ROMS[0]);
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
