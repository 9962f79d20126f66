"""PortBus: dispatch, unknown ports, splitting, errors, time and state."""

import pytest

from rustos_dbg.devices import Device, Pic, PortBus, UnknownAccess


class Echo(Device):
    """A test device: remembers writes, reads back value + port offset."""

    name = "echo"
    ports = (0x300, 0x301)
    state_fields = ("value",)

    def __init__(self, at=None):
        super().__init__()
        self.value = 0x40
        self.at = at

    def read(self, port, size):
        return self.value + (port - 0x300)

    def write(self, port, size, value):
        self.value = value

    def next_event(self, now):
        return self.at


class Broken(Device):
    name = "broken"
    ports = (0x310,)

    def read(self, port, size):
        raise RuntimeError("boom")

    def write(self, port, size, value):
        raise RuntimeError("bang")


def test_unknown_read_returns_all_ones_by_size_and_is_logged():
    bus = PortBus()
    assert bus.read(0x1234, 1) == 0xFF
    assert bus.read(0x1234, 2) == 0xFFFF
    assert bus.read(0x1234, 4) == 0xFFFF_FFFF
    assert list(bus.unknown) == [UnknownAccess(0x1234, s, "in", None) for s in (1, 2, 4)]
    assert bus.unknown_count == 3


def test_unknown_write_is_logged_with_value_and_does_not_raise():
    bus = PortBus()
    bus.write(0x2F8, 2, 0x1_ABCD)
    assert bus.unknown[-1] == UnknownAccess(0x2F8, 2, "out", 0xABCD)


def test_unknown_log_is_bounded_but_counts_everything():
    bus = PortBus(log_size=4)
    for port in range(10):
        bus.read(0x500 + port, 1)
    assert [u.port for u in bus.unknown] == [0x506, 0x507, 0x508, 0x509]
    assert bus.unknown_count == 10


def test_dispatch_reaches_the_owner():
    echo = Echo()
    bus = PortBus([echo])
    bus.write(0x300, 1, 0x5A)
    assert echo.value == 0x5A
    assert bus.read(0x301, 1) == 0x5B
    assert bus.owner(0x301) is echo and bus.device("echo") is echo
    assert not bus.unknown


def test_port_conflict_is_refused():
    bus = PortBus([Echo()])
    with pytest.raises(ValueError):
        bus.register(Echo())


def test_wide_access_is_split_into_byte_accesses():
    pic = Pic()
    bus = PortBus([pic])
    # 16-bit IN from 0x20 reads IRR (0x20) and IMR (0x21) of the master
    pic.raise_irq(0)
    assert bus.read(0x20, 2) == 0x01 | 0xFB << 8
    # a word half on an unowned port: that half is all-ones and logged
    echo = Echo()
    bus.register(echo)
    assert bus.read(0x301, 2) == 0x41 | 0xFF << 8
    assert bus.unknown[-1] == UnknownAccess(0x302, 1, "in", None)
    bus.write(0x300, 2, 0x1234)
    assert echo.value == 0x12  # 0x300 got 0x34, then 0x301 got 0x12


def test_device_errors_are_recorded_not_raised():
    bus = PortBus([Broken()])
    assert bus.read(0x310, 1) == 0xFF
    bus.write(0x310, 1, 1)
    assert len(bus.errors) == 2 and "boom" in bus.errors[0]
    strict = PortBus([Broken()], strict=True)
    with pytest.raises(RuntimeError):
        strict.read(0x310, 1)


def test_next_event_is_the_minimum_and_none_without_events():
    assert PortBus([Echo()]).next_event(0) is None
    a, b = Echo(at=500), Echo(at=300)
    b.ports = (0x302,)
    assert PortBus([a, b]).next_event(0) == 300


def test_tick_reaches_all_devices_and_clock_ticks_before_access():
    now = [0]
    echo = Echo()
    bus = PortBus([echo], clock=lambda: now[0])
    bus.tick(1000)
    assert echo.now == 1000
    now[0] = 5000
    bus.read(0x300, 1)
    assert echo.now == 5000
    bus.tick(10)  # time never goes back
    assert echo.now == 5000


def test_snapshot_and_restore_round_trip():
    echo = Echo()
    bus = PortBus([echo])
    bus.write(0x300, 1, 0x77)
    bus.read(0x999, 1)
    snap = bus.snapshot()
    assert snap["devices"]["echo"]["value"] == 0x77
    assert snap["unknown"] == [[0x999, 1, "in", None]]
    bus.write(0x300, 1, 0x11)
    bus.restore(snap)
    assert echo.value == 0x77
