"""CMOS/RTC: deterministic time, formats, NMI bit, periodic IRQ8."""

from rustos_dbg.devices import Cmos, Pic

from .util import eoi, init_pic

NS = 1_000_000_000


def reg(cmos, index):
    cmos.write(0x70, 1, index)
    return cmos.read(0x71, 1)


def test_time_is_the_epoch_plus_virtual_seconds_in_bcd():
    cmos = Cmos()
    assert [reg(cmos, r) for r in (0, 2, 4, 6, 7, 8, 9, 0x32)] == [0, 0, 0, 2, 1, 1, 0x24, 0x20]
    cmos.tick((13 * 3600 + 45 * 60 + 59) * NS + 999)
    assert [reg(cmos, r) for r in (4, 2, 0)] == [0x13, 0x45, 0x59]


def test_binary_and_twelve_hour_modes_follow_status_b():
    cmos = Cmos()
    cmos.tick(13 * 3600 * NS)
    cmos.write(0x70, 1, 0x0B)
    cmos.write(0x71, 1, 0x00)  # BCD, 12-hour
    assert reg(cmos, 4) == 0x81
    cmos.write(0x70, 1, 0x0B)
    cmos.write(0x71, 1, 0x06)  # binary, 24-hour
    assert reg(cmos, 4) == 13 and reg(cmos, 9) == 24


def test_same_virtual_time_gives_same_answers():
    a, b = Cmos(), Cmos()
    for cmos in (a, b):
        cmos.tick(86_400 * NS * 40 + 7)
    assert [reg(a, r) for r in range(10)] == [reg(b, r) for r in range(10)]
    assert a.datetime().isoformat() == "2024-02-10T00:00:00"


def test_nmi_bit_and_index_port():
    cmos = Cmos()
    cmos.write(0x70, 1, 0x80 | 0x0D)
    assert cmos.nmi_disabled and cmos.read(0x71, 1) == 0x80
    assert cmos.read(0x70, 1) == 0xFF
    cmos.write(0x70, 1, 0x0D)
    assert not cmos.nmi_disabled


def test_update_in_progress_near_the_second_boundary():
    cmos = Cmos()
    cmos.tick(NS - 100_000)
    assert reg(cmos, 0x0A) & 0x80
    cmos.tick(NS + 1)
    assert not reg(cmos, 0x0A) & 0x80


def test_ram_bytes_and_memory_size():
    cmos = Cmos(memory_bytes=128 << 20)
    assert reg(cmos, 0x15) | reg(cmos, 0x16) << 8 == 640
    assert reg(cmos, 0x34) | reg(cmos, 0x35) << 8 == (112 << 20) >> 16
    cmos.write(0x70, 1, 0x40)
    cmos.write(0x71, 1, 0xAB)
    assert reg(cmos, 0x40) == 0xAB
    cmos.write(0x70, 1, 0x00)
    cmos.write(0x71, 1, 0x30)  # the clock cannot be set
    assert reg(cmos, 0) == 0


def test_periodic_interrupt_raises_irq8_until_status_c_is_read():
    pic = Pic()
    init_pic(pic)
    cmos = Cmos(pic)
    assert cmos.next_event(0) is None
    cmos.write(0x70, 1, 0x0B)
    cmos.write(0x71, 1, 0x42)  # PIE, 24-hour: 1024 Hz (rate 6)
    t = cmos.next_event(0)
    assert t == 976_563  # 32 ticks of 32768 Hz, rounded up
    cmos.tick(t - 1)
    assert not pic.pending()
    cmos.tick(t)
    assert pic.acknowledge() == 0x28
    assert reg(cmos, 0x0C) & 0xC0 == 0xC0
    assert reg(cmos, 0x0C) == 0
    eoi(pic, 0x28)
    cmos.tick(cmos.next_event(t))
    assert pic.acknowledge() == 0x28


def test_snapshot_restore_round_trip():
    cmos = Cmos()
    cmos.tick(5 * NS)
    cmos.write(0x70, 1, 0x50)
    cmos.write(0x71, 1, 0x99)
    snap = cmos.snapshot()
    assert snap["datetime"] == "2024-01-01T00:00:05"
    other = Cmos()
    other.restore(snap)
    assert reg(other, 0x50) == 0x99 and reg(other, 0) == 0x05
