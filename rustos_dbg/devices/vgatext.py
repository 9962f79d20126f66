"""The VGA text screen as pixels, drawn the way QEMU's VGA draws it.

Contract: :func:`render_text` (the 2000 ``(code, attr)`` cells, the
attribute-controller and CRTC registers, a :class:`Cursor`) returns a 720x400
RGB Pillow image equal, pixel for pixel, to QEMU's ``screendump`` of the same
text screen:

* glyphs are the 8x16 font that the VGA BIOS loads into plane 2, read from
  the installed SeaBIOS VGA ROM (:func:`rom_font`; Debian's ``seabios``
  package); the emulator has no plane 2 of its own, so a font the guest loads
  is not seen;
* cells are 9x16: the ninth column repeats the eighth for the codes
  0xB0-0xDF (QEMU's range for VGA's line-graphics rule) when attribute mode
  control bit 2 is set, else it is background;
* the 16 colours go through the attribute palette registers (and colour
  select) into the BIOS's default 256-colour DAC, whose 6-bit values are
  widened to 8 bits as QEMU widens them (``v << 2`` with the low bit copied
  into the two new bits: 0x2A -> 0xA8, 0x15 -> 0x57, 0x3F -> 0xFF);
* the cursor fills the rows cursor start..cursor end (CRTC 0x0A/0x0B) of its
  cell, all nine columns, in the cell's foreground colour.

Without the ROM (:data:`ROM_PATHS`), :func:`rom_font` raises
:class:`FontUnavailable` (one line naming the package).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

COLS, ROWS = 80, 25
CELL_W, CELL_H = 9, 16
GLYPHS = 256

#: Where Debian's seabios package installs the VGA BIOS of QEMU's standard VGA.
ROM_PATHS = (Path("/usr/share/seabios/vgabios-stdvga.bin"), Path("/usr/share/qemu/vgabios-stdvga.bin"))
#: Glyph 'A' of the IBM VGA 8x16 font: how the font is found inside the ROM.
_GLYPH_A = bytes((0x00, 0x00, 0x10, 0x38, 0x6C, 0xC6, 0xC6, 0xFE, 0xC6, 0xC6, 0xC6, 0xC6, 0x00, 0x00, 0x00, 0x00))
#: Attribute mode control (index 0x10) bits, colour select register index.
_MODE_CONTROL, _LINE_GRAPHICS, _BLINK, _P54_SELECT, _COLOUR_SELECT = 0x10, 0x04, 0x08, 0x80, 0x14
_CURSOR_START, _CURSOR_END = 0x0A, 0x0B


class FontUnavailable(Exception):
    """The VGA ROM with the text font is not installed."""


class TextCursor(NamedTuple):
    """Where the cursor is drawn: row, column, shown or not."""

    row: int
    col: int
    visible: bool


@lru_cache(maxsize=None)
def rom_font(path: Path | None = None) -> bytes:
    """The 256 glyphs x 16 rows of the VGA BIOS's 8x16 font (4096 bytes, bit 7 leftmost)."""
    candidates = (path,) if path is not None else ROM_PATHS
    for rom in candidates:
        try:
            raw = rom.read_bytes()
        except OSError:
            continue
        at = raw.find(_GLYPH_A)
        base = at - 0x41 * CELL_H
        font = raw[base:base + GLYPHS * CELL_H] if at >= 0x41 * CELL_H else b""
        if len(font) == GLYPHS * CELL_H and not any(font[:CELL_H]) and font[0xDB * CELL_H + 2] == 0xFF:
            return font
        raise FontUnavailable(f"no 8x16 VGA font found in '{rom}'")
    raise FontUnavailable("the VGA text font comes from SeaBIOS's VGA ROM: install the 'seabios' package "
                          f"({ROM_PATHS[0]})")


def widen6(v: int) -> int:
    """A 6-bit DAC value as 8 bits, as QEMU widens it."""
    v &= 0x3F
    low = v & 1
    return v << 2 | low << 1 | low


def default_dac(index: int) -> tuple[int, int, int]:
    """Entry ``index`` (0-63) of the BIOS's default DAC in text mode (6-bit r, g, b): the
    EGA colours, bit 0/1/2 two thirds of blue/green/red, bits 3/4/5 one third."""
    return tuple(((index >> hi) & 1) * 0x2A + ((index >> lo) & 1) * 0x15 for hi, lo in ((2, 5), (1, 4), (0, 3)))


def palette16(attr_regs) -> tuple[tuple[int, int, int], ...]:
    """The 16 text colours (8-bit RGB) through the attribute palette registers into the DAC."""
    colours = []
    for i in range(16):
        v = attr_regs[i]
        if attr_regs[_MODE_CONTROL] & _P54_SELECT:
            v = (attr_regs[_COLOUR_SELECT] & 0x0F) << 4 | (v & 0x0F)
        else:
            v = (attr_regs[_COLOUR_SELECT] & 0x0C) << 4 | (v & 0x3F)
        colours.append(tuple(widen6(c) for c in default_dac(v & 0x3F)) if v < 64 else (0, 0, 0))
    return tuple(colours)


def render_text(cells, attr_regs, crtc, cursor: TextCursor, font: bytes | None = None):
    """The text screen as a 720x400 RGB image (see the module's docstring)."""
    from PIL import Image

    font = rom_font() if font is None else font
    colours = palette16(attr_regs)
    line_graphics = bool(attr_regs[_MODE_CONTROL] & _LINE_GRAPHICS)
    blink = bool(attr_regs[_MODE_CONTROL] & _BLINK)
    width = COLS * CELL_W
    pixels = bytearray(width * ROWS * CELL_H * 3)
    for i, (code, attr) in enumerate(cells[:COLS * ROWS]):
        fg, bg = colours[attr & 0x0F], colours[(attr >> 4) & (0x07 if blink else 0x0F)]
        x, y = (i % COLS) * CELL_W, (i // COLS) * CELL_H
        glyph = font[code * CELL_H:(code + 1) * CELL_H]
        ninth = line_graphics and 0xB0 <= code <= 0xDF
        rows = [_row(bits, ninth, fg, bg) for bits in glyph]
        if cursor.visible and i == cursor.row * COLS + cursor.col:
            top, bottom = crtc[_CURSOR_START] & 0x1F, min(crtc[_CURSOR_END] & 0x1F, CELL_H - 1)
            for r in range(top, bottom + 1):
                rows[r] = bytes(fg) * CELL_W
        for r, row in enumerate(rows):
            at = ((y + r) * width + x) * 3
            pixels[at:at + CELL_W * 3] = row
    return Image.frombytes("RGB", (width, ROWS * CELL_H), bytes(pixels))


def _row(bits: int, ninth: bool, fg, bg) -> bytes:
    out = b"".join(bytes(fg if bits & (0x80 >> b) else bg) for b in range(8))
    return out + bytes(fg if ninth and bits & 1 else bg)
