"""VGA in 80x25 colour text mode.

The text buffer is guest RAM at physical 0xB8000 (plus the CRTC start
address); the device reads it through ``read_phys(addr, n) -> bytes``.
Ports 0x3C0-0x3DF: the CRTC at 0x3D4 (index) / 0x3D5 (data) keeps all its
registers, of which the cursor start (0x0A, bit 5 hides the cursor), cursor
end (0x0B), start address (0x0C/0x0D) and cursor location (0x0E/0x0F) are
used; the attribute controller (0x3C0/0x3C1, mode control bit 3 = blink
instead of bright backgrounds), sequencer, graphics controller, misc output
and DAC ports keep what is written; 0x3DA alternates retrace / display
(bits 3 and 0) on every read, so that waiting loops end, and resets the
attribute flip-flop.  Nothing here is timed.

Views: ``cells()`` (2000 ``(code, attr)`` pairs, row-major), ``screen_text()``
(25 lines decoded from code page 437, trailing spaces stripped),
``cursor`` (row, col, visible), ``render_image()`` / ``render_png(path)``
(720x400 as QEMU's ``screendump`` draws it: the VGA ROM's 8x16 font in 9x16
cells, see :mod:`.vgatext`) and ``render_ansi()`` (terminal SGR escapes).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Callable, NamedTuple

from .base import Device
from .vgatext import palette16

TEXT_BASE = 0xB8000
COLS, ROWS = 80, 25
CELL_W, CELL_H = 9, 16

#: Attribute controller registers of BIOS mode 3 (palette 0-15, mode control, ...).
_MODE3_ATTR = (0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39,
               0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00)
#: The 16 standard VGA text colours (RGB), by attribute colour index, as QEMU shows them.
PALETTE = palette16(_MODE3_ATTR)
COLOUR_NAMES = (
    "black", "blue", "green", "cyan", "red", "magenta", "brown", "light grey",
    "dark grey", "light blue", "light green", "light cyan", "light red",
    "pink", "yellow", "white",
)

#: Code page 437 as Unicode, with the glyphs of the control codes.
CP437 = (
    " ☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼"
    + "".join(chr(c) for c in range(0x20, 0x7F)) + "⌂"
    + bytes(range(0x80, 0x100)).decode("cp437")
)

#: VGA colour index (blue, green, red bits) to ANSI colour (red, green, blue).
_ANSI = (0, 4, 2, 6, 1, 5, 3, 7)

#: CRTC registers of BIOS mode 3.
_MODE3_CRTC = (
    0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E,
    0x00, 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF,
)


class CrtcReg(IntEnum):
    """CRTC register indices that the text view uses."""

    CURSOR_START = 0x0A
    CURSOR_END = 0x0B
    START_HIGH = 0x0C
    START_LOW = 0x0D
    CURSOR_HIGH = 0x0E
    CURSOR_LOW = 0x0F
    CURSOR_DISABLE = 0x20


class VgaPort(IntEnum):
    """VGA I/O ports."""

    ATTR_INDEX = 0x3C0
    ATTR_READ = 0x3C1
    MISC_WRITE = 0x3C2
    SEQ_INDEX = 0x3C4
    SEQ_DATA = 0x3C5
    DAC_READ_INDEX = 0x3C7
    DAC_WRITE_INDEX = 0x3C8
    DAC_DATA = 0x3C9
    MISC_READ = 0x3CC
    GC_INDEX = 0x3CE
    GC_DATA = 0x3CF
    CRTC_INDEX = 0x3D4
    CRTC_DATA = 0x3D5
    INPUT_STATUS = 0x3DA


ATTR_MODE_CONTROL, ATTR_BLINK = 0x10, 0x08


class Cursor(NamedTuple):
    """Text cursor position and visibility."""

    row: int
    col: int
    visible: bool


class VgaText(Device):
    """The text-mode VGA adapter."""

    name = "vga"
    ports = tuple(range(0x3C0, 0x3E0))
    state_fields = ("crtc", "crtc_index", "attr", "attr_index", "attr_flip",
                    "seq", "seq_index", "gc", "gc_index", "misc", "status_toggle",
                    "dac_index")

    def __init__(self, read_phys: Callable[[int, int], bytes] | None = None,
                 base: int = TEXT_BASE) -> None:
        """Create the adapter reading text memory at ``base`` via ``read_phys``."""
        super().__init__()
        self.read_phys = read_phys
        self.base = base
        self.crtc = list(_MODE3_CRTC)
        self.crtc_index = 0
        self.attr = list(_MODE3_ATTR)
        self.attr_index, self.attr_flip = 0, False
        self.seq, self.seq_index = [0x03, 0x00, 0x03, 0x00, 0x02], 0
        self.gc, self.gc_index = [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF], 0
        self.misc = 0x67
        self.status_toggle = False
        self.dac_index = 0

    # -- guest accesses -------------------------------------------------------

    def read(self, port: int, size: int) -> int:
        """Guest IN from a VGA port."""
        if port == VgaPort.CRTC_INDEX:
            return self.crtc_index
        if port == VgaPort.CRTC_DATA:
            return self.crtc[self.crtc_index] if self.crtc_index < len(self.crtc) else 0xFF
        if port == VgaPort.INPUT_STATUS:
            self.attr_flip = False
            self.status_toggle = not self.status_toggle
            return 0x09 if self.status_toggle else 0x00
        if port == VgaPort.ATTR_INDEX:
            return self.attr_index
        if port == VgaPort.ATTR_READ:
            return self.attr[self.attr_index] if self.attr_index < len(self.attr) else 0
        if port == VgaPort.MISC_READ:
            return self.misc
        if port == VgaPort.SEQ_INDEX:
            return self.seq_index
        if port == VgaPort.SEQ_DATA:
            return self.seq[self.seq_index] if self.seq_index < len(self.seq) else 0
        if port == VgaPort.GC_INDEX:
            return self.gc_index
        if port == VgaPort.GC_DATA:
            return self.gc[self.gc_index] if self.gc_index < len(self.gc) else 0
        if port == VgaPort.DAC_WRITE_INDEX:
            return self.dac_index
        return 0

    def write(self, port: int, size: int, value: int) -> None:
        """Guest OUT to a VGA port."""
        if port == VgaPort.CRTC_INDEX:
            self.crtc_index = value
        elif port == VgaPort.CRTC_DATA:
            if self.crtc_index < len(self.crtc):
                self.crtc[self.crtc_index] = value
        elif port == VgaPort.ATTR_INDEX:
            if not self.attr_flip:
                self.attr_index = value & 0x1F
            elif self.attr_index < len(self.attr):
                self.attr[self.attr_index] = value
            self.attr_flip = not self.attr_flip
        elif port == VgaPort.MISC_WRITE:
            self.misc = value
        elif port == VgaPort.SEQ_INDEX:
            self.seq_index = value
        elif port == VgaPort.SEQ_DATA and self.seq_index < len(self.seq):
            self.seq[self.seq_index] = value
        elif port == VgaPort.GC_INDEX:
            self.gc_index = value
        elif port == VgaPort.GC_DATA and self.gc_index < len(self.gc):
            self.gc[self.gc_index] = value
        elif port in (VgaPort.DAC_WRITE_INDEX, VgaPort.DAC_READ_INDEX):
            self.dac_index = value

    # -- views ------------------------------------------------------------------

    @property
    def start_address(self) -> int:
        """CRTC start address, in character cells."""
        return self.crtc[CrtcReg.START_HIGH] << 8 | self.crtc[CrtcReg.START_LOW]

    @property
    def cursor(self) -> Cursor:
        """Cursor row/column on screen and whether it is shown."""
        loc = self.crtc[CrtcReg.CURSOR_HIGH] << 8 | self.crtc[CrtcReg.CURSOR_LOW]
        loc -= self.start_address
        row, col = divmod(loc, COLS)
        hidden = self.crtc[CrtcReg.CURSOR_START] & CrtcReg.CURSOR_DISABLE
        return Cursor(row, col, not hidden and 0 <= loc < COLS * ROWS)

    @property
    def blink(self) -> bool:
        """True if attribute bit 7 means blink (8 background colours)."""
        return bool(self.attr[ATTR_MODE_CONTROL] & ATTR_BLINK)

    def memory(self) -> bytes:
        """The 4000 bytes of the visible text buffer."""
        n = COLS * ROWS * 2
        if self.read_phys is None:
            return bytes(n)
        data = bytes(self.read_phys(self.base + 2 * self.start_address, n))
        return data.ljust(n, b"\0")[:n]

    def cells(self) -> list[tuple[int, int]]:
        """The 2000 (character code, attribute) pairs, row by row."""
        mem = self.memory()
        return list(zip(mem[0::2], mem[1::2]))

    def colours(self, attr: int) -> tuple[int, int]:
        """(foreground, background) colour indices of an attribute byte."""
        return attr & 0x0F, (attr >> 4) & (0x07 if self.blink else 0x0F)

    def screen_text(self) -> str:
        """The screen as 25 lines of Unicode, trailing spaces stripped."""
        mem = self.memory()
        lines = []
        for row in range(ROWS):
            codes = mem[row * COLS * 2:(row + 1) * COLS * 2:2]
            lines.append("".join(CP437[c] for c in codes).replace("\xa0", " ").rstrip(" "))
        return "\n".join(lines)

    def render_ansi(self) -> str:
        """The screen with ANSI SGR colour escapes, one line per row."""
        cells, out = self.cells(), []
        for row in range(ROWS):
            line, current = [], None
            for code, attr in cells[row * COLS:(row + 1) * COLS]:
                fg, bg = self.colours(attr)
                if (fg, bg) != current:
                    fg_sgr = (30 if fg < 8 else 90) + _ANSI[fg & 7]
                    bg_sgr = (40 if bg < 8 else 100) + _ANSI[bg & 7]
                    line.append(f"\x1b[{fg_sgr};{bg_sgr}m")
                    current = (fg, bg)
                line.append(CP437[code])
            out.append("".join(line) + "\x1b[0m")
        return "\n".join(out)

    def render_image(self):
        """The screen as a 720x400 RGB Pillow image, as QEMU's ``screendump`` draws it
        (:mod:`.vgatext`: the VGA ROM's font, 9x16 cells, QEMU's colours and cursor)."""
        from .vgatext import TextCursor, render_text  # Pillow only when drawing

        return render_text(self.cells(), self.attr, self.crtc, TextCursor(*self.cursor))

    def render_png(self, path) -> None:
        """Write the screen as a 720x400 PNG to ``path``."""
        self.render_image().save(path, format="PNG")

    def snapshot(self) -> dict:
        """Registers plus the cursor and start address."""
        state = super().snapshot()
        state.update(cursor=list(self.cursor), start_address=self.start_address)
        return state
