//! Back to VGA text mode after the Bochs VBE display: the VGA registers of BIOS
//! mode 3 (80x25 colour text), which enabling VBE changed, and the font in plane 2,
//! which the framebuffer overwrote (the video memory is one).

use super::font;
use x86_64::instructions::port::Port;

/// CRTC registers 0x00-0x18 of mode 3.
const CRTC: [u8; 25] = [
    0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E,
    0x00, 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF,
];
/// Graphics controller registers 0-8 of mode 3.
const GC: [u8; 9] = [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF];
/// Sequencer registers 1-4 of mode 3.
const SEQ: [u8; 4] = [0x00, 0x03, 0x00, 0x02];

fn out(index_port: u16, index: u8, value: u8) {
    let mut i: Port<u8> = Port::new(index_port);
    let mut d: Port<u8> = Port::new(index_port + 1);
    // SAFETY: VGA register writes change only what the screen shows.
    unsafe {
        i.write(index);
        d.write(value);
    }
}

/// Loads the 8x16 font into plane 2 (32 bytes per glyph) through the window at 0xA0000.
fn load_font() {
    out(0x3C4, 2, 0x04); // write plane 2 only
    out(0x3C4, 4, 0x07); // sequential addressing, no odd/even
    out(0x3CE, 4, 0x02); // read plane 2
    out(0x3CE, 5, 0x00);
    out(0x3CE, 6, 0x04); // memory map 0xA0000, 64 KiB, graphics off
    let window = (crate::layout::PHYS_OFFSET + 0xA0000) as *mut u8;
    for (code, glyph) in font::all().chunks(font::HEIGHT).enumerate() {
        for (row, bits) in glyph.iter().enumerate() {
            // SAFETY: 0xA0000 + 8 KiB is in the physical window (low RAM, or the VGA window).
            unsafe { window.add(code * 32 + row).write_volatile(*bits) }
        }
    }
}

/// Puts the VGA back in mode 3 with its font (the caller redraws the text).
pub fn restore() {
    for (i, v) in SEQ.iter().enumerate() {
        out(0x3C4, i as u8 + 1, *v);
    }
    load_font();
    for (i, v) in SEQ.iter().enumerate() {
        out(0x3C4, i as u8 + 1, *v);
    }
    for (i, v) in GC.iter().enumerate() {
        out(0x3CE, i as u8, *v);
    }
    out(0x3D4, 0x11, CRTC[0x11] & 0x7F); // unlock CRTC 0-7
    for (i, v) in CRTC.iter().enumerate() {
        out(0x3D4, i as u8, *v);
    }
}
