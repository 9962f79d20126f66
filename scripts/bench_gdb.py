"""Benchmark of the GDB stub: the real gdb against rustos-dbg and against QEMU's gdbstub.

Both serve the same ELF, stopped at the same point (a hardware breakpoint on
``rustos::kernel_main``, reached from a frozen start: ``rustos-dbg run --gdb
-S`` and ``qemu-system-x86_64 -gdb ... -S``). gdb is driven over MI with
pygdbmi, with its code and stack caches off; each figure is what gdb
experiences end to end, packets and its own work included:

1. single-step round trips per second: N ``stepi`` (``-exec-step-instruction``,
   each waited for until ``*stopped``);
2. memory read throughput on 64 KiB of mapped kernel text, in bytes per
   second: repeated ``-data-read-memory-bytes`` (whose hex output pygdbmi
   parses, a cost of the client), and repeated ``dump binary memory
   /dev/null`` (gdb reads the same bytes and throws them away).

Both stubs are up at once and the measurements alternate between them, round
by round, the best round of each reported (a busy host then slows both alike).
It prints figures and the ratio ours/QEMU only (no pass/fail).

Usage: scripts/bench_gdb.py [--steps N] [--reads N]
"""

from __future__ import annotations

import argparse
import os
import re
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

from pygdbmi.gdbcontroller import GdbController

ROOT = Path(__file__).resolve().parents[1]
GDB = os.environ.get("GDB", "gdb")
QEMU = os.environ.get("QEMU", "qemu-system-x86_64")
STOP_AT = "rustos::kernel_main"
READ_SIZE = 64 * 1024


