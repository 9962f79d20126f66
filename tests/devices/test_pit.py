"""8254 PIT: kernel programming at 1000 Hz, exact timing, latches, gates."""

from hypothesis import given, settings, strategies as st

from rustos_dbg.devices import Pic, Pit, SystemControlB
from rustos_dbg.devices.pit import PIT_HZ, pit_clocks, pit_time

from .util import eoi, init_pic

NS = 1_000_000_000


def program(pit, divisor, command=0x34, channel=0):
    """Mode/command byte then lobyte/hibyte, as the kernel does."""
    pit.write(0x43, 1, command)
    pit.write(0x40 + channel, 1, divisor & 0xFF)
    pit.write(0x40 + channel, 1, divisor >> 8)


def test_clock_conversions_are_exact_inverses():
    for clocks in (0, 1, 1193, 65536, PIT_HZ, 10 * PIT_HZ + 7):
        t = pit_time(clocks)
        assert pit_clocks(t) == clocks
        assert pit_clocks(t - 1) == clocks - 1 or clocks == 0


def test_divisor_1193_period_is_999847_ns():
    pit = Pit(bios_defaults=False)
    assert pit.next_event(0) is None
    program(pit, 1193)
    assert pit.next_event(0) == pit_time(1193) == 999848  # 999847.6 ns rounded up
    assert pit.snapshot()["irq0_hz"] == PIT_HZ / 1193


def test_one_virtual_second_gives_1000_irqs_through_the_pic():
    pic = Pic()
    init_pic(pic, master_mask=0xFE)
    pit = Pit(pic, bios_defaults=False)
    program(pit, 1193)
    vectors = []
    while (t := pit.next_event(pit.now)) <= NS:
        pit.tick(t)
        assert pic.pending()
        vectors.append(pic.acknowledge())
        eoi(pic, vectors[-1])
        assert not pic.pending()
    assert len(vectors) == 1000 and set(vectors) == {0x20}
    assert pit.irq_count == 1000


def test_mode_3_square_wave_has_the_same_period():
    pit = Pit(bios_defaults=False)
    program(pit, 1193, command=0x36)
    pit.tick(NS)
    assert pit.irq_count == PIT_HZ // 1193 == 1000


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=3_000_000), min_size=1, max_size=200))
def test_irq_count_does_not_depend_on_tick_granularity(steps):
    fine = Pit(bios_defaults=False)
    program(fine, 1193)
    now = 0
    for step in steps:
        now += step
        fine.tick(now)
    coarse = Pit(bios_defaults=False)
    program(coarse, 1193)
    coarse.tick(now)
    assert fine.irq_count == coarse.irq_count == pit_clocks(now) // 1193


def test_programming_late_starts_counting_from_that_time():
    pit = Pit(bios_defaults=False)
    pit.tick(12_345_678)
    program(pit, 1193)
    assert pit.next_event(pit.now) == pit_time(pit_clocks(12_345_678) + 1193)


def test_pulse_per_tick_reaches_pic_once_even_after_many_periods():
    pic = Pic()
    init_pic(pic, master_mask=0xFE)
    pit = Pit(pic, bios_defaults=False)
    program(pit, 1193)
    pit.tick(10_000_000)  # ten periods at once
    assert pit.irq_count == 10
    assert pic.acknowledge() == 0x20
    eoi(pic, 0x20)
    assert not pic.pending()


def test_latch_command_freezes_the_count():
    pit = Pit(bios_defaults=False)
    program(pit, 1193)
    pit.tick(pit_time(100))
    pit.write(0x43, 1, 0x00)  # latch channel 0
    pit.tick(pit_time(600))
    lo, hi = pit.read(0x40, 1), pit.read(0x40, 1)
    assert lo | hi << 8 == 1193 - 100
    lo, hi = pit.read(0x40, 1), pit.read(0x40, 1)  # live value after the latch
    assert lo | hi << 8 == 1193 - 600


def test_lobyte_only_access():
    pit = Pit(bios_defaults=False)
    program_lo = 0x14  # channel 0, lobyte only, mode 2
    pit.write(0x43, 1, program_lo)
    pit.write(0x40, 1, 200)
    assert pit.next_event(0) == pit_time(200)
    pit.tick(pit_time(50))
    assert pit.read(0x40, 1) == 150


def test_read_back_status_reports_mode_and_access():
    pit = Pit(bios_defaults=False)
    program(pit, 1193)
    pit.write(0x43, 1, 0xE2)  # read-back: status only, channel 0
    status = pit.read(0x40, 1)
    assert status & 0x3F == (3 << 4) | (2 << 1)
    assert not status & 0x40  # count loaded


def test_mode_0_fires_once_at_terminal_count():
    pit = Pit(bios_defaults=False)
    program(pit, 1000, command=0x30)
    assert pit.next_event(0) == pit_time(1000)
    pit.tick(pit_time(999))
    assert pit.irq_count == 0
    pit.tick(NS)
    assert pit.irq_count == 1 and pit.next_event(NS) is None


def test_bios_default_is_18_2_hz():
    pit = Pit()
    assert pit.next_event(0) == pit_time(65536)
    pit.tick(NS)
    assert pit.irq_count == PIT_HZ // 65536 == 18


def test_command_write_stops_channel_until_count_written():
    pit = Pit()
    pit.write(0x43, 1, 0x34)
    assert pit.next_event(0) is None
    pit.tick(NS)
    assert pit.irq_count == 0
    pit.write(0x40, 1, 0xA9)
    assert pit.next_event(NS) is None
    pit.write(0x40, 1, 0x04)
    assert pit.next_event(NS) == pit_time(pit_clocks(NS) + 1193)


def test_channel_2_through_port_61_for_delay_loops():
    pit = Pit(bios_defaults=False)
    port61 = SystemControlB(pit)
    port61.write(0x61, 1, 0x01)  # gate on, speaker off
    program(pit, 1193, command=0xB0, channel=2)  # channel 2, mode 0
    assert not port61.read(0x61, 1) & 0x20
    pit.tick(pit_time(1192))
    assert not port61.read(0x61, 1) & 0x20
    pit.tick(pit_time(1193))
    assert port61.read(0x61, 1) & 0x20
    assert pit.irq_count == 0  # channel 2 drives no IRQ


def test_channel_2_gate_low_holds_the_count():
    pit = Pit(bios_defaults=False)
    program(pit, 1000, command=0xB0, channel=2)
    pit.tick(pit_time(500))
    pit.set_gate(2, True)
    pit.tick(pit_time(700))
    pit.set_gate(2, False)
    pit.tick(pit_time(5000))
    assert pit.channels[2].value(pit.clocks) == 800


def test_snapshot_restore_round_trip():
    pit = Pit(bios_defaults=False)
    program(pit, 1193)
    pit.tick(5_000_000)
    snap = pit.snapshot()
    assert snap["channels"][0]["count"] == 1193 and snap["irq_count"] == 5
    other = Pit(bios_defaults=False)
    other.restore(snap)
    assert other.next_event(other.now) == pit.next_event(pit.now)
    other.tick(NS)
    assert other.irq_count == 1000
