//! The 8x16 code page 437 font: the glyphs of the VGA BIOS that QEMU's standard
//! VGA runs (SeaBIOS's `vgabios-stdvga.bin`, read by `build.rs` at build time).

/// Bytes per glyph (one per row, bit 7 leftmost).
pub const HEIGHT: usize = 16;
/// Glyph width in pixels.
pub const WIDTH: usize = 8;

static FONT: &[u8; 4096] = include_bytes!(concat!(env!("OUT_DIR"), "/font8x16.bin"));

/// The 16 rows of the glyph of code page 437 character `code`.
pub fn glyph(code: u8) -> &'static [u8] {
    let at = code as usize * HEIGHT;
    &FONT[at..at + HEIGHT]
}

/// The whole font (256 glyphs of 16 rows), as VGA plane 2 wants it.
pub fn all() -> &'static [u8; 4096] {
    FONT
}
