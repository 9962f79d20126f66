"""`rustos-dbg run` in a terminal: the live VGA screen and the keyboard, through a real pty."""

import re
import sys

import pexpect
import pytest

from rustos_dbg.keys import KeyEvent, translate

pytestmark = pytest.mark.emulator


def test_translate_text_enter_and_backspace():
    assert translate(b"help\r") == [KeyEvent(text="help\n")]
    assert translate(b"ab\x7fc") == [KeyEvent(text="ab"), KeyEvent(chord="backspace"), KeyEvent(text="c")]


def test_translate_arrows_ctrl_and_quit():
    assert translate(b"\x1b[A\x1b[D") == [KeyEvent(chord="up"), KeyEvent(chord="left")]
    assert translate(b"\x03") == [KeyEvent(chord="ctrl+c")]
    assert translate(b"x\x1d") == [KeyEvent(text="x"), KeyEvent(quit=True)]


def _screen_text(raw: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]", "", raw)


def test_terminal_mode_shows_the_screen_forwards_keys_and_quits(rustos_elf):
    child = pexpect.spawn(sys.executable, ["-m", "rustos_dbg", "run", str(rustos_elf)],
                          dimensions=(45, 100), encoding="utf-8", timeout=60)
    try:
        child.expect("Ctrl-. quits")                       # the status line under the screen
        child.expect("rustos> ")                           # the shell's prompt drawn on screen
        child.send("echo typed-through-ps2\r")             # keys go to the PS/2 keyboard
        child.expect("typed-through-ps2")
        child.expect("typed-through-ps2")                  # echoed by the shell after Enter
        child.send("\x1d")                                 # Ctrl-] quits
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    text = _screen_text(child.before or "")
    assert "Traceback" not in text
