"""The emulator's VGA screenshot equals QEMU's ``screendump`` of the same text screen, pixel for pixel."""

import pytest
from PIL import Image, ImageChops
from qemu_monitor import screens_after

from rustos_dbg.devices.vgatext import TextCursor, render_text

pytestmark = pytest.mark.emulator

COMMANDS = ("clear\n", "echo hello world \xb3 0123456789 ABCxyz\n")


def test_screenshot_equals_qemu_screendump_of_the_same_screen(rustos_elf, tmp_path):
    theirs, machine = screens_after(rustos_elf, COMMANDS, tmp_path)
    ours = machine.screenshot(tmp_path / "ours.png")
    vga = machine.devices.vga
    assert "hello world" in vga.screen_text()
    assert vga.cursor.visible
    ours = Image.open(ours).convert("RGB")
    # QEMU blinks the cursor: its dump has it or not, depending on the moment.
    without_cursor = render_text(vga.cells(), vga.attr, vga.crtc, TextCursor(vga.cursor.row, vga.cursor.col, False))
    assert ours.size == theirs.size == (720, 400)
    differs = [row for row in range(25) if ImageChops.difference(
        ours.crop((0, row * 16, 720, row * 16 + 16)), theirs.crop((0, row * 16, 720, row * 16 + 16))).getbbox()]
    assert differs == [] or ImageChops.difference(without_cursor, theirs).getbbox() is None, \
        f"rows that differ from QEMU's screendump: {differs}"
    assert ImageChops.difference(ours, without_cursor).getbbox() is not None  # the cursor is drawn
