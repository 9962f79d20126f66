"""`screen` and `screen --png FILE` in the REPL: the text screen, and a PNG of what is shown."""

import pytest
from PIL import Image

from rustos_dbg.repl import CommandError

from .repl_helpers import shell_command

pytestmark = pytest.mark.emulator


def test_screen_png_writes_the_framebuffer_once_it_is_on(session, tmp_path):
    assert "wrote" in session.execute(f"screen --png {tmp_path / 'text.png'}")
    assert Image.open(tmp_path / "text.png").size == (720, 400)
    shell_command(session.machine, "draw rect 600 600 10 10 yellow")
    out = session.execute(f"screen --png {tmp_path / 'fb.png'}")
    assert "framebuffer 1280x720x32" in out
    image = Image.open(tmp_path / "fb.png").convert("RGB")
    assert image.size == (1280, 720) and image.getpixel((605, 605)) == (255, 255, 0)
    assert session.execute("screen").startswith("(framebuffer 1280x720x32 shown")


def test_screen_bad_input_is_one_line(session, tmp_path):
    for args, message in (("--png", "usage: screen [--png FILE]"), ("--jpg x", "usage"),
                          (f"--png {tmp_path / 'no' / 'x.png'}", "cannot write")):
        with pytest.raises(CommandError, match=message):
            session.execute(f"screen {args}")
