"""The Bochs VBE display interface of QEMU's standard VGA (ports 0x1CE index, 0x1CF/0x1D0 data).

Contract: :class:`BochsVbe` keeps the VBE registers and behaves as QEMU 7.2's
``hw/display/vga.c`` does:

* index 0x1CE selects a register; the data port reads or writes it (16-bit
  accesses; bytes are taken as words). ``ID`` (0) accepts only 0xB0C0-0xB0C5
  and reads 0xB0C5 after reset; ``XRES``, ``YRES``, ``BPP``, ``VIRT_WIDTH``,
  ``X_OFFSET`` and ``Y_OFFSET`` are written and then fixed up while the
  display is enabled (depth 4/8/15/16/24/32, else 8; width a multiple of 8,
  at most 16000; height at most 12000 and what fits the memory;
  ``VIRT_HEIGHT`` = memory / line length, not writable); ``BANK`` is masked
  to the memory's 64 KiB banks; ``VIDEO_MEMORY_64K`` (0x0A) reads the memory
  size in 64 KiB units. While ``ENABLE`` holds ``GETCAPS`` (0x02), ``XRES``,
  ``YRES`` and ``BPP`` read the maxima.
* Writing ``ENABLE`` with ``ENABLED`` (0x01) when it was off sets
  ``VIRT_WIDTH`` to ``XRES``, the offsets to 0, puts the VGA registers in
  the graphics state QEMU puts them in (``vbe_update_vgaregs``: a kernel that
  leaves the mode must restore text mode itself) and clears ``YRES`` lines of
  the memory unless ``NOCLEARMEM`` (0x80) is set. ``LFB_ENABLED`` (0x40) is
  kept; the linear framebuffer is the memory at the VGA's BAR0 whatever it
  says (as in QEMU); the banked window at 0xA0000 is not emulated.

Views: :attr:`enabled`, :meth:`mode` (a :class:`VbeMode`: resolution, depth,
pitch, start offset), :meth:`render_image` (the visible picture as QEMU's
``screendump`` draws it: ``XRES`` x ``YRES``, 32/24/16/15 bpp; other depths
render black).

State: the index and the registers, and the video memory's contents (a
``RamState`` from ``vram.snapshot()``), so a snapshot, a restore and time
travel carry the picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import NamedTuple

from .base import Device

INDEX_PORT, DATA_PORT, DATA_PORT_ALT = 0x1CE, 0x1CF, 0x1D0
#: IDs the interface accepts; it reports the last.
IDS = tuple(range(0xB0C0, 0xB0C6))
MAX_XRES, MAX_YRES, MAX_BPP = 16000, 12000, 32


class VbeReg(IntEnum):
    """Register indices."""

    ID = 0
    XRES = 1
    YRES = 2
    BPP = 3
    ENABLE = 4
    BANK = 5
    VIRT_WIDTH = 6
    VIRT_HEIGHT = 7
    X_OFFSET = 8
    Y_OFFSET = 9
    VIDEO_MEMORY_64K = 10


class VbeEnable(IntFlag):
    """Bits of the ENABLE register."""

    ENABLED = 0x01
    GETCAPS = 0x02
    DAC_8BIT = 0x20
    LFB_ENABLED = 0x40
    NOCLEARMEM = 0x80


_REGS = 10  # registers 0-9 are stored; 0x0A is computed


class VbeMode(NamedTuple):
    """The display mode the registers describe."""

    width: int
    height: int
    bpp: int
    pitch: int    #: bytes per line
    offset: int   #: byte offset of the top-left visible pixel in the memory


#: Pillow raw decoders by depth (pixels as QEMU reads them, little-endian).
_DECODERS = {32: "BGRX", 24: "BGR", 16: "BGR;16", 15: "BGR;15"}


class BochsVbe(Device):
    """The VBE registers of the standard VGA over its video memory."""

    name = "vbe"
    ports = (INDEX_PORT, DATA_PORT, DATA_PORT_ALT)
    access_sizes = (1, 2)
    state_fields = ("index", "regs")

    def __init__(self, vram, vga=None) -> None:
        """``vram`` is the video memory (``read``, ``fill``, ``size``, ``snapshot``,
        ``restore``); ``vga`` the VGA registers' device whose state an enable changes."""
        super().__init__()
        self.vram, self.vga = vram, vga
        self.index = 0
        self.regs = [0] * _REGS
        self.regs[VbeReg.ID] = IDS[-1]

    # -- guest accesses ---------------------------------------------------------

    def read(self, port: int, size: int) -> int:
        """The index, or the selected register."""
        if port == INDEX_PORT:
            return self.index
        if self.index < _REGS:
            if self.regs[VbeReg.ENABLE] & VbeEnable.GETCAPS:
                caps = {VbeReg.XRES: MAX_XRES, VbeReg.YRES: MAX_YRES, VbeReg.BPP: MAX_BPP}
                if self.index in caps:
                    return caps[self.index]
            return self.regs[self.index]
        if self.index == VbeReg.VIDEO_MEMORY_64K:
            return self.vram.size >> 16
        return 0

    def write(self, port: int, size: int, value: int) -> None:
        """Selects a register, or writes the selected one."""
        value &= 0xFFFF
        if port == INDEX_PORT:
            self.index = value
            return
        reg, r = self.index, self.regs
        if reg == VbeReg.ID:
            if value in IDS:
                r[reg] = value
        elif reg in (VbeReg.XRES, VbeReg.YRES, VbeReg.BPP, VbeReg.VIRT_WIDTH, VbeReg.X_OFFSET, VbeReg.Y_OFFSET):
            r[reg] = value
            self._fixup()
            self._update_vga()
        elif reg == VbeReg.BANK:
            r[reg] = value & ((self.vram.size >> 16) - 1)
        elif reg == VbeReg.ENABLE:
            self._enable(value)

    def _enable(self, value: int) -> None:
        r = self.regs
        if value & VbeEnable.ENABLED and not self.enabled:
            r[VbeReg.VIRT_WIDTH], r[VbeReg.VIRT_HEIGHT] = r[VbeReg.XRES], r[VbeReg.YRES]
            r[VbeReg.X_OFFSET] = r[VbeReg.Y_OFFSET] = 0
            r[VbeReg.ENABLE] |= VbeEnable.ENABLED
            self._fixup()
            self._update_vga()
            if not value & VbeEnable.NOCLEARMEM:
                self.vram.fill(0, r[VbeReg.YRES] * self._line_length())
        r[VbeReg.ENABLE] = value

    @property
    def enabled(self) -> bool:
        """True while the VBE display is on."""
        return bool(self.regs[VbeReg.ENABLE] & VbeEnable.ENABLED)

    def _bits(self) -> int:
        bpp = self.regs[VbeReg.BPP]
        return 16 if bpp == 15 else bpp

    def _line_length(self) -> int:
        return self.regs[VbeReg.VIRT_WIDTH] * self._bits() // 8

    def _fixup(self) -> None:
        """QEMU's ``vbe_fixup_regs``: bring the registers within what the device offers."""
        if not self.enabled:
            return
        r = self.regs
        if r[VbeReg.BPP] not in (4, 8, 15, 16, 24, 32):
            r[VbeReg.BPP] = 8
        r[VbeReg.XRES] = min(r[VbeReg.XRES] & ~7, MAX_XRES) or 8
        r[VbeReg.VIRT_WIDTH] = max(min(r[VbeReg.VIRT_WIDTH] & ~7, MAX_XRES), r[VbeReg.XRES])
        line = self._line_length()
        max_y = self.vram.size // line
        r[VbeReg.YRES] = min(r[VbeReg.YRES] or 1, MAX_YRES, max_y)
        r[VbeReg.X_OFFSET] = min(r[VbeReg.X_OFFSET], MAX_XRES)
        r[VbeReg.Y_OFFSET] = min(r[VbeReg.Y_OFFSET], MAX_YRES)
        if self._start() + r[VbeReg.YRES] * line > self.vram.size:
            r[VbeReg.Y_OFFSET] = 0
            if self._start() + r[VbeReg.YRES] * line > self.vram.size:
                r[VbeReg.X_OFFSET] = 0
        r[VbeReg.VIRT_HEIGHT] = max_y & 0xFFFF

    def _start(self) -> int:
        r = self.regs
        return r[VbeReg.X_OFFSET] * self._bits() // 8 + r[VbeReg.Y_OFFSET] * self._line_length()

    def _update_vga(self) -> None:
        """QEMU's ``vbe_update_vgaregs``: the VGA registers of a VBE graphics mode."""
        vga = self.vga
        if vga is None or not self.enabled:
            return
        r = self.regs
        vga.gc[6] = (vga.gc[6] & ~0x0C) | 0x04 | 0x01      # graphics, memory map 1
        vga.crtc[0x17] |= 3                                  # no CGA modes
        vga.crtc[0x13] = (self._line_length() >> 3) & 0xFF
        vga.crtc[0x01] = ((r[VbeReg.XRES] >> 3) - 1) & 0xFF
        h = r[VbeReg.YRES] - 1
        vga.crtc[0x12] = h & 0xFF
        vga.crtc[0x07] = (vga.crtc[0x07] & ~0x42) | ((h >> 7) & 0x02) | ((h >> 3) & 0x40)
        vga.crtc[0x18] = 0xFF
        vga.crtc[0x07] |= 0x10
        vga.crtc[0x09] |= 0x40
        shift = 0 if r[VbeReg.BPP] == 4 else 2
        vga.gc[5] = (vga.gc[5] & ~0x60) | (shift << 5)
        vga.crtc[0x09] &= ~0x9F

    # -- views -------------------------------------------------------------------

    def mode(self) -> VbeMode:
        """The mode the registers describe (meaningful while :attr:`enabled`)."""
        r = self.regs
        return VbeMode(r[VbeReg.XRES], r[VbeReg.YRES], r[VbeReg.BPP], self._line_length(), self._start())

    def render_image(self):
        """The visible picture as an RGB Pillow image, ``XRES`` x ``YRES``, as QEMU's
        ``screendump`` draws it (depths other than 32/24/16/15: black)."""
        from PIL import Image

        mode = self.mode()
        decoder = _DECODERS.get(mode.bpp)
        if decoder is None or mode.width == 0 or mode.height == 0:
            return Image.new("RGB", (max(mode.width, 1), max(mode.height, 1)))
        data = self.vram.read(mode.offset, mode.pitch * mode.height).ljust(mode.pitch * mode.height, b"\0")
        return Image.frombuffer("RGB", (mode.width, mode.height), data, "raw", decoder, mode.pitch, 1)

    # -- state ---------------------------------------------------------------------

    def snapshot(self) -> dict:
        """Registers, index and the video memory's contents."""
        state = super().snapshot()
        state["vram"] = self.vram.snapshot()
        return state

    def restore(self, state: dict) -> None:
        """Puts back a :meth:`snapshot`."""
        super().restore(state)
        if state.get("vram") is not None:
            self.vram.restore(state["vram"])


