"""WASM figures for scripts/bench: the interpreter's cost in the emulator, as x86
instructions per WASM instruction (spin.wasm, one instruction per unit of fuel),
and the wall time of a million WASM instructions."""

from __future__ import annotations

import time
from pathlib import Path

from rustos_dbg import Machine

FUEL = 1_000_000


def _line(m: Machine, line: str) -> tuple[int, float]:
    start, icount = time.perf_counter(), m.icount
    m.send_serial(line + "\n")
    assert m.run_until_serial("rustos> ", timeout=600, max_instructions=10_000_000_000) is None
    return m.icount - icount, time.perf_counter() - start


def print_wasm_costs(elf: Path) -> None:
    """Prints what a run of spin.wasm with FUEL costs, less an empty run's (hello.wasm)."""
    m = Machine.boot(elf, initrd=Path(elf).with_name("initrd.tar"))
    assert m.run_until_serial("rustos> ", timeout=60) is None
    base, base_s = _line(m, "wasm /ram/hello.wasm")
    spin, spin_s = _line(m, f"wasm --fuel {FUEL} /ram/spin.wasm")
    print("WASM interpreter (spin.wasm, deterministic emulator):")
    print(f"  {(spin - base) / FUEL:.0f} x86 instructions per WASM instruction")
    print(f"  {FUEL:,} WASM instructions: {spin_s - base_s:.2f} s of host time "
          f"({FUEL / max(spin_s - base_s, 1e-9) / 1e6:.2f} M WASM instructions/s)")
