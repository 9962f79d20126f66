"""A PS/2 keyboard (behind the 8042) speaking scancode set 1.

Host side: ``type_text(text)`` queues make/break sequences for a US QWERTY
layout (letters, digits, punctuation, shift for capitals and shifted symbols,
``\\n``/``\\r`` Enter, ``\\t`` Tab, ``\\b`` Backspace, ``\\x1b`` Escape);
``press(name)`` types one key or chord such as ``"up"``, ``"enter"``,
``"ctrl+c"``, ``"shift+tab"``, ``"f1"``; ``key_down``/``key_up`` give the
halves.  ``scancodes_for_text`` and ``scancodes_for_press`` are the pure
translations.  Extended keys (arrows, Home, End, ...) are 0xE0-prefixed.

Guest side (through the controller): ``command(byte)`` takes a byte the
guest sent to the keyboard and queues the reply: 0xFA ACK for most commands;
0xFF reset -> FA AA; 0xF4/0xF5 enable/disable scanning; 0xED LEDs, 0xF3
typematic and 0xF0 scancode set take a parameter byte (0xF0 0x00 -> FA and
the set, translated as the 8042 would when ``translate`` is on); 0xF2
identify -> FA AB 83 (41 translated); 0xEE echo -> EE; unknown -> FE.
``pop()`` hands the next byte to the controller, replies before scancodes.
Keys typed while scanning is disabled are dropped (counted in ``dropped``).

The bytes emitted are always set 1, i.e. what the guest sees from a set 2
keyboard through the 8042's translation (its default); the selected set is
reported but does not change the codes.
"""

from __future__ import annotations

from collections import deque
from enum import IntEnum
from typing import Callable


class KbdReply(IntEnum):
    """Bytes the keyboard sends back."""

    ACK = 0xFA
    RESEND = 0xFE
    SELF_TEST_PASSED = 0xAA
    ECHO = 0xEE
    EXTENDED = 0xE0
    BREAK_BIT = 0x80


class KbdCommand(IntEnum):
    """Commands the host sends to the keyboard."""

    SET_LEDS = 0xED
    ECHO = 0xEE
    SCANCODE_SET = 0xF0
    IDENTIFY = 0xF2
    TYPEMATIC = 0xF3
    ENABLE = 0xF4
    DISABLE = 0xF5
    DEFAULTS = 0xF6
    RESEND = 0xFE
    RESET = 0xFF


#: Set 1 make codes of the keys that are not extended.
KEYS = {
    "escape": 0x01, "1": 0x02, "2": 0x03, "3": 0x04, "4": 0x05, "5": 0x06,
    "6": 0x07, "7": 0x08, "8": 0x09, "9": 0x0A, "0": 0x0B, "-": 0x0C, "=": 0x0D,
    "backspace": 0x0E, "tab": 0x0F, "q": 0x10, "w": 0x11, "e": 0x12, "r": 0x13,
    "t": 0x14, "y": 0x15, "u": 0x16, "i": 0x17, "o": 0x18, "p": 0x19, "[": 0x1A,
    "]": 0x1B, "enter": 0x1C, "ctrl": 0x1D, "a": 0x1E, "s": 0x1F, "d": 0x20,
    "f": 0x21, "g": 0x22, "h": 0x23, "j": 0x24, "k": 0x25, "l": 0x26, ";": 0x27,
    "'": 0x28, "`": 0x29, "shift": 0x2A, "\\": 0x2B, "z": 0x2C, "x": 0x2D,
    "c": 0x2E, "v": 0x2F, "b": 0x30, "n": 0x31, "m": 0x32, ",": 0x33, ".": 0x34,
    "/": 0x35, "rshift": 0x36, "kp*": 0x37, "alt": 0x38, "space": 0x39,
    "capslock": 0x3A, "f1": 0x3B, "f2": 0x3C, "f3": 0x3D, "f4": 0x3E, "f5": 0x3F,
    "f6": 0x40, "f7": 0x41, "f8": 0x42, "f9": 0x43, "f10": 0x44, "numlock": 0x45,
    "scrolllock": 0x46, "f11": 0x57, "f12": 0x58,
}

