"""Ports 0x80, 0x61, 0x92 and the standard wiring of all devices."""

from rustos_dbg.devices import FastA20, PostPort, SystemControlB, build_pc
from rustos_dbg.devices.pit import pit_time

from .util import eoi, init_pic


def test_post_port_swallows_writes():
    post = PostPort()
    post.write(0x80, 1, 0x42)
    assert post.last == 0x42 and post.writes == 1 and post.read(0x80, 1) == 0xFF


def test_port_61_refresh_bit_toggles_on_every_read():
    port = SystemControlB()
    reads = [port.read(0x61, 1) & 0x10 for _ in range(4)]
    assert reads == [0x10, 0, 0x10, 0]
    port.write(0x61, 1, 0x03)
    assert port.read(0x61, 1) & 0x03 == 0x03


def test_port_92_a20_and_reset():
    resets = []
    port = FastA20(on_reset=lambda: resets.append(1))
    assert port.a20 and port.read(0x92, 1) == 0x02
    port.write(0x92, 1, 0x00)
    assert not port.a20
    port.write(0x92, 1, 0x03)
    assert port.a20 and port.reset_requests == 1 and resets == [1]


def test_build_pc_registers_all_ports_without_unknowns():
    pc = build_pc(strict=True)
    for port in (0x20, 0x21, 0xA0, 0xA1, 0x40, 0x43, 0x60, 0x64, 0x61, 0x70, 0x71,
                 0x80, 0x92, 0xF4, 0x3F8, 0x3FF, 0x3D4, 0x3D5, 0x4D0):
        pc.bus.read(port, 1)
    assert not pc.bus.unknown and not pc.bus.errors
    assert pc.bus.read(0x2F8, 1) == 0xFF and len(pc.bus.unknown) == 1


def test_kernel_like_session_on_the_bus():
    """Remap the PIC, program the PIT at 1000 Hz, halt until IRQs, type keys."""
    now = [0]
    pc = build_pc(clock=lambda: now[0], strict=True)
    init_pic(pc.pic, master_mask=0xFC, slave_mask=0xFF)
    bus = pc.bus
    bus.write(0x43, 1, 0x34)
    bus.write(0x40, 1, 1193 & 0xFF)
    bus.write(0x40, 1, 1193 >> 8)
    ticks, keys = 0, []
    pc.i8042.type_text("ok")
    while ticks < 10:
        if not pc.pic.pending():  # HLT: skip ahead to the next event
            now[0] = bus.next_event(now[0])
            bus.tick(now[0])
            continue
        vector = pc.pic.acknowledge()
        if vector == 0x20:
            ticks += 1
        elif vector == 0x21:
            keys.append(bus.read(0x60, 1))
        eoi(pc.pic, vector)
    assert keys == [0x18, 0x98, 0x25, 0xA5]
    assert ticks == 10 and now[0] == pit_time(10 * 1193)
    bus.write(0xF4, 4, 0x10)
    assert pc.debug_exit.exited and pc.debug_exit.code == 33


def test_bus_snapshot_covers_every_device():
    pc = build_pc()
    snap = pc.bus.snapshot()
    assert set(snap["devices"]) == {"pic", "pit", "i8042", "uart", "vga", "cmos",
                                    "debug_exit", "post", "port61", "port92", "ata", "pci", "vbe"}
    pc.bus.restore(snap)
