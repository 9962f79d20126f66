"""The threads inspector (`threads`, alias `ps`) against the kernel's own `ps`.

At the kernel's `ps` (a breakpoint on it), the inspector's table must agree
with the rows the kernel prints: pid, name, state, ring, and ticks (the kernel
takes its snapshot first; a tick between the two may add one)."""

import re

import pytest

from rustos_dbg import Machine
from rustos_dbg.inspect.kernel.threads import read_threads, threads_view, to_json
from rustos_dbg.repl.session import Session
from rustos_dbg.testing import PROMPT

pytestmark = pytest.mark.emulator

ROW = re.compile(r"^\s*(\d+) (\S+)\s+(ready|running|sleeping|exited)\s+(\d)\s+(\d+)\s*$", re.M)


def test_threads_agree_with_the_kernels_ps(kernel_elf):
    m = Machine.boot(kernel_elf)
    assert m.run_until_serial(PROMPT) is None
    m.send_serial("spawn spin\n")
    assert m.run_until_serial(PROMPT, max_instructions=20_000_000) is None
    m.run(max_instructions=30_000_000)                     # spin runs in ring 3, preempted by the tick
    m.send_serial("ps\n")
    stop = m.run(until="rustos::shell::procs::ps", timeout=60)
    assert stop.kind.value == "breakpoint", stop.describe()
    table = read_threads(m, m.image)
    start = len(m.serial_output)
    assert m.run_until_serial(PROMPT, max_instructions=20_000_000) is None
    printed = ROW.findall(m.serial_output[start:])
    assert [(t.tid, t.name, t.state, t.ring) for t in table.threads] == [
        (int(p), n, s, int(r)) for p, n, s, r, _ in printed]
    for t, row in zip(table.threads, printed):
        assert t.ticks <= int(row[4]) <= t.ticks + 1
    spin = next(t for t in table.threads if t.name == "spin")
    assert spin.ring == 3 and spin.cs & 3 == 3 and spin.rip < 1 << 47   # preempted in user space
    kernel = next(t for t in table.threads if t.tid == 1)
    assert kernel.rip is None and kernel.where is None    # on the CPU: its saved context is stale
    text = threads_view(table)
    assert "(on the CPU)" in text and re.search(r"^\s+\d+ spin\s+ready\s+3 ", text, re.M), text
    assert '"name": "spin"' in to_json(table)


def test_ps_is_the_threads_command_in_the_repl(kernel_elf):
    m = Machine.boot(kernel_elf)
    assert m.run_until_serial(PROMPT) is None
    session = Session(m)
    assert session.execute("ps") == session.execute("threads")
    assert session.execute("ps").startswith("threads: 1 live")