#: Set 1 make codes of the 0xE0-prefixed keys.
EXTENDED_KEYS = {
    "up": 0x48, "down": 0x50, "left": 0x4B, "right": 0x4D, "home": 0x47,
    "end": 0x4F, "pageup": 0x49, "pagedown": 0x51, "insert": 0x52,
    "delete": 0x53, "rctrl": 0x1D, "ralt": 0x38,
}

#: Other spellings accepted by ``press``.
ALIASES = {
    "esc": "escape", "return": "enter", "bs": "backspace", "del": "delete",
    "pgup": "pageup", "pgdn": "pagedown", "ins": "insert", "control": "ctrl",
    "lctrl": "ctrl", "lshift": "shift", "lalt": "alt", " ": "space",
    "\n": "enter", "\r": "enter", "\t": "tab", "\b": "backspace", "\x1b": "escape",
}

#: Characters typed with shift, and the key that carries them.
SHIFTED = dict(zip('!@#$%^&*()_+{}|:"~<>?', "1234567890-=[]\\;'`,./"))

#: The reply byte for scancode sets 1-3, as sent raw and through translation.
_SET_REPLY = {False: {1: 1, 2: 2, 3: 3}, True: {1: 0x43, 2: 0x41, 3: 0x3F}}


def _key_of(char: str) -> tuple[str, bool]:
    """The key name and shift state that type ``char``."""
    if char in ALIASES:
        return ALIASES[char], False
    if char in SHIFTED:
        return SHIFTED[char], True
    if char.isascii() and char.isupper():
        return char.lower(), True
    if char in KEYS:
        return char, False
    raise ValueError(f"no key types {char!r} on a US keyboard")


def _codes(name: str, release: bool) -> list[int]:
    """Make (or break) sequence of one key name."""
    name = ALIASES.get(name, name)
    brk = KbdReply.BREAK_BIT if release else 0
    if name in EXTENDED_KEYS:
        return [KbdReply.EXTENDED, EXTENDED_KEYS[name] | brk]
    if name in KEYS:
        return [KEYS[name] | brk]
    raise ValueError(f"unknown key {name!r}")


def scancodes_for_press(chord: str) -> list[int]:
    """Set 1 bytes for a key or chord such as ``"ctrl+alt+delete"`` or ``"A"``."""
    parts = chord.split("+") if len(chord) > 1 else [chord]
    if chord.endswith("++"):
        parts = parts[:-2] + ["+"]
    *mods, key = [p if len(p) == 1 else p.lower() for p in parts]
    if len(key) == 1:
        key, shift = _key_of(key)
        if shift and "shift" not in mods:
            mods.append("shift")
    seq: list[int] = []
    for mod in mods:
        seq += _codes(mod, False)
    seq += _codes(key, False) + _codes(key, True)
    for mod in reversed(mods):
        seq += _codes(mod, True)
    return [int(b) for b in seq]


def scancodes_for_text(text: str) -> list[int]:
    """Set 1 make/break bytes that type ``text`` on a US QWERTY keyboard."""
    seq: list[int] = []
    for char in text:
        seq += scancodes_for_press(char)
    return seq


