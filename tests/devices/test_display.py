"""What the display shows: the mode in words, the picture, and the terminal's half-block view of the framebuffer."""

from rustos_dbg.devices import build_pc
from rustos_dbg.devices.display import screen_ansi, screen_image, screen_mode
from rustos_dbg.devices.vbe import VbeEnable, VbeReg


def set_mode(pc, width, height):
    for reg, value in ((VbeReg.XRES, width), (VbeReg.YRES, height), (VbeReg.BPP, 32),
                       (VbeReg.ENABLE, VbeEnable.ENABLED | VbeEnable.LFB_ENABLED)):
        pc.bus.write(0x1CE, 2, reg)
        pc.bus.write(0x1CF, 2, value)


def test_text_until_vbe_is_enabled():
    pc = build_pc()
    assert screen_mode(pc) == "text 80x25"
    assert screen_ansi(pc) == pc.vga.render_ansi()
    set_mode(pc, 160, 100)
    assert screen_mode(pc) == "framebuffer 160x100x32"
    assert screen_image(pc).size == (160, 100)


def test_the_terminal_view_is_half_blocks_in_24_bit_colour():
    pc = build_pc()
    set_mode(pc, 160, 100)
    red = bytes((0, 0, 0xFF, 0)) * 160
    for y in range(4):                                   # the top 4 lines: red
        pc.vbe.vram.write(y * 640, red)
    lines = screen_ansi(pc, cols=80, rows=25).split("\n")
    assert len(lines) == 25 and lines[0].count("\u2580") == 80
    # each cell is 2x2 pixels: row 0 is all red (top and bottom), row 1 is black
    assert lines[0].startswith("\x1b[38;2;255;0;0;48;2;255;0;0m\u2580")
    assert lines[1].startswith("\x1b[38;2;0;0;0;48;2;0;0;0m\u2580")
