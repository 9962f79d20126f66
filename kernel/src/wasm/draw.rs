//! Drawing for WASM programs, over the framebuffer (`crate::fb`) when there is one.
//!
//! Without a framebuffer the width and height are 0 and drawing does nothing.

/// The framebuffer's width in pixels, switching graphics on (0: none).
pub fn width() -> u32 {
    0
}

/// The framebuffer's height in pixels (0: none).
pub fn height() -> u32 {
    0
}

/// A filled rectangle, clipped to the screen.
pub fn fill_rect(_x: i32, _y: i32, _w: i32, _h: i32, _rgb: u32) {}

/// Fills the screen.
pub fn clear(_rgb: u32) {}
