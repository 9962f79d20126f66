"""Benchmarks of rustos-dbg, printed as figures and ratios (no pass/fail).

1. Guest MIPS on a CPU-bound kernel workload (``rustos_bench_workload``):
   rustos-dbg (fast and deterministic modes) against bare Unicorn running the
   same function of the same ELF with no devices and no hooks, and against
   QEMU ``-icount shift=0`` (its deterministic mode) running the same
   ``bench=N`` boot, timed between the kernel's ``bench:`` lines on serial.
2. Boot to the shell prompt: ``rustos-dbg run --headless`` against QEMU (TCG)
   on the same ELF, each from process start to ``rustos> `` on serial.
3. Whole-machine snapshot and restore at the shell prompt, against the plain
   copy of RAM out of and into Unicorn that they cannot be cheaper than.
4. Time travel on the workload: recording a history (checkpoints) against the
   plain deterministic run, reverse-step and goto latency, checkpoint memory;
   then the same deep into a run of about 1e9 instructions.
5. Verdicts (``bench_verdicts``): the heap sanitizer and the lock tracker
   against the plain deterministic mode on a boot and shell commands.

Usage: scripts/bench [--rounds N] [--long-rounds N] [--boots N]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

from unicorn import UC_ARCH_X86, UC_MODE_64, Uc

from rustos_dbg import Machine
from rustos_dbg.machine.counter import InstructionCounter

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_long  # noqa: E402  (scripts/bench_long.py: the long-session figures)

ROOT = Path(__file__).resolve().parents[1]


def machine_at_workload(elf: Path, rounds: int, mode: str) -> tuple[Machine, int]:
    """A booted machine stopped at the workload's entry, and the workload's return address."""
    m = Machine.boot(elf, cmdline=f"bench={rounds}", mode=mode)
    stop = m.run(until="rustos_bench_workload", timeout=120)
    assert stop.kind.value == "breakpoint", stop.describe()
    return m, struct.unpack("<Q", m.read_virtual(m.reg("rsp"), 8))[0]


_COPIED = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11",
           "r12", "r13", "r14", "r15", "rflags", "cr3", "cr4", "cr0")


def bare_copy(m: Machine) -> Uc:
    """Bare Unicorn (no devices, no hooks) holding the machine's RAM and CPU state."""
    from rustos_dbg.machine import registers

    uc = Uc(UC_ARCH_X86, UC_MODE_64)
    uc.mem_map(0, m.ram_bytes)
    uc.mem_write(0, m.read_physical(0, m.ram_bytes))
    registers.write(uc, "efer", m.reg("efer"))
    for name in ("gdtr", "idtr"):
        registers.write(uc, name, m.reg(name))
    for name in _COPIED:
        registers.write(uc, name, m.reg(name) & ~(1 << 9) if name == "rflags" else m.reg(name))
    return uc


def bench_bare(elf: Path, rounds: int) -> tuple[int, float]:
    """(instructions, seconds) of the workload under bare Unicorn from the same state."""
    m, ret = machine_at_workload(elf, rounds, "deterministic")
    entry = m.reg("rip")
    uc = bare_copy(m)
    counter = InstructionCounter(uc)
    uc.emu_start(entry, ret)
    instructions = counter.count
    uc = bare_copy(m)
    start = time.perf_counter()
    uc.emu_start(entry, ret)
    return instructions, time.perf_counter() - start


def bench_machine(elf: Path, rounds: int, mode: str) -> tuple[int, float]:
    """(instructions counted or 0, seconds) of the workload inside a booted rustos-dbg machine."""
    m, ret = machine_at_workload(elf, rounds, mode)
    m.breakpoints.add(ret)
    before = m.icount
    start = time.perf_counter()
    stop = m.run(timeout=600)
    elapsed = time.perf_counter() - start
    assert stop.kind.value == "breakpoint" and stop.rip == ret, stop.describe()
    return m.icount - before, elapsed


def qemu_icount_workload(elf: Path, rounds: int) -> float:
    """Seconds QEMU ``-icount shift=0`` takes for the workload: from the kernel's
    ``bench: N rounds`` line to its ``bench: checksum`` line on serial."""
    command = ["qemu-system-x86_64", "-kernel", str(elf), "-icount", "shift=0", "-serial", "stdio",
               "-display", "none", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
               "-append", f"bench={rounds}"]
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    seen, start = b"", None
    try:
        while b"bench: checksum" not in seen:
            chunk = proc.stdout.read1(4096)
            if not chunk:
                raise RuntimeError("QEMU ended before the workload's end")
            seen += chunk
            if start is None and b"rounds\n" in seen:
                start = time.perf_counter()
        return time.perf_counter() - start
    finally:
        proc.kill()
        proc.wait()


