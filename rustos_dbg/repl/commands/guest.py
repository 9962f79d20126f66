"""The guest's devices: type, serial, key, screen and output."""

from __future__ import annotations

from ..expr import parse_int
from ..registry import CommandError, command


def _text_arg(session, args) -> str:
    words = session.split(args)
    if len(words) != 1:
        raise CommandError('usage: type "TEXT" (escapes like \\n are understood)')
    return words[0].encode().decode("unicode_escape")


@command("type", usage='type "TEXT"', help="type text on the PS/2 keyboard (\\n is Enter)", group="guest")
def cmd_type(session, args):
    text = _text_arg(session, args)
    session.machine.send_keys(text)
    return f"typed {len(text)} characters"


@command("serial", usage='serial "TEXT"', help="send text to COM1", group="guest")
def cmd_serial(session, args):
    text = _text_arg(session, args)
    session.machine.send_serial(text)
    return f"sent {len(text)} bytes to COM1"


@command("key", usage="key CHORD", help="press a key chord on the keyboard (up, ctrl+c, enter, ...)", group="guest")
def cmd_key(session, args):
    if not args:
        raise CommandError("usage: key CHORD")
    try:
        session.machine.press(args)
    except (KeyError, ValueError) as e:
        raise CommandError(f"unknown key '{args}'") from e
    return f"pressed {args}"


@command("screen", usage="screen [--png FILE]",
         help="the VGA text screen (and the mode shown); --png FILE writes what is shown as QEMU's screendump draws it",
         group="guest")
def cmd_screen(session, args):
    words = session.split(args)
    machine = session.machine
    if not words:
        mode = machine.screen_mode()
        text = machine.screen_text()
        return text if mode.startswith("text") else f"({mode} shown; the text screen behind it:)\n{text}"
    if len(words) != 2 or words[0] != "--png":
        raise CommandError("usage: screen [--png FILE]")
    from ...devices.vgatext import FontUnavailable

    try:
        path = machine.screenshot(words[1])
    except OSError as e:
        raise CommandError(f"cannot write '{words[1]}': {e.strerror}") from None
    except FontUnavailable as e:
        raise CommandError(str(e)) from None
    return f"wrote {path} ({machine.screen_mode()})"


@command("output", usage="output [N]", help="the last N lines (default 20) of serial output", group="guest")
def cmd_output(session, args):
    n = parse_int(args) if args else 20
    return "\n".join(session.machine.serial_output.splitlines()[-n:])