class Keyboard:
    """Keyboard state: reply and scancode queues, scanning, LEDs, set."""

    FIELDS = ("responses", "scancodes", "scanning", "scancode_set", "leds",
              "pending", "dropped", "translate", "last")

    def __init__(self) -> None:
        """A keyboard just after power-on self test, scanning enabled."""
        self.responses: deque[int] = deque()
        self.scancodes: deque[int] = deque()
        self.scanning = True
        self.scancode_set = 2
        self.leds = 0
        self.pending: int | None = None
        self.dropped = 0
        self.translate = True
        self.last = 0
        #: Called when bytes become available (set by the controller).
        self.notify: Callable[[], None] | None = None

    # -- host side ------------------------------------------------------------

    def feed(self, codes: list[int]) -> None:
        """Queue raw scancode bytes as if keys were pressed."""
        if not self.scanning:
            self.dropped += len(codes)
            return
        self.scancodes.extend(codes)
        if self.notify is not None:
            self.notify()

    def type_text(self, text: str) -> None:
        """Queue the make/break sequences that type ``text``."""
        self.feed(scancodes_for_text(text))

    def press(self, chord: str) -> None:
        """Queue one key or chord (``"enter"``, ``"up"``, ``"ctrl+c"``)."""
        self.feed(scancodes_for_press(chord))

    def key_down(self, name: str) -> None:
        """Queue the make code of key ``name``."""
        self.feed([int(b) for b in _codes(name.lower(), False)])

    def key_up(self, name: str) -> None:
        """Queue the break code of key ``name``."""
        self.feed([int(b) for b in _codes(name.lower(), True)])

    # -- controller side --------------------------------------------------------

    def has_data(self) -> bool:
        """True if a byte waits for the controller."""
        return bool(self.responses or self.scancodes)

    def pop(self) -> int | None:
        """Take the next byte for the controller (replies first)."""
        if self.responses:
            self.last = self.responses.popleft()
        elif self.scancodes:
            self.last = self.scancodes.popleft()
        else:
            return None
        return self.last

    def _reply(self, *data: int) -> None:
        """Queue reply bytes."""
        self.responses.extend(int(b) for b in data)

    def _defaults(self) -> None:
        """Restore default typematic / set / LED settings."""
        self.scancode_set, self.leds = 2, 0

    def command(self, byte: int) -> None:
        """Take a byte the guest sent to the keyboard and queue its reply."""
        if self.pending is not None:
            cmd, self.pending = self.pending, None
            if cmd == KbdCommand.SET_LEDS:
                self.leds = byte & 7
            elif cmd == KbdCommand.SCANCODE_SET:
                if byte == 0:
                    self._reply(KbdReply.ACK, _SET_REPLY[self.translate][self.scancode_set])
                    return
                if byte in (1, 2, 3):
                    self.scancode_set = byte
            self._reply(KbdReply.ACK)
            return
        if byte in (KbdCommand.SET_LEDS, KbdCommand.SCANCODE_SET, KbdCommand.TYPEMATIC):
            self.pending = byte
            self._reply(KbdReply.ACK)
        elif byte == KbdCommand.ECHO:
            self._reply(KbdReply.ECHO)
        elif byte == KbdCommand.IDENTIFY:
            self._reply(KbdReply.ACK, 0xAB, 0x41 if self.translate else 0x83)
        elif byte == KbdCommand.ENABLE:
            self.scanning = True
            self._reply(KbdReply.ACK)
        elif byte in (KbdCommand.DISABLE, KbdCommand.DEFAULTS):
            self.scanning = byte == KbdCommand.DEFAULTS
            self._defaults()
            self._reply(KbdReply.ACK)
        elif byte == KbdCommand.RESEND:
            self._reply(self.last)
        elif byte == KbdCommand.RESET:
            self.responses.clear()
            self.scancodes.clear()
            self.scanning = True
            self._defaults()
            self._reply(KbdReply.ACK, KbdReply.SELF_TEST_PASSED)
        else:
            self._reply(KbdReply.RESEND)

    def snapshot(self) -> dict:
        """Plain-data state."""
        return {f: list(v) if isinstance(v, deque) else v
                for f in self.FIELDS for v in [getattr(self, f)]}

    def restore(self, state: dict) -> None:
        """Put back a ``snapshot``."""
        for field in self.FIELDS:
            value = state[field]
            setattr(self, field, deque(value) if field in ("responses", "scancodes") else value)
