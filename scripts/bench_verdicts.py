"""Benchmark figures of the verdicts (printed by scripts/bench): the heap sanitizer
and the IRQ-unsafe lock tracker against the plain deterministic mode.

The run timed is the boot to the shell prompt, then shell commands that
allocate (``help``, ``heap``, ``tasks``, ``fault uaf`` with the sanitizer off,
since it stops there), each command run to the next prompt; the same
instructions in each variant (the sanitizer and the tracker do not change the
run: the figure checks the instruction counts are equal). The heap sanitizer's
goal is <= 5x the plain deterministic mode.
"""

from __future__ import annotations

import time
from pathlib import Path

from rustos_dbg import Machine

PROMPT = "rustos> "
COMMANDS = ("help", "heap", "tasks", "help")


def _session(elf: Path, sanitize: bool, locks: bool) -> tuple[float, int]:
    m = Machine.boot(elf)
    m.hang.timeout_ns = None
    if locks:
        from rustos_dbg.inspect.kernel.locks import read_locks

        read_locks(m, m.image)  # the DWARF is parsed once per kernel image: not part of the figure
    start = time.perf_counter()
    if locks:
        m.track_locks({k.word: k.name for k in read_locks(m, m.image).locks}, stop=False)
    if sanitize:
        m.sanitize_heap(True)
    assert m.run_until_serial(PROMPT, timeout=600) is None
    for command in COMMANDS:
        m.send_serial(command + "\n")
        stop = m.run_until_serial(PROMPT, timeout=600)
        assert stop is None, stop.describe()
    return time.perf_counter() - start, m.icount


def print_verdict_costs(elf: Path) -> None:
    """The lines of the module's figures."""
    Machine.boot(elf)  # warm the caches (ELF parse, symbol table)
    plain, n = _session(elf, False, False)
    print(f"Verdicts: boot to the prompt, then {', '.join(COMMANDS)} ({n} instructions, deterministic mode):")
    print(f"  plain deterministic:            {plain:.3f} s")
    sanitized, n2 = _session(elf, True, False)
    same = "same instructions" if n2 == n else f"{n2 - n:+d} instructions (NOT the same run)"
    print(f"  heap sanitizer on:              {sanitized:.3f} s  ratio {sanitized / plain:.2f} of plain "
          f"(goal <= 5), {same}")
    tracked, n3 = _session(elf, False, True)
    same = "same instructions" if n3 == n else f"{n3 - n:+d} instructions (NOT the same run)"
    print(f"  lock tracking on (locks --unsafe on):  {tracked:.3f} s  "
          f"ratio {tracked / plain:.2f} of plain, {same}")
