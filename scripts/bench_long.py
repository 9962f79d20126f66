"""Long-session figures of scripts/bench: memory over an idle run, the first kernel inspector.

Contract: :func:`add_options` adds ``--soak SECONDS`` to the bench's parser;
:func:`print_long_figures` prints, always, the time and RSS of the first
kernel inspector after boot and, with ``--soak``, the RSS of an idle
``rustos-dbg run --headless`` one minute after boot and after SECONDS
(issue 15's goal: the ratio <= 1.2). Figures only, no pass/fail.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def add_options(ap) -> None:
    """Adds the long-session options to the bench's argument parser."""
    ap.add_argument("--soak", type=float, default=0, metavar="SECONDS",
                    help="also measure RSS of an idle headless run after SECONDS (e.g. 600; default: skip)")


def rss_kib(pid: int) -> int:
    """Resident set size of process ``pid`` in KiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def soak(elf: Path, seconds: float, baseline: float = 60.0) -> tuple[int, int, int, float]:
    """(RSS KiB ``baseline`` s after the prompt, RSS KiB after ``seconds``, peak KiB, seconds run)
    of an idle ``rustos-dbg run --headless`` at the shell prompt."""
    cmd = [sys.executable, "-m", "rustos_dbg", "run", str(elf), "--headless"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        seen = b""
        while b"rustos> " not in seen:
            chunk = proc.stdout.read1(4096)
            if not chunk:
                raise RuntimeError("rustos-dbg ended before the prompt")
            seen += chunk
        start = time.monotonic()
        first = peak = 0
        while (elapsed := time.monotonic() - start) < max(seconds, baseline):
            time.sleep(1.0)
            now = rss_kib(proc.pid)
            peak = max(peak, now)
            if not first and elapsed >= baseline:
                first = now
        return first, rss_kib(proc.pid), peak, time.monotonic() - start
    finally:
        proc.kill()
        proc.wait()


def print_long_figures(elf: Path, args) -> None:
    """The long-session figures (see the module's docstring)."""
    if args.soak:
        first, last, peak, ran = soak(elf, args.soak)
        print(f"Idle soak: rustos-dbg run --headless at the prompt for {ran:.0f} s")
        print(f"  RSS one minute after boot: {first / 1024:.1f} MiB; at the end: {last / 1024:.1f} MiB "
              f"(peak {peak / 1024:.1f} MiB)  ratio {last / first:.2f} (goal <= 1.2)")