def boot_to_prompt(command: list[str]) -> float:
    """Seconds from process start until ``rustos> `` appears on its stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    seen = b""
    try:
        while b"rustos> " not in seen:
            chunk = proc.stdout.read1(4096)
            if not chunk:
                raise RuntimeError(f"{command[0]} ended before the prompt")
            seen += chunk
        return time.perf_counter() - start
    finally:
        proc.kill()
        proc.wait()


def boot_in_process(elf: Path) -> float:
    """Seconds from ``Machine.boot`` (ELF load included) to the prompt, modules already imported."""
    start = time.perf_counter()
    m = Machine.boot(elf)
    assert m.run_until_serial("rustos> ", timeout=60) is None
    return time.perf_counter() - start


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_snapshots(elf: Path, repeats: int = 5) -> tuple[float, float, float, float, int]:
    """(snapshot s, restore s, RAM read s, RAM write s, RAM bytes): medians at the prompt."""
    m = Machine.boot(elf)
    assert m.run_until_serial("rustos> ", timeout=60) is None

    state = m.snapshot()
    snap = statistics.median(_timed(m.snapshot) for _ in range(repeats))
    restore = statistics.median(_timed(lambda: m.restore(state)) for _ in range(repeats))
    raw = bytes(m.uc.mem_read(0, m.ram_bytes))
    read = statistics.median(_timed(lambda: m.uc.mem_read(0, m.ram_bytes)) for _ in range(repeats))
    write = statistics.median(_timed(lambda: m.uc.mem_write(0, raw)) for _ in range(repeats))
    return snap, restore, read, write, m.ram_bytes


def bench_history(elf: Path, rounds: int) -> dict:
    """The deterministic workload recorded with a history, then going back in it."""
    m, ret = machine_at_workload(elf, rounds, "deterministic")
    m.breakpoints.add(ret)
    m.history.enable()
    start = time.perf_counter()
    stop = m.run(timeout=1800)
    recorded = time.perf_counter() - start
    assert stop.kind.value == "breakpoint" and stop.rip == ret, stop.describe()
    m.breakpoints.remove(ret)
    first, end = m.history.start, m.icount
    steps = sorted(_timed(m.reverse_step) for _ in range(3))
    across = min(10**8, end - first)
    back = _timed(lambda: m.goto(end - across))
    forward = _timed(lambda: m.goto(end))
    assert m.icount == end
    return dict(seconds=recorded, instructions=end - first, checkpoints=len(m.history.checkpoints),
                memory=m.history.memory(), interval=m.history.interval, step_back=steps[1], across=across,
                back=back, forward=forward)


def print_history(h: dict, plain: float | None) -> None:
    """The time-travel figures of :func:`bench_history`."""
    if plain is not None:
        print(f"  ... recording a history:             {h['seconds']:.3f} s  ratio {h['seconds'] / plain:.2f} of the plain "
              f"deterministic run (goal <= 1.3)")
    else:
        print(f"  recording {h['instructions']:.2e} instructions with a history: {h['seconds']:.1f} s")
    print(f"    {h['checkpoints']} checkpoints every {h['interval']} instructions (thinned within the budget): "
          f"{h['memory'] >> 10} KiB of RAM pages, {h['memory'] / max(1, h['checkpoints']) / 1024:.0f} KiB each")
    print(f"    reverse-step at {h['instructions']:.2e} instructions into the history: {h['step_back']:.3f} s "
          f"(median of 3; goal < 0.2 s)")
    print(f"    goto {h['across']:.1e} instructions back: {h['back']:.3f} s, and forward again: {h['forward']:.3f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=20, help="workload rounds (default 20)")
    ap.add_argument("--long-rounds", type=int, default=110,
                    help="workload rounds of the long time-travel run (default 110: about 1e9 instructions; 0: skip)")
    ap.add_argument("--boots", type=int, default=5, help="boots to time for each of QEMU and rustos-dbg")
    ap.add_argument("--elf", default=os.environ.get("RUSTOS_ELF", str(ROOT / "build" / "rustos.elf")))
    bench_long.add_options(ap)
    args = ap.parse_args()
    elf = Path(args.elf)

    print(f"CPU-bound workload: rustos_bench_workload({args.rounds}) in {elf.name}")
    n_bare, t_bare = bench_bare(elf, args.rounds)
    bare_mips = n_bare / t_bare / 1e6
    print(f"  bare Unicorn (no devices, no hooks): {n_bare} instructions in {t_bare:.3f} s = {bare_mips:.0f} MIPS")
    _, t_fast = bench_machine(elf, args.rounds, "fast")
    fast_mips = n_bare / t_fast / 1e6
    print(f"  rustos-dbg fast mode:                {t_fast:.3f} s = {fast_mips:.0f} MIPS  ratio {fast_mips / bare_mips:.2f} of bare (target >= 0.5)")
    n_det, t_det = bench_machine(elf, args.rounds, "deterministic")
    det_mips = n_det / t_det / 1e6
    same = "as bare" if n_det == n_bare else f"{n_det - n_bare} more than bare: the timer interrupts handled meanwhile"
    print(f"rustos-dbg deterministic mode:         {n_det} instructions ({same}) in {t_det:.3f} s = {det_mips:.0f} MIPS  "
          f"ratio {det_mips / bare_mips:.2f} of bare")
    t_icount = statistics.median(qemu_icount_workload(elf, args.rounds) for _ in range(3))
    icount_mips = n_bare / t_icount / 1e6
    print(f"QEMU -icount shift=0 (the same workload, timed between its serial marks): {t_icount:.3f} s = {icount_mips:.0f} MIPS  "
          f"ratio {det_mips / icount_mips:.2f} (rustos-dbg deterministic / QEMU -icount)")
    print_history(bench_history(elf, args.rounds), t_det)
    if args.long_rounds:
        print(f"Time travel deep into a run: rustos_bench_workload({args.long_rounds}) recorded")
        print_history(bench_history(elf, args.long_rounds), None)

    # Start-up as installed: the package's bytecode compiled (an editable install under
    # PYTHONDONTWRITEBYTECODE would compile every module at every start).
    for package in ("rustos_dbg", "gdbstub"):
        compileall.compile_dir(ROOT / package, quiet=1)
    print(f"Boot to the shell prompt (median of {args.boots}, from process start):")
    qemu = ["qemu-system-x86_64", "-kernel", str(elf), "-serial", "stdio", "-display", "none", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-append", ""]
    ours = [sys.executable, "-m", "rustos_dbg", "run", str(elf), "--headless"]
    t_qemu = statistics.median(boot_to_prompt(qemu) for _ in range(args.boots))
    t_ours = statistics.median(boot_to_prompt(ours) for _ in range(args.boots))
    t_inproc = statistics.median(boot_in_process(elf) for _ in range(args.boots))
    print(f"  QEMU (TCG), process start to prompt:        {t_qemu:.3f} s")
    print(f"  rustos-dbg, process start to prompt:        {t_ours:.3f} s  ratio {t_ours / t_qemu:.2f} of QEMU's (target <= 1.5)")
    print(f"  rustos-dbg, Machine.boot() to prompt:       {t_inproc:.3f} s  ratio {t_inproc / t_qemu:.2f} (Python start-up and imports excluded)")

    snap, restore, read, write, ram = bench_snapshots(elf)
    print(f"Whole-machine snapshot at the prompt ({ram >> 20} MiB RAM, median of 5):")
    print(f"  Machine.snapshot(): {snap * 1e3:.1f} ms  ratio {snap / read:.2f} of reading RAM out of Unicorn ({read * 1e3:.1f} ms)")
    print(f"  Machine.restore():  {restore * 1e3:.1f} ms  ratio {restore / write:.2f} of writing RAM into Unicorn ({write * 1e3:.1f} ms)")
    bench_long.print_long_figures(elf, args)
    from bench_invariants import print_invariant_costs  # noqa: E402 (scripts/ is on sys.path)
    print_invariant_costs(machine_at_workload, elf, args.rounds)
    from bench_analysis import print_analysis_costs  # noqa: E402
    print_analysis_costs(machine_at_workload, elf, args.rounds)
    from bench_verdicts import print_verdict_costs  # noqa: E402 (scripts/ is on sys.path)
    print_verdict_costs(elf)
    from bench_limine import print_limine_figures  # noqa: E402 (scripts/ is on sys.path)
    print_limine_figures(elf.with_name("limine-test.elf"))
    from bench_fb import print_fb_costs  # noqa: E402 (scripts/ is on sys.path)
    print_fb_costs(elf)
    from bench_wasm import print_wasm_costs  # noqa: E402 (scripts/ is on sys.path)
    print_wasm_costs(elf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
