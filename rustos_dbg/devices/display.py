"""What the standard VGA shows: the VBE framebuffer while it is enabled, else the text screen.

Contract: :func:`screen_mode` names the mode shown (``"framebuffer
1280x720x32"`` or ``"text 80x25"``); :func:`screen_image` is the picture
QEMU's ``screendump`` writes for that mode (the framebuffer at its
resolution, :meth:`~.vbe.BochsVbe.render_image`; the text screen at 720x400,
:meth:`~.vga.VgaText.render_image`).
"""

from __future__ import annotations


def screen_mode(devices) -> str:
    """The mode the display shows, in words."""
    if devices.vbe.enabled:
        mode = devices.vbe.mode()
        return f"framebuffer {mode.width}x{mode.height}x{mode.bpp}"
    return "text 80x25"


def screen_image(devices):
    """The picture shown, as an RGB Pillow image."""
    return devices.vbe.render_image() if devices.vbe.enabled else devices.vga.render_image()
