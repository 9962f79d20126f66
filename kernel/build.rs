//! Build script: relinks the kernel when its linker script changes (cargo does
//! not track files named only in link arguments).

fn main() {
    println!("cargo:rerun-if-changed=linker.ld");
}