class BufferVram:
    """Video memory in a host buffer of its own, for a device set without an engine
    (the guest cannot reach it: the machine gives its mapped ``VideoMemory``)."""

    def __init__(self, size: int = 16 << 20) -> None:
        """``size`` zero bytes."""
        self.size = size
        self.data = bytearray(size)

    def read(self, offset: int, n: int) -> bytes:
        """``n`` bytes at ``offset`` (clipped to the memory)."""
        return bytes(self.data[offset:offset + max(n, 0)])

    def write(self, offset: int, data: bytes) -> None:
        """Writes ``data`` at ``offset``."""
        data = bytes(data)[:max(0, self.size - offset)]
        self.data[offset:offset + len(data)] = data

    def fill(self, offset: int, n: int, byte: int = 0) -> None:
        """Sets ``n`` bytes at ``offset`` to ``byte``."""
        n = max(0, min(n, self.size - offset))
        self.data[offset:offset + n] = bytes([byte]) * n

    def snapshot(self) -> "BufferContents":
        """The contents now."""
        return BufferContents(bytes(self.data))

    def restore(self, state: "BufferContents") -> None:
        """Puts back a :meth:`snapshot`."""
        self.data[:] = state.data


@dataclass(frozen=True, repr=False)
class BufferContents:
    """A :class:`BufferVram`'s contents; its repr (which device digests hash) is a hash."""

    data: bytes

    def __repr__(self) -> str:
        import hashlib

        return f"BufferContents(sha256 {hashlib.sha256(self.data).hexdigest()[:16]})"
