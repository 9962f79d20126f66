//! The framebuffer console: the text console's output drawn with the 8x16 font
//! while graphics are on, in the 16 VGA text colours, scrolling the picture up
//! when it reaches the bottom.

use super::draw::Surface;
use super::font;

/// The 16 VGA text colours as 0xRRGGBB (what QEMU shows for the BIOS palette).
pub const TEXT_COLOURS: [u32; 16] = [
    0x000000, 0x0000AA, 0x00AA00, 0x00AAAA, 0xAA0000, 0xAA00AA, 0xAA5500, 0xAAAAAA,
    0x555555, 0x5555FF, 0x55FF55, 0x55FFFF, 0xFF5555, 0xFF55FF, 0xFFFF55, 0xFFFFFF,
];

/// A text cursor over a surface.
#[derive(Debug, Clone, Copy)]
pub struct Console {
    /// Column of the next character.
    pub col: u32,
    /// Row of the next character.
    pub row: u32,
}

impl Console {
    /// A console at the top-left cell.
    pub const fn new() -> Console {
        Console { col: 0, row: 0 }
    }

    /// Draws text-screen `cells` (`columns` per row, attribute << 8 | code) and
    /// returns a console whose cursor is at (`row`, `col`).
    pub fn show(s: &Surface, cells: &[u16], columns: u32, row: u32, col: u32) -> Console {
        for (i, cell) in cells.iter().enumerate() {
            let at = Console { col: i as u32 % columns, row: i as u32 / columns };
            let attr = (cell >> 8) as u8;
            at.put(s, *cell as u8, TEXT_COLOURS[(attr & 0x0F) as usize], TEXT_COLOURS[(attr >> 4) as usize]);
        }
        Console { col, row }
    }

    /// Columns and rows that fit `s`.
    pub fn size(s: &Surface) -> (u32, u32) {
        (s.width / font::WIDTH as u32, s.height / font::HEIGHT as u32)
    }

    fn newline(&mut self, s: &Surface, bg: u32) {
        self.col = 0;
        let (_, rows) = Console::size(s);
        if self.row + 1 < rows {
            self.row += 1;
        } else {
            s.scroll_up(font::HEIGHT as u32, bg);
        }
    }

    /// Writes one byte of the text console's output (code page 437, `\n`, `\r`,
    /// backspace, form feed: clear and home) with the VGA attribute `attr`
    /// (background << 4 | foreground).
    pub fn write_byte(&mut self, s: &Surface, byte: u8, attr: u8) {
        let (fg, bg) = (TEXT_COLOURS[(attr & 0x0F) as usize], TEXT_COLOURS[(attr >> 4) as usize]);
        let (cols, _) = Console::size(s);
        match byte {
            b'\n' => self.newline(s, bg),
            b'\r' => self.col = 0,
            0x0C => {
                s.clear(bg);
                (self.col, self.row) = (0, 0);
            }
            0x08 => {
                if self.col > 0 {
                    self.col -= 1;
                    self.put(s, b' ', fg, bg);
                }
            }
            byte => {
                if self.col >= cols {
                    self.newline(s, bg);
                }
                self.put(s, byte, fg, bg);
                self.col += 1;
            }
        }
    }

    fn put(&self, s: &Surface, byte: u8, fg: u32, bg: u32) {
        let (x, y) = (self.col as i64 * font::WIDTH as i64, self.row as i64 * font::HEIGHT as i64);
        s.glyph(x, y, font::glyph(byte), fg, bg);
    }
}
