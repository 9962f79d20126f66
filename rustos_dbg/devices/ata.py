"""The primary ATA channel in PIO mode: ports 0x1F0-0x1F7 and 0x3F6, IRQ 14.

A master drive backed by a :class:`~.disk.DiskImage` (no slave). Commands:
IDENTIFY DEVICE (0xEC), READ SECTORS (0x20/0x21) and READ SECTORS EXT
(0x24), WRITE SECTORS (0x30/0x31) and WRITE SECTORS EXT (0x34), FLUSH CACHE
(0xE7/0xEA), and SET FEATURES (0xEF), INITIALIZE DEVICE PARAMETERS (0x91),
SET MULTIPLE (0xC6) accepted as no-ops; any other command is aborted (ERR,
ABRT). References: ATA/ATAPI-6 (T13 1410D) §6 and §8, as QEMU's ``ide``
device implements it: a command completes at once (BSY is never seen, which
keeps runs deterministic), INTRQ rises when a sector is ready to read, after
each sector written, and at the end of non-data commands; reading Status
(0x1F7) clears it, Alternate Status (0x3F6) does not; nIEN in Device Control
masks it and SRST resets the drive to its signature. Data moves 16 (or 32)
bits per access. With no disk, or the slave selected, every register reads 0
(no device, as QEMU's empty channel).

State (``snapshot``/``restore``): the task-file registers with their
high-order bytes (LBA48), the transfer in progress and the disk's written
sectors, so going back in time puts the image file back too.
"""

from __future__ import annotations

import struct
from enum import IntEnum, IntFlag

from .base import Device, IrqLine
from .disk import SECTOR, DiskImage

DATA, ERROR, COUNT, LBA_LOW, LBA_MID, LBA_HIGH, DRIVE, COMMAND = range(0x1F0, 0x1F8)
CONTROL = 0x3F6
IRQ = 14


class Status(IntFlag):
    """The Status register (ATA-6 §7.15)."""

    ERR = 0x01
    DRQ = 0x08
    DSC = 0x10
    DF = 0x20
    DRDY = 0x40
    BSY = 0x80


class Command(IntEnum):
    """The commands the drive carries out."""

    READ = 0x20
    READ_NO_RETRY = 0x21
    READ_EXT = 0x24
    WRITE = 0x30
    WRITE_NO_RETRY = 0x31
    WRITE_EXT = 0x34
    INITIALIZE_PARAMETERS = 0x91
    SET_MULTIPLE = 0xC6
    FLUSH = 0xE7
    FLUSH_EXT = 0xEA
    IDENTIFY = 0xEC
    SET_FEATURES = 0xEF


ABRT, IDNF = 0x04, 0x10            # Error register bits
NIEN, SRST = 0x02, 0x04            # Device Control bits
_READS = (Command.READ, Command.READ_NO_RETRY, Command.READ_EXT)
_WRITES = (Command.WRITE, Command.WRITE_NO_RETRY, Command.WRITE_EXT)
_NO_DATA = (Command.INITIALIZE_PARAMETERS, Command.SET_MULTIPLE, Command.FLUSH, Command.FLUSH_EXT,
            Command.SET_FEATURES)


