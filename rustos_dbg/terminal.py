"""The terminal as `rustos-dbg run` uses it: the live view and the serial console.

Contract: :class:`TerminalView` puts the terminal in raw mode (restored on
exit, also after errors), draws the 80x25 VGA screen in ANSI colours at the
top, keeps the rows below it as a scrolling region for serial output, and
reads keys without blocking; it needs a TTY on both stdin and stdout. Closed
with ``keep_screen``, it leaves the last screen it drew in the terminal, so
that what the kernel printed last (a fault report) stays readable above the
cursor.

:func:`serial_console` makes a TTY on standard input behave as a serial line,
as QEMU's ``-serial stdio`` does: each key is passed on at once and not echoed
(the guest echoes what it receives), Ctrl-C still interrupts. Anything that is
not a TTY is left alone.
"""

from __future__ import annotations

import os
import select
import shutil
import sys
import termios
import tty
from contextlib import contextmanager
from typing import Iterator

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
        self._screen_lines: list[str] = []
        self._closed = False
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
        self._screen_lines = lines
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

    def close(self, keep_screen: bool = False) -> None:
        """Restores the terminal (again: nothing); with ``keep_screen`` the last
        screen drawn is written to it, the cursor on the line below."""
        if self._closed:
            return
        self._closed = True
        final = "".join(f"{line}\x1b[0m\x1b[K\r\n" for line in self._screen_lines) if keep_screen else ""
        self._write("\x1b[r\x1b[?1049l" + final)
        termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)


def foreground_tty(stream) -> int | None:
    """The file descriptor of ``stream`` when it is a TTY and this process is in
    its foreground (a background process touching it would be stopped), else None."""
    try:
        if stream is None or not stream.isatty():
            return None
        fd = stream.fileno()
        return fd if os.tcgetpgrp(fd) == os.getpgrp() else None
    except (AttributeError, OSError, ValueError):
        return None


@contextmanager
def serial_console(stream) -> Iterator[None]:
    """While active, a TTY ``stream`` passes each key on at once without echo;
    its settings are restored afterwards. Not a TTY of ours (see
    :func:`foreground_tty`) or no stream: no change."""
    fd = foreground_tty(stream)
    if fd is None:
        yield
        return
    saved = termios.tcgetattr(fd)
    mode = termios.tcgetattr(fd)
    mode[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN)  # lflag: ISIG kept for Ctrl-C
    mode[6][termios.VMIN], mode[6][termios.VTIME] = 1, 0
    termios.tcsetattr(fd, termios.TCSANOW, mode)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
