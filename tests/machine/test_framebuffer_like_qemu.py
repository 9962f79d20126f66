"""After the same ``draw`` commands, the emulator's screenshot equals QEMU's ``screendump``, pixel for pixel."""

import pytest
from PIL import Image, ImageChops
from qemu_monitor import screens_after

pytestmark = pytest.mark.emulator

COMMANDS = (
    "clear",
    "draw clear 0x102030",
    "draw rect 40 300 400 200 red",
    "draw rect 1279 719 1 1 white",
    "draw line 0 0 1279 719 green",
    "draw line 1279 0 0 719 0xFFFF00",
    "draw line 600 100 610 600 cyan",
    "draw circle 640 360 150 blue",
    "draw circle 1270 10 40 magenta",
    "draw circle 200 650 0 white",
    "echo the console draws with the VGA font \xb3\xdb",
)


def test_framebuffer_screenshot_equals_qemu_screendump(rustos_elf, tmp_path):
    theirs, machine = screens_after(rustos_elf, [line + "\n" for line in COMMANDS], tmp_path)
    assert machine.screen_mode() == "framebuffer 1280x720x32"
    ours = Image.open(machine.screenshot(tmp_path / "ours.png")).convert("RGB")
    assert ours.size == theirs.size == (1280, 720)
    assert ours.getpixel((640, 360)) == (0, 0, 255) and ours.getpixel((41, 498)) == (255, 0, 0)
    box = ImageChops.difference(ours, theirs).getbbox()
    assert box is None, f"the emulator's picture differs from QEMU's screendump inside {box}"


def test_fb_off_text_screen_equals_qemu_screendump(rustos_elf, tmp_path):
    """Back in text mode, QEMU shows the text the kernel redrew with the font it reloaded into plane 2."""
    from rustos_dbg.devices.vgatext import TextCursor, render_text

    commands = ("clear", "echo before", "draw rect 0 0 50 50 red", "echo during", "fb off", "echo after")
    theirs, machine = screens_after(rustos_elf, [line + "\n" for line in commands], tmp_path)
    vga = machine.devices.vga
    assert machine.screen_mode() == "text 80x25" and "during" in vga.screen_text()
    ours = Image.open(machine.screenshot(tmp_path / "ours.png")).convert("RGB")
    # QEMU blinks the cursor: its dump has it or not, depending on the moment.
    without_cursor = render_text(vga.cells(), vga.attr, vga.crtc, TextCursor(vga.cursor.row, vga.cursor.col, False))
    assert theirs.size == (720, 400)
    assert ImageChops.difference(ours, theirs).getbbox() is None or \
        ImageChops.difference(without_cursor, theirs).getbbox() is None
