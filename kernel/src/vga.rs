//! VGA text mode: an 80x25 writer with colours, a hardware cursor and scrolling.
//!
//! The text buffer is physical 0xB8000, reached through the physical-memory
//! window (`layout::PHYS_OFFSET`). Each cell is a character (code page 437) and
//! an attribute byte (background << 4 | foreground).
//!
//! The writer keeps a copy of the screen (`shadow`) and scrolls from it: while
//! the framebuffer is on, the text buffer is not the VGA's (the video memory
//! belongs to the framebuffer), and [`redraw`] puts the text back when it is
//! off again. A mirror ([`set_mirror`]) gets every byte written, with its
//! attribute, and a form feed (0x0C) when the screen is cleared (the
//! framebuffer console).

use core::fmt;
use core::sync::atomic::{AtomicUsize, Ordering};
use spin::Mutex;
use x86_64::instructions::port::Port;

/// Screen width in cells.
pub const WIDTH: usize = 80;
/// Screen height in cells.
pub const HEIGHT: usize = 25;
const BUFFER_PHYS: u64 = 0xB8000;

/// The 16 VGA text colours.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Color {
    Black = 0, Blue = 1, Green = 2, Cyan = 3, Red = 4, Magenta = 5, Brown = 6, LightGray = 7,
    DarkGray = 8, LightBlue = 9, LightGreen = 10, LightCyan = 11, LightRed = 12, Pink = 13, Yellow = 14, White = 15,
}

impl Color {
    /// The colour with VGA number `n` (0-15).
    pub fn from_index(n: u8) -> Option<Color> {
        const ALL: [Color; 16] = [
            Color::Black, Color::Blue, Color::Green, Color::Cyan, Color::Red, Color::Magenta, Color::Brown, Color::LightGray,
            Color::DarkGray, Color::LightBlue, Color::LightGreen, Color::LightCyan, Color::LightRed, Color::Pink, Color::Yellow, Color::White,
        ];
        ALL.get(n as usize).copied()
    }
}

/// A cursor-tracking writer over the text buffer.
pub struct Writer {
    row: usize,
    col: usize,
    attr: u8,
    shadow: [u16; WIDTH * HEIGHT],
}

/// The screen's writer.
pub static WRITER: Mutex<Writer> = Mutex::new(Writer { row: 0, col: 0, attr: 0x07, shadow: [0x0720; WIDTH * HEIGHT] });

/// The mirror's `fn(byte, attr)` as an address (0: none).
static MIRROR: AtomicUsize = AtomicUsize::new(0);

/// Sends every byte written from now on, with its attribute, to `mirror` too (None: to nobody).
pub fn set_mirror(mirror: Option<fn(u8, u8)>) {
    MIRROR.store(mirror.map_or(0, |f| f as usize), Ordering::SeqCst);
}

fn mirror(byte: u8, attr: u8) {
    let f = MIRROR.load(Ordering::SeqCst);
    if f != 0 {
        // SAFETY: a non-zero value was stored from a `fn(u8, u8)` by `set_mirror`.
        let f: fn(u8, u8) = unsafe { core::mem::transmute(f) };
        f(byte, attr);
    }
}

/// The writer's copy of the screen (cells row by row) and its cursor (row, column).
pub fn contents() -> ([u16; WIDTH * HEIGHT], usize, usize) {
    x86_64::instructions::interrupts::without_interrupts(|| {
        let w = WRITER.lock();
        (w.shadow, w.row, w.col)
    })
}

/// Writes the writer's copy of the screen back to the text buffer and the cursor.
pub fn redraw() {
    x86_64::instructions::interrupts::without_interrupts(|| {
        let w = WRITER.lock();
        for (i, cell) in w.shadow.iter().enumerate() {
            // SAFETY: i is a cell of the screen.
            unsafe { cell_ptr(i / WIDTH, i % WIDTH).write_volatile(*cell) }
        }
        w.update_cursor();
    });
}

