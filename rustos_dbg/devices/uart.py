"""16550A UART (COM1: ports 0x3F8-0x3FF, IRQ4).

Registers by offset: 0 RBR (read) / THR (write), or DLL with LCR.DLAB;
1 IER, or DLM with DLAB; 2 IIR (read) / FCR (write); 3 LCR; 4 MCR;
5 LSR; 6 MSR; 7 scratch.

Transmit: a byte written to THR leaves at once: it is appended to
``output`` and passed to ``on_tx(byte)`` if given (in loopback, MCR bit 4,
it comes back as received data instead).  LSR always shows THRE and TEMT,
and the THR-empty interrupt is re-armed after every byte.

Receive: the host side is a pipe that never drops.  ``inject(data)`` appends
to ``host_pending``, the bytes the host has sent that the UART has not taken
yet (machine state: snapshotted with the registers).  They enter the receive
buffer (``rx``: the 16-byte FIFO, or the one-byte holding register while the
FIFO is off) at ``tick``, one at a time, as the line delivers them: a byte enters when
there is room and one character time (start, data, parity and stop bits at
the programmed baud rate) has passed since the previous one entered, so a
guest that reads "while LSR.DR" takes what has arrived, not the whole pipe.
A full receiver makes the host wait, as QEMU's serial backend accepts host
bytes only when it can receive them: no overrun.  LSR.DR is set exactly while
``rx`` holds a byte and each RBR read takes one.  With the FIFO enabled the
"received data" interrupt needs the trigger level (1/4/8/14 bytes), and below
it the character-timeout interrupt (IIR 0x0C) is reported at once instead of
after four character times.

Interrupts, highest first: line status (IER bit 2; never raised, errors do
not happen here), received data / timeout (IER bit 0), THR empty (IER bit 1;
cleared by reading IIR while it is the reported cause or by writing THR),
modem status (IER bit 3; deltas appear only in loopback).  IIR gives the
cause (0x01 = none) with 0xC0 set while the FIFO is enabled.  The IRQ line
is the cause being non-none, gated by MCR.OUT2 as on a PC (``gate_out2``;
QEMU does not gate).
"""

from __future__ import annotations

from collections import deque
from enum import IntEnum
from typing import Callable

from .base import Device, IrqLine

COM1 = 0x3F8


class UartReg(IntEnum):
    """Register offsets from the base port."""

    RBR_THR = 0
    IER = 1
    IIR_FCR = 2
    LCR = 3
    MCR = 4
    LSR = 5
    MSR = 6
    SCR = 7


class Iir(IntEnum):
    """Interrupt identification values (low nibble of IIR)."""

    MODEM_STATUS = 0x00
    NONE = 0x01
    THR_EMPTY = 0x02
    RX_DATA = 0x04
    LINE_STATUS = 0x06
    RX_TIMEOUT = 0x0C
    FIFO_ENABLED = 0xC0


class UartBits(IntEnum):
    """Bits of IER, FCR, LCR, MCR, LSR and MSR."""

    IER_RDI = 0x01
    IER_THRI = 0x02
    IER_RLSI = 0x04
    IER_MSI = 0x08
    FCR_ENABLE = 0x01
    FCR_CLEAR_RX = 0x02
    LCR_DLAB = 0x80
    MCR_DTR = 0x01
    MCR_RTS = 0x02
    MCR_OUT1 = 0x04
    MCR_OUT2 = 0x08
    MCR_LOOP = 0x10
    LSR_DR = 0x01
    LSR_OE = 0x02
    LSR_THRE = 0x20
    LSR_TEMT = 0x40
    MSR_NORMAL = 0xB0


FIFO_SIZE = 16
TRIGGER_LEVELS = (1, 4, 8, 14)
BASE_CLOCK_BAUD = 115200


