"""Helpers of the REPL acceptance tests.

* :func:`run_cli` drives the real ``rustos-dbg debug`` in batch mode (a subprocess).
* :func:`elf_symbol`, :func:`elf_function`, :func:`elf_sections` read the kernel
  ELF with pyelftools, independently of the product's symbol table.
* :func:`shell_command` types a line on COM1 and returns what the kernel's
  shell printed up to the next prompt; ``parse_kernel_*`` parse the kernel's
  own ``page``, ``heap`` and ``tasks`` output (kernel/src/shell/commands.rs).
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from pathlib import Path

from elftools.elf.elffile import ELFFile

from rustos_dbg.repl import CommandError
from rustos_dbg.testing import PROMPT, run_to_serial

ROOT = Path(__file__).resolve().parents[2]
CLI_TIMEOUT = 120

SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
KERNEL_BASE = 0xFFFF_FFFF_8000_0000


# --- the CLI ------------------------------------------------------------------------

def run_cli(elf, *commands: str, json_output: bool = False, scripts=(), stdin: str | None = None,
            timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
    """``python -m rustos_dbg debug ELF [--json] -ex C... -x F...``, captured."""
    argv = [sys.executable, "-m", "rustos_dbg", "debug", str(elf)]
    if json_output:
        argv.append("--json")
    for line in commands:
        argv += ["-ex", line]
    for script in scripts:
        argv += ["-x", str(script)]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          input=stdin if stdin is not None else "")


def error_lines(stderr: str) -> list[str]:
    """The non-empty lines of stderr."""
    return [line for line in stderr.splitlines() if line.strip()]


# --- the ELF, read independently -------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _elf_tables(path: str):
    with open(path, "rb") as fh:
        elf = ELFFile(fh)
        symbols: dict[str, list[tuple[int, int, str]]] = {}
        for s in elf.get_section_by_name(".symtab").iter_symbols():
            if s.name:
                symbols.setdefault(s.name, []).append((s["st_value"], s["st_size"], s["st_info"]["type"]))
        sections = [(sec.name, sec["sh_addr"], sec["sh_size"], sec["sh_flags"]) for sec in elf.iter_sections()]
    return symbols, sections


def elf_symbol(elf, name: str) -> tuple[int, int]:
    """(address, size) of a plain (unmangled) symbol of the ELF's .symtab."""
    found = _elf_tables(str(elf))[0].get(name)
    assert found, f"no symbol {name!r} in {elf}"
    return found[0][0], found[0][1]


def elf_function(elf, path: str) -> tuple[int, int]:
    """(address, size) of the Rust function ``a::b::c``, found by its v0-mangled name
    (``_RNv...6rustos5shell8commands8heap_cmd``), without the product's demangler."""
    parts = path.split("::")
    root = f"{len(parts[0])}{parts[0]}"
    tail = "".join(f"{len(p)}{p}" for p in parts[1:])
    hits = [(name, v) for name, vs in _elf_tables(str(elf))[0].items() if name.startswith("_RNv")
            and name.endswith(tail) and root in name for v in vs if v[2] == "STT_FUNC"]
    assert len(hits) == 1, f"{path}: {hits}"
    return hits[0][1][0], hits[0][1][1]


def elf_sections(elf) -> list[tuple[str, int, int, int]]:
    """(name, address, size, flags) of every section."""
    return list(_elf_tables(str(elf))[1])


# --- the session ----------------------------------------------------------------------

def run(session, line: str) -> str:
    """``session.execute(line)``; a CommandError fails the test with its message."""
    try:
        return session.execute(line)
    except CommandError as e:  # pragma: no cover - shown as the failure
        raise AssertionError(f"{line!r} failed: {e}") from None


def run_json(session, line: str):
    """The parsed JSON output of ``line`` with the session's JSON mode on."""
    before = session.json
    session.json = True
    try:
        return json.loads(run(session, line))
    finally:
        session.json = before


def stop_icount(report: str) -> int:
    """The instruction count of a stop report's first line (``... after N instructions``)."""
    m = re.search(r"after (\d+) instructions", report)
    assert m, report
    return int(m.group(1))


# --- the kernel's own shell -------------------------------------------------------------

def shell_command(machine, line: str) -> str:
    """Sends ``line`` to COM1 and returns the kernel's output up to the next prompt."""
    start = len(machine.serial_output)
    machine.send_serial(line + "\n")
    run_to_serial(machine, PROMPT)
    return machine.serial_output[start:].replace("\r", "")


def output_until_prompt(machine, start: int) -> str:
    """Runs to the next prompt; the serial output since ``start``."""
    run_to_serial(machine, PROMPT)
    return machine.serial_output[start:].replace("\r", "")


_PAGE_STEP = re.compile(r"^\s+(PML4E|PDPTE|PDE|PTE)\s+\[\s*(\d+)\] at (0x[0-9a-f]+) = (0x[0-9a-f]+)\s*$", re.M)


def parse_kernel_page(text: str) -> dict:
    """The kernel's ``page`` output: the entries and the translation."""
    steps = [(name, int(i), int(addr, 16), int(raw, 16)) for name, i, addr, raw in _PAGE_STEP.findall(text)]
    phys = re.search(r"-> phys (0x[0-9a-f]+)", text)
    assert phys or "-> not mapped" in text, text
    return {"steps": steps, "phys": int(phys.group(1), 16) if phys else None}


def parse_kernel_heap(text: str) -> dict:
    """The kernel's ``heap`` output."""
    m = re.search(r"heap: (0x[0-9a-f]+) size (\d+) bytes, in use (\d+) bytes, peak (\d+) bytes\n"
                  r"\s+allocs (\d+) frees (\d+) large (\d+) grows (\d+) failures (\d+)\n"
                  r"\s+free in lists (\d+) bytes, free in fallback (\d+) bytes\n((?:\s+list .*\n)*)", text)
    assert m, text
    keys = ("start", "size", "in_use", "peak", "allocs", "frees", "large", "grows", "failures",
            "free_lists", "free_fallback")
    out = {k: int(v, 0) for k, v in zip(keys, m.groups()[:11])}
    out["lists"] = {int(s): int(c) for s, c in re.findall(r"list\s+(\d+): (\d+) free", m.group(12))}
    return out


def parse_kernel_tasks(text: str) -> dict:
    """The kernel's ``tasks`` output: rows (id, name, state, polls, wakes) and the ready queue."""
    m = re.search(r"tasks:\n((?:\s+\d+ .*\n)*)ready queue:([ \d]*)\n", text)
    assert m, text
    rows = re.findall(r"^\s+(\d+) (\S+)\s+(\w+)\s+polls (\d+) wakes (\d+)$", m.group(1), re.M)
    return {"tasks": [(int(i), n, s) for i, n, s, _p, _w in rows],
            "ready": [int(x) for x in m.group(2).split()]}


class interrupt_after:
    """Context manager: from a helper thread, interrupts ``machine`` every ``seconds``
    (``Machine.interrupt``, what Ctrl-C does) until the block ends, so that a command
    that would run forever returns an ``interrupted`` stop instead of hanging the test."""

    def __init__(self, machine, seconds: float) -> None:
        import threading

        self.machine, self.seconds = machine, seconds
        self.fired = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._done.wait(self.seconds):
            self.fired = True
            self.machine.interrupt()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()
