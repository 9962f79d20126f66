"""VGA text mode: text extraction, cursor, CRTC, PNG and ANSI rendering."""

from PIL import Image

from rustos_dbg.devices import VgaText
from rustos_dbg.devices.vga import PALETTE

BASE = 0xB8000


class Memory:
    """Guest RAM covering the text buffer, with the lead's read_phys shape."""

    def __init__(self):
        self.data = bytearray(b"\x20\x07" * (80 * 25 * 2))  # two screens

    def read_phys(self, addr, n):
        off = addr - BASE
        return bytes(self.data[off:off + n])

    def put(self, row, col, text, attr=0x07, cp437=False):
        raw = text if cp437 else text.encode("ascii")
        for i, code in enumerate(raw):
            off = 2 * (row * 80 + col + i)
            self.data[off], self.data[off + 1] = code, attr


def screen():
    mem = Memory()
    return mem, VgaText(mem.read_phys)


def test_screen_text_has_25_lines_with_trailing_spaces_stripped():
    mem, vga = screen()
    mem.put(0, 0, "Hello")
    mem.put(2, 5, "World  ")
    mem.put(24, 79, "!")
    lines = vga.screen_text().split("\n")
    assert len(lines) == 25
    assert lines[0] == "Hello" and lines[1] == "" and lines[2] == "     World"
    assert lines[24] == " " * 79 + "!"


def test_code_page_437_is_decoded():
    mem, vga = screen()
    mem.put(0, 0, bytes([0xC9, 0xCD, 0xBB, 0x01, 0x00, 0xB0, 0x41]), cp437=True)
    assert vga.screen_text().split("\n")[0] == "╔═╗☺ ░A"


def test_cells_are_code_attribute_pairs_row_major():
    mem, vga = screen()
    mem.put(1, 0, "X", attr=0x4E)
    cells = vga.cells()
    assert len(cells) == 2000
    assert cells[80] == (ord("X"), 0x4E) and cells[0] == (0x20, 0x07)


def test_cursor_location_and_disable_bit_through_crtc_ports():
    _, vga = screen()
    loc = 3 * 80 + 7
    vga.write(0x3D4, 1, 0x0F)
    vga.write(0x3D5, 1, loc & 0xFF)
    vga.write(0x3D4, 1, 0x0E)
    vga.write(0x3D5, 1, loc >> 8)
    assert vga.cursor == (3, 7, True)
    assert vga.read(0x3D5, 1) == loc >> 8
    vga.write(0x3D4, 1, 0x0A)
    vga.write(0x3D5, 1, 0x20)
    assert vga.cursor.visible is False


def test_start_address_scrolls_the_view():
    mem, vga = screen()
    mem.put(1, 0, "second row")
    vga.write(0x3D4, 1, 0x0D)
    vga.write(0x3D5, 1, 80)
    assert vga.screen_text().startswith("second row\n")


def test_png_is_720x400_with_attribute_colours(tmp_path):
    mem, vga = screen()
    mem.put(0, 0, bytes([0xDB]), attr=0x1E, cp437=True)  # full block, yellow on blue
    mem.put(0, 1, "M", attr=0x1F)
    mem.put(5, 10, " ", attr=0x40)  # red background, blank
    path = tmp_path / "screen.png"
    vga.render_png(path)
    image = Image.open(path).convert("RGB")
    assert image.size == (720, 400)
    assert image.getpixel((4, 8)) == PALETTE[14]  # inside the block: yellow
    assert image.getpixel((9 + 0, 0)) == PALETTE[1]  # corner of the 'M' cell: blue
    assert PALETTE[15] in {image.getpixel((9 + x, y)) for x in range(9) for y in range(16)}
    assert image.getpixel((10 * 9 + 4, 5 * 16 + 8)) == PALETTE[4]
    assert image.getpixel((700, 390)) == PALETTE[0]


def test_blink_bit_selects_eight_or_sixteen_backgrounds():
    mem, vga = screen()
    mem.put(0, 0, " ", attr=0xC0)
    assert vga.colours(0xC0) == (0, 4)
    assert vga.render_image().getpixel((4, 8)) == PALETTE[4]
    vga.read(0x3DA, 1)  # reset the attribute flip-flop
    vga.write(0x3C0, 1, 0x10)
    vga.write(0x3C0, 1, 0x04)  # mode control without blink
    assert vga.colours(0xC0) == (0, 12)
    assert vga.render_image().getpixel((4, 8)) == PALETTE[12]


def test_visible_cursor_is_drawn_on_its_scan_lines():
    _, vga = screen()
    image = vga.render_image()
    assert image.getpixel((4, 14)) == PALETTE[7]  # cursor at 0,0, lines 13-14
    assert image.getpixel((4, 10)) == PALETTE[0]


def test_ansi_rendering_uses_sgr_colours():
    mem, vga = screen()
    mem.put(0, 0, "Hi", attr=0x1F)
    mem.put(0, 2, "!", attr=0x4A)
    out = vga.render_ansi()
    first = out.split("\n")[0]
    assert first.startswith("\x1b[97;44mHi\x1b[92;41m!\x1b[37;40m ")
    assert first.endswith("\x1b[0m") and len(out.split("\n")) == 25


def test_status_register_alternates_and_other_ports_are_harmless():
    _, vga = screen()
    values = [vga.read(0x3DA, 1) for _ in range(4)]
    assert values == [0x09, 0x00, 0x09, 0x00]
    vga.write(0x3C4, 1, 0x02)
    vga.write(0x3C5, 1, 0x0F)
    assert vga.read(0x3C5, 1) == 0x0F
    assert vga.read(0x3CC, 1) == 0x67
    for port in range(0x3C0, 0x3E0):
        vga.write(port, 1, 0)
        vga.read(port, 1)


def test_no_memory_gives_a_blank_screen_and_snapshot_has_cursor():
    vga = VgaText()
    assert vga.screen_text() == "\n" * 24
    snap = vga.snapshot()
    assert snap["cursor"] == [0, 0, True] and snap["crtc"][0x0A] == 0x0D


def test_png_falls_back_to_pillows_bitmap_font(monkeypatch):
    from PIL import ImageFont

    def missing(*args, **kwargs):
        raise OSError("no such font")

    monkeypatch.setattr(ImageFont, "truetype", missing)
    mem, vga = screen()
    mem.put(0, 0, "W", attr=0x0A)
    image = vga.render_image()
    assert image.size == (720, 400)
    cell = {image.getpixel((x, y)) for x in range(9) for y in range(16)}
    assert PALETTE[10] in cell and PALETTE[0] in cell