class Uart16550(Device):
    """A 16550A serial port whose line is the host."""

    name = "uart"
    state_fields = ("rx", "host_pending", "rx_ready_at", "ier", "fcr", "lcr", "mcr",
                    "lsr_errors", "msr", "scr", "dll", "dlm", "thr_ipending", "last_rx", "tx_count")

    def __init__(
        self,
        pic=None,
        base: int = COM1,
        irq: int = 4,
        on_tx: Callable[[int], None] | None = None,
        gate_out2: bool = True,
        name: str = "uart",
    ) -> None:
        """Create the port at ``base`` wired to line ``irq`` of ``pic``."""
        super().__init__()
        self.name = name
        self.base = base
        self.ports = tuple(range(base, base + 8))
        self.irq = IrqLine(pic, irq)
        self.on_tx = on_tx
        self.gate_out2 = gate_out2
        #: Every byte the guest transmitted.
        self.output = bytearray()
        #: Bytes transmitted since power-on (state; ``output`` is the host's record).
        self.tx_count = 0
        #: The receive buffer the guest reads (at most ``rx_capacity`` bytes).
        self.rx: deque[int] = deque()
        #: Bytes the host sent that the receiver has not taken yet.
        self.host_pending: deque[int] = deque()
        #: Virtual time (ns) from which the line can deliver the next byte.
        self.rx_ready_at = 0
        self.ier = self.fcr = self.lcr = self.scr = self.lsr_errors = 0
        self.mcr = int(UartBits.MCR_OUT2)
        self.msr = int(UartBits.MSR_NORMAL)
        self.dll, self.dlm = 0x0C, 0
        self.thr_ipending = False
        self.last_rx = 0

    # -- host side ------------------------------------------------------------

    def inject(self, data: bytes | str) -> None:
        """Send bytes from the host (str is UTF-8 encoded): they wait in
        ``host_pending`` and reach the receiver at the next ``tick`` on, as the
        line delivers them (never here: when a byte enters depends only on
        virtual time, so a replayed input gives the same run)."""
        if isinstance(data, str):
            data = data.encode()
        self.host_pending.extend(data)

    @property
    def rx_capacity(self) -> int:
        """Bytes the receiver holds: the FIFO, or the holding register alone."""
        return FIFO_SIZE if self._fifo() else 1

    @property
    def char_time_ns(self) -> int:
        """Nanoseconds one character takes on the line at the programmed format
        and baud rate (a divisor of 0 counts as 1, the fastest rate)."""
        bits = 1 + (self.lcr & 0x03) + 5 + bool(self.lcr & 0x08) + (2 if self.lcr & 0x04 else 1)
        return bits * 1_000_000_000 * max(self.divisor, 1) // BASE_CLOCK_BAUD

    def _receive(self) -> None:
        """Move the next host byte into the receiver if the line has delivered it."""
        if self.host_pending and len(self.rx) < self.rx_capacity and self.now >= self.rx_ready_at:
            self.rx.append(self.host_pending.popleft())
            self.rx_ready_at = self.now + self.char_time_ns

    def tick(self, now: int) -> None:
        """Advance to ``now``; a host byte the line has delivered enters the receiver."""
        super().tick(now)
        if self.host_pending:
            self._receive()
            self._update()

    def next_event(self, now: int) -> int | None:
        """When the next waiting host byte can enter the receiver (None while
        nothing waits or the receiver is full: the guest must read first)."""
        if self.host_pending and len(self.rx) < self.rx_capacity:
            return max(self.rx_ready_at, now)
        return None

    def take_output(self) -> bytes:
        """Return and clear everything transmitted so far."""
        data = bytes(self.output)
        self.output.clear()
        return data

    @property
    def divisor(self) -> int:
        """The baud rate divisor latch."""
        return self.dll | self.dlm << 8

    @property
    def baud(self) -> int:
        """The programmed baud rate (0 if the divisor is 0)."""
        return BASE_CLOCK_BAUD // self.divisor if self.divisor else 0

    # -- interrupt logic ---------------------------------------------------------

    def _fifo(self) -> bool:
        """True while the FIFOs are enabled."""
        return bool(self.fcr & UartBits.FCR_ENABLE)

    def interrupt_id(self) -> int:
        """The highest-priority pending cause (an ``Iir`` value)."""
        if self.ier & UartBits.IER_RLSI and self.lsr_errors:
            return Iir.LINE_STATUS
        if self.ier & UartBits.IER_RDI and self.rx:
            if not self._fifo():
                return Iir.RX_DATA
            level = TRIGGER_LEVELS[self.fcr >> 6]
            return Iir.RX_DATA if min(len(self.rx), FIFO_SIZE) >= level else Iir.RX_TIMEOUT
        if self.ier & UartBits.IER_THRI and self.thr_ipending:
            return Iir.THR_EMPTY
        if self.ier & UartBits.IER_MSI and self.msr & 0x0F:
            return Iir.MODEM_STATUS
        return Iir.NONE

    def _line_level(self) -> bool:
        """Level of the IRQ line: a pending cause, gated by OUT2."""
        enabled = not self.gate_out2 or bool(self.mcr & UartBits.MCR_OUT2)
        return enabled and self.interrupt_id() != Iir.NONE

    def _update(self) -> None:
        """Drive the IRQ line."""
        self.irq.set(self._line_level())

    # -- guest accesses -------------------------------------------------------------

    def read(self, port: int, size: int) -> int:
        """Guest IN from one of the eight registers."""
        reg = port - self.base
        dlab = self.lcr & UartBits.LCR_DLAB
        if reg == UartReg.RBR_THR:
            if dlab:
                return self.dll
            if self.rx:
                self.last_rx = self.rx.popleft()
                self._update()
            return self.last_rx
        if reg == UartReg.IER:
            return self.dlm if dlab else self.ier
        if reg == UartReg.IIR_FCR:
            iid = self.interrupt_id()
            if iid == Iir.THR_EMPTY:
                self.thr_ipending = False
                self._update()
            return int(iid) | (Iir.FIFO_ENABLED if self._fifo() else 0)
        if reg == UartReg.LCR:
            return self.lcr
        if reg == UartReg.MCR:
            return self.mcr
        if reg == UartReg.LSR:
            value = self.lsr
            if self.lsr_errors:
                self.lsr_errors = 0
                self._update()
            return value
        if reg == UartReg.MSR:
            value = self.msr
            if self.msr & 0x0F:
                self.msr &= 0xF0
                self._update()
            return value
        return self.scr

    @property
    def lsr(self) -> int:
        """Line status: DR while the receiver holds a byte, THRE and TEMT always."""
        value = UartBits.LSR_THRE | UartBits.LSR_TEMT | self.lsr_errors
        return int(value | (UartBits.LSR_DR if self.rx else 0))

    def write(self, port: int, size: int, value: int) -> None:
        """Guest OUT to one of the eight registers."""
        reg = port - self.base
        dlab = self.lcr & UartBits.LCR_DLAB
        if reg == UartReg.RBR_THR:
            if dlab:
                self.dll = value
            else:
                self._transmit(value)
        elif reg == UartReg.IER:
            if dlab:
                self.dlm = value
            else:
                if value & ~self.ier & UartBits.IER_THRI:
                    self.thr_ipending = True
                self.ier = value & 0x0F
        elif reg == UartReg.IIR_FCR:
            self._write_fcr(value)
        elif reg == UartReg.LCR:
            self.lcr = value
        elif reg == UartReg.MCR:
            self._write_mcr(value & 0x1F)
        elif reg == UartReg.SCR:
            self.scr = value
        self._update()

    def _transmit(self, byte: int) -> None:
        """THR write: send the byte and re-arm the THR-empty interrupt."""
        self.thr_ipending = False
        self._update()
        if self.mcr & UartBits.MCR_LOOP:
            self.rx.append(byte)
        else:
            self.output.append(byte)
            self.tx_count += 1
            if self.on_tx is not None:
                self.on_tx(byte)
        self.thr_ipending = True

    def _write_fcr(self, value: int) -> None:
        """FCR write: FIFO enable, clears and trigger level."""
        if (value ^ self.fcr) & UartBits.FCR_ENABLE or value & UartBits.FCR_CLEAR_RX:
            self.rx.clear()
        self.fcr = value & 0xC9 if value & UartBits.FCR_ENABLE else 0

    def _loop_msr(self, mcr: int) -> int:
        """Modem status lines as loopback wires them from MCR."""
        if not mcr & UartBits.MCR_LOOP:
            return int(UartBits.MSR_NORMAL)
        return ((mcr & UartBits.MCR_RTS) << 3 | (mcr & UartBits.MCR_DTR) << 5
                | (mcr & UartBits.MCR_OUT1) << 4 | (mcr & UartBits.MCR_OUT2) << 4)

    def _write_mcr(self, value: int) -> None:
        """MCR write; in loopback the change shows in MSR's delta bits."""
        old, new = self.msr & 0xF0, self._loop_msr(value)
        if value & UartBits.MCR_LOOP or self.mcr & UartBits.MCR_LOOP:
            self.msr = (self.msr & 0x0F) | ((old ^ new) >> 4) | new
        self.mcr = value

    def snapshot(self) -> dict:
        """Registers, received and still pending input, and transmit count."""
        state = super().snapshot()
        state.update(lsr=self.lsr, iir=int(self.interrupt_id()), baud=self.baud)
        return state

    def restore(self, state: dict) -> None:
        """Put back a ``snapshot`` (``output`` is left as it is)."""
        super().restore(state)
        self.irq.level = self._line_level()