def identify_data(sectors: int, model: str = "RUSTOS-DBG DISK") -> bytes:
    """The 512 bytes of IDENTIFY DEVICE (ATA-6 §8.15: the words a driver reads)."""
    words = [0] * 256

    def text(first: int, count: int, value: str) -> None:  # ATA strings: two characters per word, first high
        raw = value.ljust(2 * count)[:2 * count].encode()
        for i in range(count):
            words[first + i] = raw[2 * i] << 8 | raw[2 * i + 1]

    cylinders = min(sectors // (16 * 63), 16383)
    words[0] = 0x0040                            # fixed device
    words[1], words[3], words[6] = cylinders, 16, 63
    text(10, 10, "RUSTOS0001")                   # serial number
    text(23, 4, "1.0")                           # firmware revision
    text(27, 20, model)                          # model number
    words[47] = 0x8001                           # READ/WRITE MULTIPLE: 1 sector
    words[49] = 0x0200                           # LBA supported
    words[53] = 0x0006                           # words 64-70 and 88 valid
    lba28 = min(sectors, 0x0FFF_FFFF)
    words[60], words[61] = lba28 & 0xFFFF, lba28 >> 16
    words[80] = 0x007E                           # ATA-1 to ATA-6
    words[83] = words[86] = 0x4400               # LBA48 supported and enabled
    for i in range(4):
        words[100 + i] = sectors >> (16 * i) & 0xFFFF
    return struct.pack("<256H", *words)


class AtaChannel(Device):
    """The primary channel with one master drive (or none)."""

    name = "ata"
    ports = (DATA, ERROR, COUNT, LBA_LOW, LBA_MID, LBA_HIGH, DRIVE, COMMAND, CONTROL)
    access_sizes = (1, 2, 4)
    state_fields = ("error", "features", "count", "lba_low", "lba_mid", "lba_high", "hob", "drive", "status",
                    "control", "pending", "buffer", "position", "remaining", "lba", "writing")

    def __init__(self, pic=None, disk: DiskImage | None = None) -> None:
        """A channel whose master is ``disk`` (None: an empty channel), interrupting on IRQ 14 of ``pic``."""
        super().__init__()
        self.disk = disk
        self.irq = IrqLine(pic, IRQ)
        self.control = 0
        self._reset()

    def _reset(self) -> None:
        """The drive after power-on or a software reset: its signature, no transfer, INTRQ low."""
        self.error, self.features = 1, 0
        self.count, self.lba_low, self.lba_mid, self.lba_high = 1, 1, 0, 0
        self.hob = [0, 0, 0, 0]          # previous COUNT, LBA_LOW, LBA_MID, LBA_HIGH (LBA48)
        self.drive = 0xA0
        self.status = int(Status.DRDY | Status.DSC)
        self.pending = False             # INTRQ asserted by the drive
        self.buffer = bytearray()        # the sector being transferred
        self.position = 0
        self.remaining = 0               # sectors left in the command, this one included
        self.lba = 0
        self.writing = False
        self.irq.set(False)

    # --- guest access ----------------------------------------------------------

    def _present(self) -> bool:
        return self.disk is not None and not self.drive & 0x10

    def read(self, port: int, size: int) -> int:
        """A register, or 2 or 4 bytes of the sector being read."""
        if not self._present():
            return 0
        if port == DATA:
            return self._read_data(size)
        if port in (COMMAND, CONTROL):
            if port == COMMAND:
                self._interrupt(False)
            return self.status
        return {ERROR: self.error, COUNT: self.count, LBA_LOW: self.lba_low, LBA_MID: self.lba_mid,
                LBA_HIGH: self.lba_high, DRIVE: self.drive}[port]

    def write(self, port: int, size: int, value: int) -> None:
        """A register, a command, or 2 or 4 bytes of the sector being written."""
        if port == CONTROL:
            self._device_control(value & 0xFF)
        elif port == DRIVE:
            self.drive = value & 0xFF | 0xA0
        elif port == DATA:
            if self._present():
                self._write_data(size, value)
        elif port == COMMAND:
            if self._present():
                self._command(value & 0xFF)
        else:
            index = port - COUNT
            if index >= 0:
                names = ("count", "lba_low", "lba_mid", "lba_high")
                self.hob[index] = getattr(self, names[index])
                setattr(self, names[index], value & 0xFF)
            else:
                self.features = value & 0xFF

    # --- commands --------------------------------------------------------------

    def _command(self, command: int) -> None:
        self.error = 0
        self.status = int(Status.DRDY | Status.DSC)
        self.buffer, self.position, self.remaining = bytearray(), 0, 0
        if command == Command.IDENTIFY:
            self.buffer = bytearray(identify_data(self.disk.sectors))
            self.status |= Status.DRQ
            self._interrupt(True)
        elif command in _READS or command in _WRITES:
            self._transfer(command in _WRITES, command in (Command.READ_EXT, Command.WRITE_EXT))
        elif command in _NO_DATA:
            self._interrupt(True)
        else:
            self._abort(ABRT)

    def _transfer(self, writing: bool, ext: bool) -> None:
        if ext:
            lba = (self.hob[3] << 40 | self.hob[2] << 32 | self.hob[1] << 24
                   | self.lba_high << 16 | self.lba_mid << 8 | self.lba_low)
            count = (self.hob[0] << 8 | self.count) or 65536
        else:
            lba = (self.drive & 0x0F) << 24 | self.lba_high << 16 | self.lba_mid << 8 | self.lba_low
            count = self.count or 256
        if lba + count > self.disk.sectors or (writing and not self.disk.writable):
            self._abort(IDNF | ABRT if lba + count > self.disk.sectors else ABRT)
            return
        self.lba, self.remaining, self.writing = lba, count, writing
        if writing:
            self.buffer = bytearray(SECTOR)
            self.status |= Status.DRQ                # the first sector is asked for without an interrupt
        else:
            self._next_sector()

    def _next_sector(self) -> None:
        self.buffer, self.position = bytearray(self.disk.read(self.lba)), 0
        self.status |= Status.DRQ
        self._interrupt(True)

    def _read_data(self, size: int) -> int:
        if not self.status & Status.DRQ or self.writing and self.remaining:
            return 0
        chunk = self.buffer[self.position:self.position + size]
        self.position += size
        if self.position >= len(self.buffer):
            self.status &= ~Status.DRQ
            if self.remaining > 1:
                self.remaining -= 1
                self.lba += 1
                self._next_sector()
            else:
                self.remaining = 0
        return int.from_bytes(chunk.ljust(size, b"\0"), "little")

    def _write_data(self, size: int, value: int) -> None:
        if not self.writing or not self.remaining or not self.status & Status.DRQ:
            return
        self.buffer[self.position:self.position + size] = (value & (1 << 8 * size) - 1).to_bytes(size, "little")
        self.position += size
        if self.position < SECTOR:
            return
        self.disk.write(self.lba, bytes(self.buffer[:SECTOR]))
        self.lba, self.remaining, self.position = self.lba + 1, self.remaining - 1, 0
        if self.remaining:
            self.buffer = bytearray(SECTOR)
        else:
            self.status &= ~Status.DRQ
            self.writing = False
        self._interrupt(True)

    def _abort(self, error: int) -> None:
        self.error = error
        self.status = int(Status.DRDY | Status.DSC | Status.ERR)
        self._interrupt(True)

    def _device_control(self, value: int) -> None:
        if self.control & SRST and not value & SRST:   # the end of a software reset: the signature
            self._reset()
        self.control = value
        self._interrupt(self.pending)

    def _interrupt(self, asserted: bool) -> None:
        self.pending = asserted
        self.irq.set(asserted and not self.control & NIEN)

    # --- state -------------------------------------------------------------------

    def snapshot(self) -> dict:
        """The registers, the transfer in progress and the disk's written sectors."""
        state = super().snapshot()
        state["disk"] = self.disk.snapshot() if self.disk is not None else None
        return state

    def restore(self, state: dict) -> None:
        """Puts back a :meth:`snapshot` (the image file included)."""
        super().restore(state)
        self.hob = list(self.hob)        # a frozen state holds a tuple
        if self.disk is not None and state.get("disk") is not None:
            self.disk.restore(dict(state["disk"]))
