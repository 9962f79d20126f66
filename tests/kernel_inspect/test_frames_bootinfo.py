"""The frame-table and boot-info inspectors against the kernel's `info` command."""

import json
import struct

import pytest

from rustos_dbg import Machine
from rustos_dbg.inspect.kernel import (bootinfo_view, frames_view, read_bootinfo, read_frames,
                                       to_json)
from rustos_dbg.inspect.kernel.frames import free_ranges
from rustos_dbg.inspect.reader import BytesReader


def test_free_ranges_coalesce():
    assert free_ranges([0], 10) == [(0, 10)]
    assert free_ranges([0b1111], 10) == [(4, 6)]
    assert free_ranges([~0 & (2**64 - 1), 0, 1], 130) == [(64, 64), (129, 1)]
    assert free_ranges([0b1010], 4) == [(0, 1), (2, 1)]
    assert free_ranges([2**64 - 1] * 2, 128) == []


@pytest.mark.emulator
def test_frames_match_the_info_command(shell):
    stop = shell.stops["info"]
    fr, printed = stop.frames, stop.printed["frames"]
    assert fr.free_bits == fr.free_count == printed["free"]
    assert fr.usable_count == printed["usable"]
    assert fr.used_bits + fr.free_bits == fr.frame_count == 128 * 256  # 128 MiB of 4 KiB frames
    assert fr.bitmap_words == fr.frame_count // 64 and fr.frame_size == 4096
    assert fr.bitmap == shell.info.variable("rustos::memory::frames::BITMAP").address
    assert sum(r.count for r in fr.free_ranges) == fr.free_bits  # one range here, all shown
    assert fr.ok, fr.problems


@pytest.mark.emulator
def test_frames_view_and_json(shell):
    fr = shell.stops["info"].frames
    text = frames_view(fr)
    assert f"{fr.free_count} free" in text and "agrees with free_count" in text
    data = json.loads(to_json(fr))
    assert data["free_bits"] == fr.free_count and data["free_ranges"][0]["end"] == fr.free_ranges[0].end


def frame_table_blobs(info, words, free_count, frame_count):
    """Blobs for a BytesReader: RUSTOS_FRAMES (built through DWARF offsets) and a bitmap at 0x9000."""
    var = info.variable("RUSTOS_FRAMES")
    ft = info.type("rustos::memory::frames::FrameTable")
    blob = bytearray(var.type.size)
    base = var.type.member("data").offset
    values = {"magic": 0x534D5246, "version": 1, "frame_size": 4096, "frame_count": frame_count,
              "usable_count": frame_count, "free_count": free_count, "next_hint": 0, "bitmap": 0x9000,
              "bitmap_words": -(-frame_count // 64)}
    for name, value in values.items():
        member = ft.member(name)
        blob[base + member.offset: base + member.offset + member.size] = value.to_bytes(member.size, "little")
    return {var.address: bytes(blob), 0x9000: struct.pack(f"<{len(words)}Q", *words)}


def test_frame_count_mismatch_is_a_problem(kernel_elf):
    from rustos_dbg import dwarf

    info = dwarf.load(kernel_elf)
    good = read_frames(BytesReader(frame_table_blobs(info, [0xFF, 0], 120, 128)), info)
    assert good.ok and good.free_bits == 120 and [(r.first, r.count) for r in good.free_ranges] == [(8, 120)]
    bad = read_frames(BytesReader(frame_table_blobs(info, [0xFF, 0], 100, 128)), info)
    assert not bad.ok and "120 free frames but free_count says 100" in bad.problems[0].reason
    blobs = frame_table_blobs(info, [0], 64, 64)
    del blobs[0x9000]
    gone = read_frames(BytesReader(blobs), info)
    assert gone.free_bits is None and "unreadable" in gone.problems[0].reason


@pytest.mark.emulator
def test_bootinfo_matches_the_info_command(shell):
    stop = shell.stops["info"]
    boot = stop.boot
    assert boot.cmdline == shell.cmdline
    assert [(r.start, r.end, r.kind_name) for r in boot.regions] == stop.printed["regions"]
    assert boot.phys_offset == 0xFFFF_8000_0000_0000 and boot.kernel_base == 0xFFFF_FFFF_8000_0000
    assert boot.kernel_phys_start == 0x100000 < boot.kernel_phys_end
    assert boot.initialised and boot.start_info_phys and not boot.problems
    text = bootinfo_view(boot)
    assert f'cmdline: "{shell.cmdline}"' in text and "usable" in text
    assert json.loads(to_json(boot))["regions"][0]["kind_name"] == "usable"


@pytest.mark.emulator
def test_statics_readable_before_paging(kernel_elf, shell):
    """At the entry (paging off) the image is not mapped at KERNEL_BASE yet: the static
    initialisers are read through the physical fallback."""
    fresh = Machine.boot(kernel_elf)
    boot = read_bootinfo(fresh, shell.info)
    assert not boot.initialised and boot.kernel_base == 0xFFFF_FFFF_8000_0000
    assert [p.reason for p in boot.problems] == ["not initialised yet (start_info_phys is 0)"]
    frames = read_frames(fresh, shell.info)
    assert frames.frame_count == 0 and frames.ok
