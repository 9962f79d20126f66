"""The ATA channel (devices/ata.py) and its disk image (devices/disk.py), driven
through their ports as a driver would (ATA-6 PIO protocols)."""

import struct

import pytest

from rustos_dbg.devices.ata import (COMMAND, CONTROL, COUNT, DATA, DRIVE, ERROR, LBA_HIGH, LBA_LOW, LBA_MID,
                                    AtaChannel, Status)
from rustos_dbg.devices.base import freeze, digest
from rustos_dbg.devices.disk import SECTOR, DiskError, DiskImage

SECTORS = 64


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "disk.img"
    path.write_bytes(b"".join(bytes([i]) * SECTOR for i in range(SECTORS)))   # sector i is all i
    return path


@pytest.fixture
def ata(image):
    return AtaChannel(None, DiskImage(image))


def _select(ata, lba: int, count: int) -> None:
    ata.write(DRIVE, 1, 0xE0 | lba >> 24 & 0xF)
    for port, value in ((COUNT, count), (LBA_LOW, lba), (LBA_MID, lba >> 8), (LBA_HIGH, lba >> 16)):
        ata.write(port, 1, value & 0xFF)


def _read_sector(ata) -> bytes:
    return b"".join(struct.pack("<H", ata.read(DATA, 2)) for _ in range(SECTOR // 2))


def test_identify_reports_the_size_and_raises_intrq_until_status_is_read(ata):
    ata.write(DRIVE, 1, 0xA0)
    ata.write(COMMAND, 1, 0xEC)
    assert ata.read(CONTROL, 1) & Status.DRQ and ata.irq.level         # alternate status leaves INTRQ up
    words = struct.unpack("<256H", _read_sector(ata))
    assert words[60] | words[61] << 16 == SECTORS and words[49] & 0x200   # LBA28 sectors, LBA supported
    model = b"".join(struct.pack(">H", w) for w in words[27:47]).decode().strip()
    assert model == "RUSTOS-DBG DISK"
    assert not ata.read(COMMAND, 1) & Status.DRQ and not ata.irq.level   # status read: INTRQ down


def test_read_sectors_gives_each_sector_with_an_interrupt(ata):
    _select(ata, 5, 2)
    ata.write(COMMAND, 1, 0x20)
    assert ata.irq.level
    assert ata.read(COMMAND, 1) == Status.DRDY | Status.DSC | Status.DRQ
    assert _read_sector(ata) == bytes([5]) * SECTOR
    assert ata.irq.level                                                # the second sector is ready
    ata.read(COMMAND, 1)
    assert ata.read(DATA, 4) == 0x06060606 and _read_sector(ata)[:-4] == bytes([6]) * (SECTOR - 4)
    assert not ata.read(COMMAND, 1) & Status.DRQ


def test_write_sectors_reach_the_file(ata, image):
    _select(ata, 3, 1)
    ata.write(COMMAND, 1, 0x30)
    assert ata.read(CONTROL, 1) & Status.DRQ and not ata.irq.level       # the first sector: no interrupt
    for i in range(SECTOR // 2):
        ata.write(DATA, 2, 0xBEEF)
    assert ata.irq.level and not ata.read(COMMAND, 1) & Status.DRQ
    assert image.read_bytes()[3 * SECTOR:4 * SECTOR] == b"\xef\xbe" * (SECTOR // 2)
    assert image.read_bytes()[4 * SECTOR:5 * SECTOR] == bytes([4]) * SECTOR


def test_lba48_read_uses_the_high_order_bytes(ata):
    ata.write(DRIVE, 1, 0x40)
    for port, high, low in ((COUNT, 0, 1), (LBA_LOW, 0, 40), (LBA_MID, 0, 0), (LBA_HIGH, 0, 0)):
        ata.write(port, 1, high)
        ata.write(port, 1, low)
    ata.write(COMMAND, 1, 0x24)
    assert _read_sector(ata) == bytes([40]) * SECTOR


def test_beyond_the_end_and_unknown_commands_are_aborted(ata):
    _select(ata, SECTORS - 1, 2)
    ata.write(COMMAND, 1, 0x20)
    assert ata.read(COMMAND, 1) & Status.ERR and ata.read(ERROR, 1) == 0x14          # IDNF | ABRT
    ata.write(COMMAND, 1, 0x99)
    assert ata.read(COMMAND, 1) & Status.ERR and ata.read(ERROR, 1) == 0x04


def test_nien_masks_the_interrupt_and_srst_restores_the_signature(ata):
    ata.write(CONTROL, 1, 0x02)
    ata.write(COMMAND, 1, 0xEC)
    assert not ata.irq.level and ata.pending
    ata.write(CONTROL, 1, 0x00)
    assert ata.irq.level                                               # unmasked: the pending INTRQ shows
    ata.write(LBA_LOW, 1, 0x55)
    ata.write(CONTROL, 1, 0x04)
    ata.write(CONTROL, 1, 0x00)
    assert (ata.read(COUNT, 1), ata.read(LBA_LOW, 1), ata.read(ERROR, 1), ata.irq.level) == (1, 1, 1, False)


def test_no_disk_or_the_slave_reads_as_nothing(ata):
    empty = AtaChannel(None, None)
    assert [empty.read(p, 1) for p in (COMMAND, LBA_LOW, CONTROL)] == [0, 0, 0]
    ata.write(DRIVE, 1, 0xB0)                                          # the slave: absent
    assert ata.read(COMMAND, 1) == 0


def test_restore_puts_the_disk_file_back_in_any_order(ata, image):
    original = image.read_bytes()
    before = freeze(ata.snapshot())
    _select(ata, 7, 1)
    ata.write(COMMAND, 1, 0x30)
    for _ in range(SECTOR // 4):
        ata.write(DATA, 4, 0x11223344)
    after = freeze(ata.snapshot())
    changed = image.read_bytes()
    assert changed != original and digest(before) != digest(after)
    for state, content in ((before, original), (after, changed), (before, original), (after, changed)):
        ata.restore(state)
        assert image.read_bytes() == content
        _select(ata, 7, 1)
        ata.write(COMMAND, 1, 0x20)
        assert _read_sector(ata) == content[7 * SECTOR:8 * SECTOR]


def test_bad_images_are_refused_in_one_line(tmp_path):
    with pytest.raises(DiskError, match="cannot open disk image"):
        DiskImage(tmp_path / "missing.img")
    odd = tmp_path / "odd.img"
    odd.write_bytes(b"x" * 1000)
    with pytest.raises(DiskError, match="not a whole number of 512-byte sectors"):
        DiskImage(odd)
