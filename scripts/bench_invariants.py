"""Benchmark figures of the invariants and hang detection (printed by scripts/bench).

The deterministic workload (``bench=ROUNDS``) run from its entry to its return
four ways (the kernel's DWARF parsed before timing): plain with hang detection off, plain (hang detection on, the
default), and through the REPL with ``check every N`` for two values of N (all
invariants after every N instructions); each against the first.
"""

from __future__ import annotations

import time
from pathlib import Path

from rustos_dbg.inspect.invariants import EVERY_STOP
from rustos_dbg.repl.commands.control import run_machine
from rustos_dbg.repl.session import Session


def _run(machine_at_workload, elf: Path, rounds: int, every: int | None, hang: bool) -> tuple[float, int]:
    m, ret = machine_at_workload(elf, rounds, "deterministic")
    if not hang:
        m.hang.timeout_ns = None
    m.breakpoints.add(ret)
    session = Session(m)
    session.check_every = every
    m.check()  # the DWARF is parsed once per kernel image: not part of the figure
    first = m.icount
    start = time.perf_counter()
    stop = run_machine(session, timeout=600)
    elapsed = time.perf_counter() - start
    assert stop.kind.value == "breakpoint" and stop.rip == ret, stop.describe()
    return elapsed, m.icount - first


def print_invariant_costs(machine_at_workload, elf: Path, rounds: int) -> None:
    """The lines of the module's figures."""
    base, _ = _run(machine_at_workload, elf, rounds, None, hang=False)
    print(f"Invariants and hang detection on rustos_bench_workload({rounds}):")
    hang, _ = _run(machine_at_workload, elf, rounds, None, hang=True)
    print(f"  hang detection on (the default):     {hang:.3f} s  ratio {hang / base:.2f} of off ({base:.3f} s)")
    for every in (10_000_000, 1_000_000):
        t, n = _run(machine_at_workload, elf, rounds, every, hang=True)
        print(f"  check every {every:<10d}           {t:.3f} s  ratio {t / base:.2f} of no checks "
              f"({n // every} checks of the {len(EVERY_STOP)} invariants of `check every`)")
