//! Drawing for WASM programs, over the framebuffer (`crate::fb`).
//!
//! The first call of [`width`] or [`height`] switches graphics on (as the
//! shell's first `draw` does) and makes the WASM program the framebuffer's
//! owner; without a framebuffer (no standard VGA on PCI) they are 0 and
//! drawing does nothing.

use crate::fb;

/// Switches the framebuffer on for the program; whether it is on.
fn take() -> bool {
    if !fb::is_on() && fb::enable().is_err() {
        return false;
    }
    fb::set_owner(fb::Owner::Wasm);
    true
}

/// The framebuffer's width in pixels, switching graphics on (0: none).
pub fn width() -> u32 {
    if take() { fb::width() } else { 0 }
}

/// The framebuffer's height in pixels, switching graphics on (0: none).
pub fn height() -> u32 {
    if take() { fb::height() } else { 0 }
}

/// A filled rectangle, clipped to the screen.
pub fn fill_rect(x: i32, y: i32, w: i32, h: i32, rgb: u32) {
    fb::fill_rect(x as i64, y as i64, w as i64, h as i64, rgb & 0xFF_FFFF);
}

/// Fills the screen.
pub fn clear(rgb: u32) {
    fb::clear(rgb & 0xFF_FFFF);
}
