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


#: Run in a fresh process: boot to the prompt, then time each first inspector.
_FIRST_INSPECTORS = r"""
import json, resource, sys, time
from rustos_dbg import Machine
from rustos_dbg.repl.session import Session
m = Machine.boot(sys.argv[1])
assert m.run_until_serial("rustos> ", timeout=120) is None
session, out = Session(m), {}
rss = lambda: int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0])
out["boot_rss"] = rss()
for command in ("heap", "tasks", "bt"):
    start = time.perf_counter()
    session.execute(command)
    out[command] = time.perf_counter() - start
out["rss"] = rss()
print(json.dumps(out))
"""


def first_inspectors(elf: Path) -> dict:
    """Seconds of the first ``heap``, ``tasks`` and ``bt`` after boot in a fresh process
    (DWARF from the on-disk cache when warm), and RSS before and after (KiB)."""
    import json

    done = subprocess.run([sys.executable, "-c", _FIRST_INSPECTORS, str(elf)], capture_output=True, text=True,
                          timeout=600, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_long_figures(elf: Path, args) -> None:
    """The long-session figures (see the module's docstring)."""
    print("First kernel inspectors after boot (fresh process; goal < 1.0 s, RSS < 100 MB):")
    for label in ("cold or warm cache", "warm cache"):
        f = first_inspectors(elf)
        times = ", ".join(f"{c} {f[c]:.2f} s" for c in ("heap", "tasks", "bt"))
        print(f"  {label:18}: {times}; RSS {f['boot_rss'] / 1024:.0f} MiB at the prompt, "
              f"{f['rss'] / 1024:.0f} MiB after")
    if args.soak:
        first, last, peak, ran = soak(elf, args.soak)
        print(f"Idle soak: rustos-dbg run --headless at the prompt for {ran:.0f} s")
        print(f"  RSS one minute after boot: {first / 1024:.1f} MiB; at the end: {last / 1024:.1f} MiB "
              f"(peak {peak / 1024:.1f} MiB)  ratio {last / first:.2f} (goal <= 1.2)")
