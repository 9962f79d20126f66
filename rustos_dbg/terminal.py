"""The live terminal view of `rustos-dbg run`: the VGA screen on top, serial below.

Contract: :class:`TerminalView` puts the terminal in raw mode (restored on
exit, also after errors), draws the 80x25 VGA screen in ANSI colours at the
top, keeps the rows below it as a scrolling region for serial output, and
reads keys without blocking. It needs a TTY on both stdin and stdout.
"""

from __future__ import annotations

import os
import select
import shutil
import sys
import termios
import tty

SCREEN_ROWS = 25


class TerminalView:
    """Raw-mode terminal with a screen pane and a serial pane."""

    def __init__(self) -> None:
        """Takes over the terminal (call :meth:`close` to give it back)."""
        self._fd = sys.stdin.fileno()
        self._saved = termios.tcgetattr(self._fd)
        tty.setraw(self._fd)
        self._rows = shutil.get_terminal_size((80, 40)).lines
        self._out = sys.stdout
        self._last = ""
        top = SCREEN_ROWS + 2
        self._serial_pane = self._rows > top + 2
        self._write("\x1b[?1049h\x1b[2J")
        if self._serial_pane:
            self._write(f"\x1b[{top + 1};{self._rows}r\x1b[{top + 1};1H")

    def _write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()

    def draw(self, ansi_screen: str, status: str) -> None:
        """Redraws the screen pane (only when it changed) and the status line."""
        frame = ansi_screen + "\n" + status
        if frame == self._last:
            return
        self._last = frame
        lines = ansi_screen.split("\n")[:SCREEN_ROWS]
        body = "".join(f"\x1b[{i + 1};1H{line}\x1b[0m\x1b[K" for i, line in enumerate(lines))
        self._write(f"\x1b7{body}\x1b[{SCREEN_ROWS + 1};1H\x1b[7m{status[:79]:<79}\x1b[0m\x1b8")

    def serial(self, data: bytes) -> None:
        """Appends serial output to the serial pane."""
        if self._serial_pane:
            self._write(data.decode("utf-8", "replace").replace("\n", "\r\n"))

    def read_keys(self, timeout: float = 0.0) -> bytes:
        """Bytes typed since the last call (waits at most ``timeout`` seconds)."""
        ready, _, _ = select.select([self._fd], [], [], timeout)
        return os.read(self._fd, 1024) if ready else b""

    def close(self) -> None:
        """Restores the terminal."""
        self._write("\x1b[r\x1b[?1049l")
        termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
