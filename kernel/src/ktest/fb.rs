//! Kernel tests of the framebuffer: the drawing primitives on a surface in RAM,
//! and the PCI enumeration that finds QEMU's standard VGA.

use crate::fb::{color, draw::Surface, pci};
use alloc::vec;

const W: u32 = 32;
const H: u32 = 24;

/// The pixels set to `rgb` on a `W` x `H` surface after `f` drew on it.
fn drawn(f: impl FnOnce(&Surface)) -> alloc::vec::Vec<(u32, u32)> {
    let mut pixels = vec![0u32; (W * H) as usize];
    // SAFETY: the vector holds W * H pixels, lines of 4 * W bytes, and outlives the surface.
    let s = unsafe { Surface::new(pixels.as_mut_ptr(), W, H, 4 * W) };
    f(&s);
    (0..W * H).filter(|i| pixels[*i as usize] == 0xABCDEF).map(|i| (i % W, i / W)).collect()
}

/// Rectangles fill exactly their pixels and are clipped at the edges.
pub fn fb_rect_and_clipping() {
    assert_eq!(drawn(|s| s.fill_rect(2, 3, 4, 2, 0xABCDEF)).len(), 8);
    assert_eq!(drawn(|s| s.fill_rect(30, 22, 10, 10, 0xABCDEF)), [(30, 22), (31, 22), (30, 23), (31, 23)]);
    assert!(drawn(|s| s.fill_rect(-5, -5, 3, 3, 0xABCDEF)).is_empty());
}

/// Bresenham lines include both ends and one pixel per step of the major axis.
pub fn fb_bresenham_line() {
    let line = drawn(|s| s.line(0, 0, 9, 3, 0xABCDEF));
    assert_eq!(line.len(), 10);
    assert!(line.contains(&(0, 0)) && line.contains(&(9, 3)));
    assert_eq!(drawn(|s| s.line(5, 5, 5, 5, 0xABCDEF)), [(5, 5)]);
    assert_eq!(drawn(|s| s.line(3, 1, 3, 6, 0xABCDEF)).len(), 6);
}

/// Filled midpoint circles are symmetric and as wide as their diameter.
pub fn fb_midpoint_circle() {
    let disc = drawn(|s| s.circle(12, 12, 5, 0xABCDEF));
    for (x, y) in &disc {
        assert!(disc.contains(&(24 - x, *y)) && disc.contains(&(*x, 24 - y)), "not symmetric at {},{}", x, y);
        assert!((*x as i64 - 12).pow(2) + (*y as i64 - 12).pow(2) <= 6 * 6);
    }
    assert!(disc.contains(&(7, 12)) && disc.contains(&(17, 12)) && !disc.contains(&(6, 12)));
    assert_eq!(drawn(|s| s.circle(3, 3, 0, 0xABCDEF)), [(3, 3)]);
}

/// Colour names and 0xRRGGBB.
pub fn fb_colours() {
    assert_eq!(color::parse("red"), Some(0xFF0000));
    assert_eq!(color::parse("Cyan"), Some(0x00FFFF));
    assert_eq!(color::parse("0x123abc"), Some(0x123ABC));
    assert_eq!(color::parse("0x1234567"), None);
    assert_eq!(color::parse("mauve"), None);
    assert_eq!(color::parse("0x+12"), None);
}

/// PCI enumeration finds the standard VGA at 00:02.0 with its 16 MiB BAR0 at 0xFD000000.
pub fn fb_pci_finds_the_vga() {
    let slot = pci::find(0x1234, 0x1111).expect("no PCI 1234:1111");
    assert_eq!((slot.bus, slot.device, slot.function), (0, 2, 0));
    assert_eq!(slot.read(0x08) >> 8, 0x030000);
    assert_eq!(slot.read(0x10) & 0xFFFF_FFF0, 0xFD00_0000);
    assert_eq!(slot.bar_size(0), 16 << 20);
    assert_eq!(slot.read(0x10) & 0xFFFF_FFF0, 0xFD00_0000, "BAR0 put back after sizing");
    assert!(pci::find(0x1234, 0x9999).is_none());
}
