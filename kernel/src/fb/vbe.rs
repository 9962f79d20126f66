//! The Bochs VBE display interface of QEMU's standard VGA: index port 0x1CE,
//! data port 0x1CF, 16-bit registers.

use x86_64::instructions::port::Port;

const INDEX: u16 = 0x1CE;
const DATA: u16 = 0x1CF;
const ID: u16 = 0;
const XRES: u16 = 1;
const YRES: u16 = 2;
const BPP: u16 = 3;
const ENABLE: u16 = 4;
const VIRT_WIDTH: u16 = 6;
const ENABLED: u16 = 0x01;
const GETCAPS: u16 = 0x02;
const LFB_ENABLED: u16 = 0x40;

fn read(reg: u16) -> u16 {
    let mut index: Port<u16> = Port::new(INDEX);
    let mut data: Port<u16> = Port::new(DATA);
    // SAFETY: selecting and reading a VBE register has no other effect.
    unsafe {
        index.write(reg);
        data.read()
    }
}

fn write(reg: u16, value: u16) {
    let mut index: Port<u16> = Port::new(INDEX);
    let mut data: Port<u16> = Port::new(DATA);
    // SAFETY: only the framebuffer module programs the display.
    unsafe {
        index.write(reg);
        data.write(value);
    }
}

/// The mode the device set.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    pub width: u32,
    pub height: u32,
    pub bpp: u32,
    /// Bytes per line.
    pub pitch: u32,
}

/// True when the interface answers with a Bochs VBE ID (0xB0C0-0xB0C5).
pub fn present() -> bool {
    (0xB0C0..=0xB0C5).contains(&read(ID))
}

/// Sets `width` x `height` x `bpp` with the linear framebuffer on (clamped to the
/// device's maxima) and returns the mode the device made of it.
pub fn set_mode(width: u16, height: u16, bpp: u16) -> Mode {
    write(ENABLE, GETCAPS);
    let (max_x, max_y) = (read(XRES), read(YRES));
    write(ENABLE, 0);
    write(XRES, width.min(max_x));
    write(YRES, height.min(max_y));
    write(BPP, bpp);
    write(ENABLE, ENABLED | LFB_ENABLED);
    let bpp = read(BPP) as u32;
    Mode { width: read(XRES) as u32, height: read(YRES) as u32, bpp, pitch: read(VIRT_WIDTH) as u32 * bpp.div_ceil(8) }
}

/// Turns the VBE display off (the VGA registers stay as VBE left them).
pub fn disable() {
    write(ENABLE, 0);
}
