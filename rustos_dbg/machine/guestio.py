"""What a user does to the guest and sees of it: keys, serial bytes, scheduled input, the screen.

Contract: :class:`GuestIO` is a mixin of :class:`~.machine.Machine` (it uses
its ``inputs``, ``history``, ``clock`` and ``devices``). Input given now is
delivered at the current instruction (refused while the machine is in its
recorded past, where it would change history); scheduled input at an exact
virtual time, so a recorded session replays. Every input lands in
:attr:`input_log` with the instruction count and the virtual time it arrived at.
"""

from __future__ import annotations

from pathlib import Path


class GuestIO:
    """The guest's inputs and its screen (see the module)."""

    @property
    def input_log(self) -> list[tuple[int, str, bytes, int]]:
        """Every input as (icount, kind, data, virtual time in ns) when it was delivered."""
        return self.inputs.log

    def send_keys(self, text: str) -> None:
        """Types ``text`` on the PS/2 keyboard (set-1 scancodes)."""
        self.history.check_present()
        self.inputs.deliver("keyboard", text.encode())

    def press(self, chord: str) -> None:
        """Presses a key chord on the keyboard (``up``, ``ctrl+c``, ...)."""
        self.history.check_present()
        self.inputs.deliver("key", chord.encode())

    def send_serial(self, data: bytes | str) -> None:
        """Sends bytes to COM1's receiver."""
        self.history.check_present()
        self.inputs.deliver("serial", data.encode() if isinstance(data, str) else bytes(data))

    def schedule_input(self, at_ns: int, kind: str, data: bytes) -> None:
        """Delivers an input (``kind`` as in :attr:`input_log`: "keyboard", "key"
        or "serial") when the virtual time reaches ``at_ns`` exactly
        (deterministic mode): replaying a recorded input log reproduces the run."""
        if self.clock.counter is None:
            raise ValueError("replaying inputs needs the deterministic mode")
        self.history.check_present()
        self.inputs.schedule(at_ns, kind, data)

    @property
    def scheduled_inputs(self) -> tuple:
        """Inputs still waiting for their virtual time, as (at_ns, kind, data), earliest first."""
        return tuple(self.inputs.scheduled)

    def screen_text(self) -> str:
        """The VGA text screen, 25 lines."""
        return self.devices.vga.screen_text()

    def screen_mode(self) -> str:
        """The display mode shown: ``"framebuffer WxHxBPP"`` or ``"text 80x25"``."""
        from ..devices.display import screen_mode

        return screen_mode(self.devices)

    def screenshot(self, path: str | Path) -> Path:
        """Writes what the screen shows as a PNG file, as QEMU's ``screendump`` draws it:
        the VBE framebuffer at its resolution while it is on, else the VGA text screen."""
        from ..devices.display import screen_image

        screen_image(self.devices).save(str(path), format="PNG")
        return Path(path)