class Mi:
    """gdb over MI, waiting with select (not pygdbmi's polling delay) for each answer."""

    def __init__(self, elf: Path) -> None:
        self.mi = GdbController(command=[GDB, "-nx", "-q", "--interpreter=mi3", str(elf)])
        self.fd = self.mi.io_manager.stdout_fileno
        for setting in ("confirm off", "code-cache off", "stack-cache off", "pagination off"):
            self.command(f"-gdb-set {setting}")

    def _until(self, done, limit: float = 120.0) -> list:
        records: list = []
        give_up = time.monotonic() + limit
        while not done(records):
            if time.monotonic() > give_up:
                raise RuntimeError(f"gdb did not answer: {records[-5:]!r}")
            select.select([self.fd], [], [], 0.5)
            records += self.mi.get_gdb_response(timeout_sec=0, raise_error_on_timeout=False)
        return records

    def command(self, cmd: str, expect=("done",)) -> list:
        self.mi.write(cmd, read_response=False)
        records = self._until(lambda rs: any(r["type"] == "result" for r in rs))
        result = next(r for r in records if r["type"] == "result")
        if result["message"] not in expect:
            raise RuntimeError(f"{cmd}: {result}")
        return records

    def execute(self, cmd: str) -> dict:
        self.mi.write(cmd, read_response=False)
        records = self._until(lambda rs: any(r["type"] == "notify" and r["message"] == "stopped" for r in rs))
        return next(r for r in records if r["type"] == "notify" and r["message"] == "stopped")["payload"]

    def exit(self) -> None:
        try:
            self.mi.exit()
        except Exception:
            pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_ours(elf: Path) -> tuple[subprocess.Popen, int]:
    """``rustos-dbg run --gdb 127.0.0.1:0 -S``, and the port it printed."""
    proc = subprocess.Popen([sys.executable, "-m", "rustos_dbg", "run", str(elf), "--headless",
                             "--gdb", "127.0.0.1:0", "-S"], cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    line = proc.stderr.readline().decode()
    found = re.search(r"gdb server on 127\.0\.0\.1:(\d+)", line)
    if not found:
        proc.kill()
        raise RuntimeError(f"rustos-dbg did not start its gdb server: {line!r}")
    return proc, int(found.group(1))


def start_qemu(elf: Path) -> tuple[subprocess.Popen, int]:
    """QEMU (TCG) frozen at reset with its gdbstub on a free port."""
    port = free_port()
    proc = subprocess.Popen([QEMU, "-kernel", str(elf), "-gdb", f"tcp:127.0.0.1:{port}", "-S", "-display", "none",
                             "-serial", "null", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-m", "128"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    give_up = time.monotonic() + 30
    while time.monotonic() < give_up:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("QEMU's gdbstub did not start")


def kernel_text(elf: Path) -> int:
    """The start of the kernel's first executable higher-half segment."""
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as f:
        for seg in ELFFile(f).iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_flags"] & 1 and seg["p_vaddr"] >= 1 << 63:
                if seg["p_memsz"] >= READ_SIZE:
                    return seg["p_vaddr"]
    raise RuntimeError("no executable higher-half segment of 64 KiB")


class Stub:
    """One stub served to its own gdb, stopped at :data:`STOP_AT`."""

    def __init__(self, name: str, start, elf: Path) -> None:
        self.name = name
        self.proc, port = start(elf)
        self.mi = Mi(elf)
        self.mi.command(f"-target-select remote 127.0.0.1:{port}", expect=("connected",))
        self.mi.command(f"-break-insert -h {STOP_AT}")
        stopped = self.mi.execute("-exec-continue")
        if stopped.get("reason") != "breakpoint-hit":
            raise RuntimeError(f"{name}: did not reach {STOP_AT}: {stopped}")
        self.mi.command("-break-delete")
        self.mi.execute("-exec-step-instruction")  # warm-up
        self.text = kernel_text(elf)
        records = self.mi.command(f"-data-read-memory-bytes {self.text:#x} {READ_SIZE}")  # warm-up and check
        memory = next(r for r in records if r["type"] == "result")["payload"]["memory"]
        got = sum(len(block["contents"]) // 2 for block in memory)
        if got != READ_SIZE:
            raise RuntimeError(f"{name}: read {got} bytes instead of {READ_SIZE}")

    def steps(self, n: int) -> float:
        """stepi round trips per second over ``n`` steps."""
        t0 = time.perf_counter()
        for _ in range(n):
            self.mi.execute("-exec-step-instruction")
        return n / (time.perf_counter() - t0)

    def mi_reads(self, n: int) -> float:
        """Bytes per second of ``n`` MI reads (hex output parsed by pygdbmi)."""
        t0 = time.perf_counter()
        for _ in range(n):
            self.mi.command(f"-data-read-memory-bytes {self.text:#x} {READ_SIZE}")
        return n * READ_SIZE / (time.perf_counter() - t0)

    def dumps(self, n: int) -> float:
        """Bytes per second of ``n`` reads without MI's hex output and its parsing."""
        dump = f'-interpreter-exec console "dump binary memory /dev/null {self.text:#x} {self.text + READ_SIZE:#x}"'
        t0 = time.perf_counter()
        for _ in range(n):
            self.mi.command(dump)
        return n * READ_SIZE / (time.perf_counter() - t0)

    def close(self) -> None:
        self.mi.exit()
        self.proc.kill()
        self.proc.wait(timeout=10)


def interleaved(ours: Stub, qemu: Stub, measure, rounds: int) -> tuple[float, float]:
    """The best of ``rounds`` alternating measurements of each stub (a busy host
    slows whichever runs at the time; alternating shares that out, the best
    round shows what each can do)."""
    mine, theirs = [], []
    for _ in range(rounds):
        mine.append(measure(ours))
        theirs.append(measure(qemu))
    return max(mine), max(theirs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="stepi round trips per stub (default 300)")
    parser.add_argument("--reads", type=int, default=20, help="64 KiB reads per stub (default 20)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per figure (default 3)")
    parser.add_argument("--elf", default=os.environ.get("RUSTOS_ELF", ROOT / "build" / "rustos.elf"))
    args = parser.parse_args(argv)
    elf = Path(args.elf)
    print(f"GDB stub benchmark: real gdb over MI, {elf.name}, stopped at {STOP_AT}")
    ours = Stub("rustos-dbg", start_ours, elf)
    try:
        qemu = Stub("QEMU", start_qemu, elf)
        try:
            per = max(1, args.steps // args.rounds), max(1, args.reads // args.rounds)
            step = interleaved(ours, qemu, lambda s: s.steps(per[0]), args.rounds)
            mi = interleaved(ours, qemu, lambda s: s.mi_reads(per[1]), args.rounds)
            dump = interleaved(ours, qemu, lambda s: s.dumps(per[1]), args.rounds)
        finally:
            qemu.close()
    finally:
        ours.close()
    print(f"  stepi round trips/s   rustos-dbg {step[0]:10.1f}   QEMU gdbstub {step[1]:10.1f}   "
          f"ratio {step[0] / step[1]:.2f}")
    print(f"  memory read bytes/s   rustos-dbg {mi[0]:10.0f}   QEMU gdbstub {mi[1]:10.0f}   "
          f"ratio {mi[0] / mi[1]:.2f}   (-data-read-memory-bytes, MI output parsed)")
    print(f"  memory read bytes/s   rustos-dbg {dump[0]:10.0f}   QEMU gdbstub {dump[1]:10.0f}   "
          f"ratio {dump[0] / dump[1]:.2f}   (dump binary memory /dev/null)")
    print(f"    ({args.steps} stepi; {args.reads} reads of {READ_SIZE} bytes of kernel text each way, "
          f"in {args.rounds} alternating rounds, best round of each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
