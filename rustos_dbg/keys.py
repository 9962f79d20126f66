"""Terminal input to guest key presses: a pure translation, tested without a terminal.

``translate(data)`` turns bytes read from a terminal in raw mode into a list
of :class:`KeyEvent`: text to type, or a named chord for the 8042 keyboard
(``up``, ``ctrl+c``, ``backspace``...). ``QUIT`` (Ctrl-]) is reported, not sent.
"""

from __future__ import annotations

from dataclasses import dataclass

QUIT_BYTE = 0x1D  # Ctrl-]

_ESCAPES = {b"\x1b[A": "up", b"\x1b[B": "down", b"\x1b[C": "right", b"\x1b[D": "left",
            b"\x1bOA": "up", b"\x1bOB": "down", b"\x1bOC": "right", b"\x1bOD": "left"}


@dataclass(frozen=True)
class KeyEvent:
    """Either ``text`` to type or a ``chord`` to press; ``quit`` asks to leave."""

    text: str = ""
    chord: str = ""
    quit: bool = False


def translate(data: bytes) -> list[KeyEvent]:
    """Key events for raw terminal bytes."""
    events: list[KeyEvent] = []
    text = ""
    i = 0

    def flush() -> None:
        nonlocal text
        if text:
            events.append(KeyEvent(text=text))
            text = ""

    while i < len(data):
        seq = data[i:i + 3]
        if seq in _ESCAPES:
            flush()
            events.append(KeyEvent(chord=_ESCAPES[seq]))
            i += 3
            continue
        b = data[i]
        i += 1
        if b == QUIT_BYTE:
            flush()
            events.append(KeyEvent(quit=True))
        elif b in (0x0D, 0x0A):
            text += "\n"
        elif b in (0x7F, 0x08):
            flush()
            events.append(KeyEvent(chord="backspace"))
        elif b == 0x09:
            text += "\t"
        elif b == 0x1B:
            flush()
            events.append(KeyEvent(chord="escape"))
        elif 1 <= b <= 26:
            flush()
            events.append(KeyEvent(chord=f"ctrl+{chr(b + 96)}"))
        elif 0x20 <= b < 0x7F:
            text += chr(b)
    flush()
    return events
