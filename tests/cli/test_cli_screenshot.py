"""`rustos-dbg run --screenshot FILE`: a PNG of what the screen shows at every exit, --timeout included."""

import subprocess
import sys

import pytest
from PIL import Image

EXIT_HALTED, EXIT_TIMEOUT = 4, 124


def run(*args, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rustos_dbg", "run", *map(str, args), "--headless"],
                          input=stdin, capture_output=True, timeout=300)


@pytest.mark.emulator
def test_screenshot_at_a_timeout_shows_the_framebuffer(rustos_elf, tmp_path):
    png = tmp_path / "fb.png"
    done = run(rustos_elf, "--timeout", "15", "--screenshot", png, stdin=b"draw circle 640 360 90 blue\n")
    assert done.returncode == EXIT_TIMEOUT, done.stderr[-2000:]
    image = Image.open(png).convert("RGB")
    assert image.size == (1280, 720) and image.getpixel((640, 360)) == (0, 0, 255)


@pytest.mark.emulator
def test_screenshot_when_the_kernel_halts_shows_the_text_screen(rustos_elf, tmp_path):
    png = tmp_path / "text.png"
    done = run(rustos_elf, "--timeout", "120", "--screenshot", png, stdin=b"halt\n")
    assert done.returncode == EXIT_HALTED, done.stderr[-2000:]
    assert Image.open(png).size == (720, 400)


def test_screenshot_into_a_missing_directory_is_one_line(rustos_elf, tmp_path):
    done = run(rustos_elf, "--screenshot", tmp_path / "nowhere" / "x.png")
    err = done.stderr.decode()
    assert done.returncode == 2 and err.count("\n") == 1 and "--screenshot: no directory" in err, err
