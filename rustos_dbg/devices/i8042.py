"""8042 PS/2 controller: port 0x60 (data) and 0x64 (status / command).

Status (read 0x64): OBF 0x01 when a byte waits at 0x60, SYS 0x04 (config
system flag), CMD 0x08 when the last write went to 0x64, 0x10 keyboard not
inhibited, AUX_OBF 0x20 when the waiting byte is from the mouse port.  IBF is
never set: every write is handled at once.

Commands (write 0x64): 0x20-0x3F read config/RAM, 0x60-0x7F write them (the
byte follows at 0x60), 0xA7/0xA8 disable/enable port 2, 0xA9 test port 2
(-> 0x00), 0xAA self test (-> 0x55), 0xAB test port 1 (-> 0x00), 0xAD/0xAE
disable/enable port 1, 0xC0 read input port, 0xD0/0xD1 read/write the output
port (bit 0 low requests a system reset, bit 1 is A20), 0xD2/0xD3 write the
keyboard/mouse output buffer, 0xD4 send the next byte to the mouse,
0xDD/0xDF A20 off/on, 0xF0-0xFF pulse output lines (0xFE: reset).
A byte written to 0x60 with no command pending goes to the keyboard (and,
as in QEMU, re-enables port 1).

Output: one byte at a time.  Controller replies come first, then keyboard
bytes (while port 1 is enabled), then mouse bytes (port 2).  When the output
buffer fills, IRQ1 (keyboard) or IRQ12 (mouse) is raised if the config byte
enables it; reading 0x60 empties it and lowers the line, and the next byte
moves in at once, raising the line again: one interrupt per byte.
The mouse is a stub that answers its commands (ACK, reset -> FA AA 00,
identify -> FA 00) and never moves.  Default config 0x65: IRQ1 on, system
flag, port 2 disabled, translation on, as a BIOS leaves it.
"""

from __future__ import annotations

from collections import deque
from enum import IntEnum, IntFlag
from typing import Callable

from .base import Device, IrqLine
from .keyboard import Keyboard

DATA_PORT, STATUS_PORT = 0x60, 0x64


class I8042Status(IntFlag):
    """Status register bits (port 0x64 read)."""

    OBF = 0x01
    IBF = 0x02
    SYS = 0x04
    CMD = 0x08
    UNLOCKED = 0x10
    AUX_OBF = 0x20
    TIMEOUT = 0x40
    PARITY = 0x80


class I8042Config(IntFlag):
    """Configuration byte bits (commands 0x20 / 0x60)."""

    KBD_INT = 0x01
    AUX_INT = 0x02
    SYS = 0x04
    KBD_DISABLE = 0x10
    AUX_DISABLE = 0x20
    TRANSLATE = 0x40


class I8042Command(IntEnum):
    """Controller commands (port 0x64 write)."""

    READ_CONFIG = 0x20
    WRITE_CONFIG = 0x60
    DISABLE_AUX = 0xA7
    ENABLE_AUX = 0xA8
    TEST_AUX = 0xA9
    SELF_TEST = 0xAA
    TEST_KBD = 0xAB
    DISABLE_KBD = 0xAD
    ENABLE_KBD = 0xAE
    READ_INPUT = 0xC0
    READ_OUTPUT = 0xD0
    WRITE_OUTPUT = 0xD1
    WRITE_KBD_OBUF = 0xD2
    WRITE_AUX_OBUF = 0xD3
    WRITE_AUX = 0xD4
    DISABLE_A20 = 0xDD
    ENABLE_A20 = 0xDF
    PULSE_RESET = 0xFE


SELF_TEST_OK = 0x55
OUTPORT_RESET, OUTPORT_A20 = 0x01, 0x02


