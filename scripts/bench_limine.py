"""Figures of the Limine loader (printed by scripts/bench; no pass/fail): the time to
lay out the handoff, and to boot and run the Limine test kernel to its exit."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from rustos_dbg.machine import Machine
from rustos_dbg.machine.image import load_image
from rustos_dbg.machine.protocols import boot_plan


def print_limine_figures(elf: Path, repeats: int = 5) -> None:
    """Median of ``repeats``: the loader's plan, Machine.boot, and the run to isa-debug-exit."""
    if not elf.exists():
        print(f"Limine test kernel: {elf} not built (scripts/build-limine-kernel)")
        return
    image = load_image(elf)
    plans, boots, runs = [], [], []
    for _ in range(repeats):
        t = time.perf_counter()
        boot_plan(image, 128 << 20, "")
        plans.append(time.perf_counter() - t)
        t = time.perf_counter()
        machine = Machine.boot(elf)
        boots.append(time.perf_counter() - t)
        t = time.perf_counter()
        machine.run(max_instructions=10_000_000)
        runs.append(time.perf_counter() - t)
    print(f"Limine test kernel ({elf.name}, median of {repeats}):")
    print(f"  loader plan (requests, page tables, responses): {statistics.median(plans) * 1e3:.1f} ms")
    print(f"  Machine.boot(): {statistics.median(boots):.3f} s; run to isa-debug-exit: "
          f"{statistics.median(runs):.3f} s ({machine.icount} instructions)")
