"""Framebuffer figures for scripts/bench: filling the 1280x720x32 screen, the
snapshot that follows (the video memory's pages), and the screenshot."""

from __future__ import annotations

import time
from pathlib import Path

from rustos_dbg import Machine


def _shell(m: Machine, line: str) -> None:
    m.send_serial(line + "\n")
    assert m.run_until_serial("rustos> ", timeout=120) is None


def print_fb_costs(elf: Path) -> None:
    """Prints the cost of `draw clear` (3.5 MiB of pixels) and of capturing and showing it."""
    m = Machine.boot(elf)
    assert m.run_until_serial("rustos> ", timeout=60) is None
    _shell(m, "draw rect 0 0 1 1 black")   # the mode set and first clear happen here
    before = m.snapshot()
    start, icount = time.perf_counter(), m.icount
    _shell(m, "draw clear red")
    seconds, instructions = time.perf_counter() - start, m.icount - icount
    start = time.perf_counter()
    after = m.snapshot()
    snap = time.perf_counter() - start
    vram = after.devices["devices"]["vbe"]["vram"].new_bytes(before.devices["devices"]["vbe"]["vram"])
    start = time.perf_counter()
    m.screenshot("/dev/null")
    shot = time.perf_counter() - start
    print("Framebuffer (1280x720x32):")
    print(f"  draw clear (typed on COM1, run to the next prompt): {instructions:.2e} instructions, {seconds:.3f} s")
    print(f"  snapshot after it: {snap * 1e3:.1f} ms, {vram >> 10} KiB of new video-memory pages")
    print(f"  screenshot (PNG of 1280x720): {shot * 1e3:.0f} ms")