class I8042(Device):
    """The PS/2 controller with a keyboard on port 1 and a mouse stub on port 2."""

    name = "i8042"
    ports = (DATA_PORT, STATUS_PORT)
    state_fields = ("config", "obf", "obdata", "ob_aux", "cmd_flag", "pending",
                    "outport", "reset_requests", "ctrl_out", "aux_out",
                    "aux_pending", "ram")

    def __init__(
        self,
        pic=None,
        keyboard: Keyboard | None = None,
        config: int = 0x65,
        on_reset: Callable[[], None] | None = None,
    ) -> None:
        """Create the controller wired to IRQ1/IRQ12 of ``pic`` (or nothing).

        ``on_reset`` is called when the guest asks for a system reset.
        """
        super().__init__()
        self.keyboard = keyboard if keyboard is not None else Keyboard()
        self.keyboard.notify = self._refill
        self.irq1, self.irq12 = IrqLine(pic, 1), IrqLine(pic, 12)
        self.on_reset = on_reset
        self.config = config
        self.keyboard.translate = bool(config & I8042Config.TRANSLATE)
        self.obf, self.obdata, self.ob_aux = False, 0, False
        self.cmd_flag = False
        self.pending: int | None = None
        self.outport = OUTPORT_RESET | OUTPORT_A20
        self.reset_requests = 0
        self.ctrl_out: deque[list] = deque()
        self.aux_out: deque[int] = deque()
        self.aux_pending = False
        self.ram = [0] * 32

    # -- host conveniences ----------------------------------------------------

    def type_text(self, text: str) -> None:
        """Type ``text`` on the keyboard (see ``Keyboard.type_text``)."""
        self.keyboard.type_text(text)

    def press(self, chord: str) -> None:
        """Press a key or chord on the keyboard (see ``Keyboard.press``)."""
        self.keyboard.press(chord)

    @property
    def a20(self) -> bool:
        """A20 gate state from the output port."""
        return bool(self.outport & OUTPORT_A20)

    @property
    def status(self) -> int:
        """The status register as port 0x64 reads it."""
        status = I8042Status.UNLOCKED
        if self.obf:
            status |= I8042Status.OBF | (I8042Status.AUX_OBF if self.ob_aux else 0)
        if self.config & I8042Config.SYS:
            status |= I8042Status.SYS
        if self.cmd_flag:
            status |= I8042Status.CMD
        return int(status)

    # -- output buffer ---------------------------------------------------------

    def _refill(self) -> None:
        """Move the next waiting byte into the empty output buffer."""
        if not self.obf:
            if self.ctrl_out:
                self.obdata, self.ob_aux = self.ctrl_out.popleft()
                self.obf = True
            elif not self.config & I8042Config.KBD_DISABLE and self.keyboard.has_data():
                self.obdata, self.ob_aux, self.obf = self.keyboard.pop(), False, True
            elif not self.config & I8042Config.AUX_DISABLE and self.aux_out:
                self.obdata, self.ob_aux, self.obf = self.aux_out.popleft(), True, True
        self._update_irqs()

    def _update_irqs(self) -> None:
        """Drive IRQ1/IRQ12 from the output buffer and the config byte."""
        self.irq1.set(self.obf and not self.ob_aux and self.config & I8042Config.KBD_INT)
        self.irq12.set(self.obf and self.ob_aux and self.config & I8042Config.AUX_INT)

    def _reply(self, byte: int, aux: bool = False) -> None:
        """Queue a controller reply byte."""
        self.ctrl_out.append([byte, aux])

    # -- guest accesses ---------------------------------------------------------

    def read(self, port: int, size: int) -> int:
        """Guest IN: status (0x64) or the output buffer (0x60)."""
        if port == STATUS_PORT:
            return self.status
        value = self.obdata
        if self.obf:
            self.obf = False
            self._update_irqs()
            self._refill()
        return value

    def write(self, port: int, size: int, value: int) -> None:
        """Guest OUT: a command (0x64) or data (0x60)."""
        self.cmd_flag = port == STATUS_PORT
        if port == STATUS_PORT:
            self._command(value)
        elif self.pending is not None:
            cmd, self.pending = self.pending, None
            self._command_data(cmd, value)
        else:
            self._set_config_bit(I8042Config.KBD_DISABLE, False)
            self.keyboard.command(value)
        self._refill()

    def _command(self, cmd: int) -> None:
        """Handle a controller command byte."""
        C = I8042Command
        if 0x20 <= cmd <= 0x3F:
            self._reply(self.config if cmd == C.READ_CONFIG else self.ram[cmd & 0x1F])
        elif 0x60 <= cmd <= 0x7F or cmd in (C.WRITE_OUTPUT, C.WRITE_KBD_OBUF,
                                           C.WRITE_AUX_OBUF, C.WRITE_AUX):
            self.pending = cmd
        elif cmd in (C.DISABLE_AUX, C.ENABLE_AUX):
            self._set_config_bit(I8042Config.AUX_DISABLE, cmd == C.DISABLE_AUX)
        elif cmd in (C.DISABLE_KBD, C.ENABLE_KBD):
            self._set_config_bit(I8042Config.KBD_DISABLE, cmd == C.DISABLE_KBD)
        elif cmd in (C.TEST_AUX, C.TEST_KBD):
            self._reply(0x00)
        elif cmd == C.SELF_TEST:
            self._set_config_bit(I8042Config.SYS, True)
            self._reply(SELF_TEST_OK)
        elif cmd == C.READ_INPUT:
            self._reply(0x80)
        elif cmd == C.READ_OUTPUT:
            self._reply(self.outport)
        elif cmd in (C.DISABLE_A20, C.ENABLE_A20):
            a20 = OUTPORT_A20 if cmd == C.ENABLE_A20 else 0
            self.outport = (self.outport & ~OUTPORT_A20) | a20
        elif cmd >= 0xF0 and not cmd & OUTPORT_RESET:
            self._request_reset()

    def _set_config_bit(self, bit: int, on: bool) -> None:
        """Set or clear one config bit (plain ints: IntFlag's ~ drops bits)."""
        bit = int(bit)
        self.config = (self.config | bit) if on else (self.config & ~bit & 0xFF)

    def _command_data(self, cmd: int, value: int) -> None:
        """Handle the data byte of a two-byte controller command."""
        C = I8042Command
        if cmd == C.WRITE_CONFIG:
            self.config = value
            self.keyboard.translate = bool(value & I8042Config.TRANSLATE)
        elif 0x61 <= cmd <= 0x7F:
            self.ram[cmd & 0x1F] = value
        elif cmd == C.WRITE_OUTPUT:
            self.outport = value
            if not value & OUTPORT_RESET:
                self._request_reset()
        elif cmd in (C.WRITE_KBD_OBUF, C.WRITE_AUX_OBUF):
            self._reply(value, aux=cmd == C.WRITE_AUX_OBUF)
        elif cmd == C.WRITE_AUX:
            self._aux_command(value)

    def _request_reset(self) -> None:
        """The guest pulsed the reset line."""
        self.reset_requests += 1
        if self.on_reset is not None:
            self.on_reset()

    def _aux_command(self, byte: int) -> None:
        """The mouse stub answers a command byte."""
        if self.aux_pending:
            self.aux_pending = False
            self.aux_out.append(0xFA)
        elif byte == 0xFF:
            self.aux_out.extend((0xFA, 0xAA, 0x00))
        elif byte == 0xF2:
            self.aux_out.extend((0xFA, 0x00))
        elif byte == 0xE9:
            self.aux_out.extend((0xFA, 0x00, 0x02, 0x64))
        else:
            self.aux_pending = byte in (0xF3, 0xE8)
            self.aux_out.append(0xFA)

    # -- state ---------------------------------------------------------------

    def snapshot(self) -> dict:
        """Controller registers, queues, derived status and the keyboard."""
        state = super().snapshot()
        state["status"] = self.status
        state["keyboard"] = self.keyboard.snapshot()
        return state

    def restore(self, state: dict) -> None:
        """Put back a ``snapshot``."""
        super().restore(state)
        self.keyboard.restore(state["keyboard"])
        self.irq1.level = bool(self.obf and not self.ob_aux and self.config & I8042Config.KBD_INT)
        self.irq12.level = bool(self.obf and self.ob_aux and self.config & I8042Config.AUX_INT)
