//! Drawing on a 32-bit-per-pixel surface: pixels, filled rectangles, Bresenham
//! lines, filled midpoint circles. Everything is clipped to the surface, so a
//! shape partly off screen draws its visible part.

/// A 32-bpp linear surface (0x00RRGGBB per pixel) in memory.
#[derive(Debug, Clone, Copy)]
pub struct Surface {
    base: *mut u32,
    /// Pixels per line.
    pub width: u32,
    /// Lines.
    pub height: u32,
    /// Pixels from one line to the next.
    stride: u32,
}

// SAFETY: the surface is memory-mapped video memory; its users serialise access (the `fb` lock).
unsafe impl Send for Surface {}

impl Surface {
    /// A surface over `height` lines of `pitch` bytes at `base`.
    ///
    /// # Safety
    /// `base` must map at least `pitch * height` writable bytes for as long as the
    /// surface is used, `pitch >= 4 * width` and `pitch` a multiple of 4.
    pub const unsafe fn new(base: *mut u32, width: u32, height: u32, pitch: u32) -> Surface {
        Surface { base, width, height, stride: pitch / 4 }
    }

    /// Sets pixel (`x`, `y`) when it is on the surface.
    pub fn pixel(&self, x: i64, y: i64, rgb: u32) {
        if x >= 0 && y >= 0 && (x as u64) < self.width as u64 && (y as u64) < self.height as u64 {
            // SAFETY: (x, y) is on the surface, which `new`'s contract maps.
            unsafe { self.base.add(y as usize * self.stride as usize + x as usize).write_volatile(rgb) }
        }
    }

    /// Fills the rectangle of `w` x `h` pixels at (`x`, `y`), clipped.
    pub fn fill_rect(&self, x: i64, y: i64, w: i64, h: i64, rgb: u32) {
        let (x0, y0) = (x.max(0), y.max(0));
        let (x1, y1) = ((x + w).min(self.width as i64), (y + h).min(self.height as i64));
        for row in y0..y1 {
            // SAFETY: row is on the surface, and so are columns x0..x1.
            let line = unsafe { self.base.add(row as usize * self.stride as usize) };
            for col in x0..x1 {
                // SAFETY: as above.
                unsafe { line.add(col as usize).write_volatile(rgb) }
            }
        }
    }

    /// Fills the whole surface.
    pub fn clear(&self, rgb: u32) {
        self.fill_rect(0, 0, self.width as i64, self.height as i64, rgb);
    }

    /// A line from (`x0`, `y0`) to (`x1`, `y1`), both ends included (Bresenham's
    /// algorithm, integer error term over all octants).
    pub fn line(&self, mut x0: i64, mut y0: i64, x1: i64, y1: i64, rgb: u32) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let mut err = dx + dy;
        loop {
            self.pixel(x0, y0, rgb);
            if x0 == x1 && y0 == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x0 += sx;
            }
            if e2 <= dx {
                err += dx;
                y0 += sy;
            }
        }
    }

    /// A filled circle of radius `r` around (`cx`, `cy`): the midpoint circle
    /// algorithm walks one octant, and each step fills the four horizontal spans
    /// it mirrors to.
    pub fn circle(&self, cx: i64, cy: i64, r: i64, rgb: u32) {
        let (mut x, mut y, mut d) = (r, 0i64, 1 - r);
        while x >= y {
            self.fill_rect(cx - x, cy + y, 2 * x + 1, 1, rgb);
            self.fill_rect(cx - x, cy - y, 2 * x + 1, 1, rgb);
            self.fill_rect(cx - y, cy + x, 2 * y + 1, 1, rgb);
            self.fill_rect(cx - y, cy - x, 2 * y + 1, 1, rgb);
            y += 1;
            if d < 0 {
                d += 2 * y + 1;
            } else {
                x -= 1;
                d += 2 * (y - x) + 1;
            }
        }
    }

    /// Moves lines `from..height` up to line 0 and fills the freed lines at the bottom.
    pub fn scroll_up(&self, lines: u32, rgb: u32) {
        let lines = lines.min(self.height);
        let n = ((self.height - lines) * self.stride) as usize;
        // SAFETY: both ranges lie inside the surface; `copy` allows overlap.
        unsafe { core::ptr::copy(self.base.add((lines * self.stride) as usize), self.base, n) }
        self.fill_rect(0, (self.height - lines) as i64, self.width as i64, lines as i64, rgb);
    }

    /// Draws an 8-pixel-wide glyph of `rows` (bit 7 leftmost) at (`x`, `y`).
    pub fn glyph(&self, x: i64, y: i64, rows: &[u8], fg: u32, bg: u32) {
        for (dy, bits) in rows.iter().enumerate() {
            for dx in 0..8 {
                let on = bits & (0x80 >> dx) != 0;
                self.pixel(x + dx, y + dy as i64, if on { fg } else { bg });
            }
        }
    }
}