fn cell_ptr(row: usize, col: usize) -> *mut u16 {
    (crate::layout::PHYS_OFFSET + BUFFER_PHYS + ((row * WIDTH + col) * 2) as u64) as *mut u16
}

impl Writer {
    /// Sets the colours of what is written next.
    pub fn set_color(&mut self, fg: Color, bg: Color) {
        self.attr = (bg as u8) << 4 | fg as u8;
    }

    /// Blanks the screen and homes the cursor (the mirror gets a form feed, 0x0C).
    pub fn clear(&mut self) {
        mirror(0x0C, self.attr);
        for row in 0..HEIGHT {
            self.clear_row(row);
        }
        self.row = 0;
        self.col = 0;
        self.update_cursor();
    }

    fn put(&mut self, row: usize, col: usize, byte: u8) {
        self.set(row, col, (self.attr as u16) << 8 | byte as u16);
    }

    fn set(&mut self, row: usize, col: usize, cell: u16) {
        self.shadow[row * WIDTH + col] = cell;
        // SAFETY: (row, col) is on screen, and the buffer is mapped through the physical window.
        unsafe { cell_ptr(row, col).write_volatile(cell) }
    }

    fn clear_row(&mut self, row: usize) {
        for col in 0..WIDTH {
            self.put(row, col, b' ');
        }
    }

    fn newline(&mut self) {
        self.col = 0;
        if self.row + 1 < HEIGHT {
            self.row += 1;
            return;
        }
        for row in 1..HEIGHT {
            for col in 0..WIDTH {
                let cell = self.shadow[row * WIDTH + col];
                self.set(row - 1, col, cell);
            }
        }
        self.clear_row(HEIGHT - 1);
    }

    /// Writes one byte: printable code page 437, `\n`, or backspace (0x08).
    pub fn write_byte(&mut self, byte: u8) {
        mirror(byte, self.attr);
        match byte {
            b'\n' => self.newline(),
            b'\r' => self.col = 0,
            0x08 => {
                if self.col > 0 {
                    self.col -= 1;
                    self.put(self.row, self.col, b' ');
                }
            }
            byte => {
                if self.col >= WIDTH {
                    self.newline();
                }
                self.put(self.row, self.col, byte);
                self.col += 1;
            }
        }
    }

    /// Moves the hardware cursor to the writer's position (CRTC registers 0x0E/0x0F).
    pub fn update_cursor(&self) {
        let pos = (self.row * WIDTH + self.col.min(WIDTH - 1)) as u16;
        let mut index: Port<u8> = Port::new(0x3D4);
        let mut data: Port<u8> = Port::new(0x3D5);
        // SAFETY: the CRTC cursor-location registers only move the cursor.
        unsafe {
            index.write(0x0F);
            data.write(pos as u8);
            index.write(0x0E);
            data.write((pos >> 8) as u8);
        }
    }
}

impl fmt::Write for Writer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            let byte = if c.is_ascii() && (c >= ' ' || c == '\n' || c == '\u{8}') { c as u8 } else { 0xFE };
            self.write_byte(byte);
        }
        self.update_cursor();
        Ok(())
    }
}

/// Writes formatted text to the screen with interrupts off.
pub fn write_fmt(args: fmt::Arguments) {
    use fmt::Write;
    x86_64::instructions::interrupts::without_interrupts(|| {
        let _ = WRITER.lock().write_fmt(args);
    });
}

/// Releases the writer's lock whatever holds it.
///
/// # Safety
/// Only for the panic and fault paths, where the holder will never run again
/// (or never touches the writer again before it re-locks it).
pub unsafe fn force_unlock() {
    // SAFETY: the caller's guarantee: whoever held the lock is abandoned.
    unsafe { WRITER.force_unlock() };
}

/// Reads back the character at (row, col), for tests.
pub fn char_at(row: usize, col: usize) -> u8 {
    // SAFETY: the cell is on screen and mapped.
    unsafe { cell_ptr(row, col).read_volatile() as u8 }
}

/// The writer's current row.
pub fn current_row() -> usize {
    x86_64::instructions::interrupts::without_interrupts(|| WRITER.lock().row)
}
