"""Benchmark figures of ``run --profile`` and ``run --coverage`` (printed by scripts/bench).

The deterministic workload (``bench=ROUNDS``) run from its entry to its
return three ways: plain, sampled by the profiler (default interval), and
with coverage recorded; each against plain, in the same process.
"""

from __future__ import annotations

import time
from pathlib import Path

from rustos_dbg.analysis.coverage import Coverage
from rustos_dbg.analysis.profile import DEFAULT_INTERVAL, Profiler


def _run(machine_at_workload, elf: Path, rounds: int, how: str) -> float:
    m, ret = machine_at_workload(elf, rounds, "deterministic")
    m.breakpoints.add(ret)
    run = m.run
    if how == "profile":
        run = Profiler(m).run
    elif how == "coverage":
        Coverage(m)
    start = time.perf_counter()
    stop = run(timeout=600)
    elapsed = time.perf_counter() - start
    assert stop.kind.value == "breakpoint" and stop.rip == ret, stop.describe()
    return elapsed


def print_analysis_costs(machine_at_workload, elf: Path, rounds: int) -> None:
    """The lines of the module's figures."""
    base = _run(machine_at_workload, elf, rounds, "plain")
    print(f"Profile and coverage on rustos_bench_workload({rounds}):")
    profile = _run(machine_at_workload, elf, rounds, "profile")
    print(f"  --profile (a sample every {DEFAULT_INTERVAL} instructions): {profile:.3f} s  "
          f"ratio {profile / base:.2f} of plain ({base:.3f} s)")
    coverage = _run(machine_at_workload, elf, rounds, "coverage")
    print(f"  --coverage:                                  {coverage:.3f} s  ratio {coverage / base:.2f} of plain")
