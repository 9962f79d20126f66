"""The Bochs VBE registers of the standard VGA, as QEMU 7.2 implements them."""

import pytest

from rustos_dbg.devices import VgaText
from rustos_dbg.devices.base import digest, freeze, thaw
from rustos_dbg.devices.vbe import BochsVbe, BufferVram, VbeEnable, VbeReg

from .util import bus_with


def vbe_write(bus, reg, value):
    bus.write(0x1CE, 2, reg)
    bus.write(0x1CF, 2, value)


def vbe_read(bus, reg):
    bus.write(0x1CE, 2, reg)
    return bus.read(0x1CF, 2)


def set_mode(bus, width, height, bpp, flags=VbeEnable.LFB_ENABLED):
    vbe_write(bus, VbeReg.ENABLE, 0)
    vbe_write(bus, VbeReg.XRES, width)
    vbe_write(bus, VbeReg.YRES, height)
    vbe_write(bus, VbeReg.BPP, bpp)
    vbe_write(bus, VbeReg.ENABLE, VbeEnable.ENABLED | flags)


@pytest.fixture
def setup():
    vram, vga = BufferVram(), VgaText()
    vbe = BochsVbe(vram, vga)
    return vbe, vram, vga, bus_with(vbe, vga)


def test_id_memory_size_and_capabilities(setup):
    vbe, _, _, bus = setup
    assert vbe_read(bus, VbeReg.ID) == 0xB0C5
    vbe_write(bus, VbeReg.ID, 0xB0C2)
    assert vbe_read(bus, VbeReg.ID) == 0xB0C2
    vbe_write(bus, VbeReg.ID, 0x1234)                        # not an ID: ignored
    assert vbe_read(bus, VbeReg.ID) == 0xB0C2
    assert vbe_read(bus, VbeReg.VIDEO_MEMORY_64K) == 256     # 16 MiB
    vbe_write(bus, VbeReg.ENABLE, VbeEnable.GETCAPS)
    assert (vbe_read(bus, VbeReg.XRES), vbe_read(bus, VbeReg.YRES), vbe_read(bus, VbeReg.BPP)) == (16000, 12000, 32)
    assert bus.read(0x1CE, 2) == VbeReg.BPP


def test_enabling_1280x720x32_sets_the_mode_and_clears_the_screen(setup):
    vbe, vram, vga, bus = setup
    vram.fill(0, 64, 0xAB)
    set_mode(bus, 1280, 720, 32)
    assert vbe.enabled and vbe.mode() == (1280, 720, 32, 5120, 0)
    assert vbe_read(bus, VbeReg.VIRT_WIDTH) == 1280
    assert vbe_read(bus, VbeReg.VIRT_HEIGHT) == (16 << 20) // 5120
    assert vram.read(0, 64) == bytes(64)
    assert vga.gc[6] & 0x01                                  # the VGA is left in graphics mode, as in QEMU
    assert vga.crtc[0x13] == (5120 >> 3) & 0xFF and vga.crtc[0x01] == 1280 // 8 - 1


def test_noclearmem_keeps_the_memory_and_fixups_bound_the_mode(setup):
    vbe, vram, _, bus = setup
    vram.fill(0, 16, 0x55)
    set_mode(bus, 1283, 20000, 17, VbeEnable.LFB_ENABLED | VbeEnable.NOCLEARMEM)
    assert vram.read(0, 16) == b"\x55" * 16
    width, height, bpp, pitch, _ = vbe.mode()
    assert (width, bpp, pitch) == (1280, 8, 1280) and height == 12000
    vbe_write(bus, VbeReg.BANK, 0x1FF)
    assert vbe_read(bus, VbeReg.BANK) == 0xFF


def test_render_reads_bgrx_pixels_at_the_pitch(setup):
    vbe, vram, _, bus = setup
    set_mode(bus, 16, 8, 32)
    vram.write(4 * 3 + 16 * 4 * 2, bytes((0x33, 0x22, 0x11, 0)))   # pixel (3, 2) = 0x112233
    image = vbe.render_image()
    assert image.size == (16, 8)
    assert image.getpixel((3, 2)) == (0x11, 0x22, 0x33) and image.getpixel((0, 0)) == (0, 0, 0)


def test_snapshot_and_restore_carry_registers_and_pixels(setup):
    vbe, vram, _, bus = setup
    set_mode(bus, 640, 480, 32)
    vram.write(0, b"\xff" * 8)
    state = freeze(vbe.snapshot())
    before = digest(state)
    vbe_write(bus, VbeReg.ENABLE, 0)
    vram.write(0, b"\x00" * 8)
    assert digest(freeze(vbe.snapshot())) != before
    vbe.restore(thaw(state))
    assert vbe.enabled and vbe.mode().width == 640 and vram.read(0, 8) == b"\xff" * 8
    assert digest(freeze(vbe.snapshot())) == before
