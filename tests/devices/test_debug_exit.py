"""isa-debug-exit: QEMU's (value << 1) | 1 exit code."""

from rustos_dbg.devices import DebugExit, PortBus
from rustos_dbg.devices.debug_exit import exit_code


def test_exit_code_mapping_matches_qemu():
    assert exit_code(0x10) == 33
    assert exit_code(0x11) == 35
    assert exit_code(0) == 1


def test_write_through_the_bus_records_the_exit():
    codes = []
    dev = DebugExit(on_exit=codes.append)
    bus = PortBus([dev], strict=True)
    assert not dev.exited
    bus.write(0xF4, 4, 0x10)
    assert dev.exited and dev.code == 33 and dev.status == 33 and dev.value == 0x10
    assert codes == [33]


def test_first_write_wins_and_status_is_the_low_byte():
    dev = DebugExit()
    dev.write(0xF4, 4, 0x80)
    dev.write(0xF4, 4, 0x11)
    assert dev.code == 0x101 and dev.status == 0x01


def test_owns_four_ports_and_reads_zero():
    dev = DebugExit()
    bus = PortBus([dev], strict=True)
    assert dev.ports == (0xF4, 0xF5, 0xF6, 0xF7)
    assert bus.read(0xF4, 4) == 0 and bus.read(0xF7, 1) == 0
    assert not bus.unknown and not dev.exited
    bus.write(0xF6, 1, 3)
    assert dev.code == 7


def test_snapshot():
    dev = DebugExit()
    assert dev.snapshot()["exited"] is False
    dev.write(0xF4, 1, 1)
    assert dev.snapshot() == {"now": 0, "exited": True, "value": 1, "code": 3}
