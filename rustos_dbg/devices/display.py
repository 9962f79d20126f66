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


def screen_ansi(devices, cols: int = 80, rows: int = 25) -> str:
    """The picture shown as ``rows`` lines of ANSI-coloured text."""
    if not devices.vbe.enabled:
        return devices.vga.render_ansi()
    from PIL import Image

    small = devices.vbe.render_image().resize((cols, 2 * rows), Image.Resampling.BOX)
    data = small.tobytes()
    lines = []
    for row in range(rows):
        cells = []
        for col in range(cols):
            top = (2 * row * cols + col) * 3
            bottom = top + cols * 3
            (r, g, b), (r2, g2, b2) = data[top:top + 3], data[bottom:bottom + 3]
            cells.append(f"\x1b[38;2;{r};{g};{b};48;2;{r2};{g2};{b2}m\u2580")
        lines.append("".join(cells) + "\x1b[0m")
    return "\n".join(lines)
