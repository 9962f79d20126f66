"""One booted RustOS shell for the kernel-inspector acceptance tests.

The session fixture boots the real kernel in the emulator, types a fixed
script of shell commands and records, at each stop, the serial text the
command printed (parsed) and every inspector's model. Tests compare the two;
they never run the machine themselves, so their selection and order do not
change what they see. Tests that corrupt guest memory restore it.

Script (each step ends at the prompt after the command; ``@call`` steps also
stop at the kernel's command function, where the kernel takes its snapshot):
boot -> ``heap`` -> ``tasks`` (@call) -> ``info`` -> ``heap --classes`` (@call).
``heap --classes`` is longer than 8 characters: the shell's line buffer grows
from 8 to 16 bytes while it is typed, which frees an 8-byte block, so the
kernel's own listing then has a non-empty free list.
"""

import re
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from rustos_dbg import Machine, StopKind, dwarf
from rustos_dbg.inspect.kernel import read_bootinfo, read_frames, read_heap, read_tasks

PROMPT = "rustos> "
CMDLINE = "rustos-dbg kernel-inspect"


@dataclass
class Snapshot:
    """The models at one stop, and what the command printed (raw and parsed)."""

    heap: object
    tasks: object
    frames: object
    boot: object
    output: str = ""
    printed: dict = field(default_factory=dict)


def parse_output(text: str) -> dict:
    """The numbers of the kernel's `heap`, `tasks` and `info` output."""
    text = text.replace("\r", "")
    out: dict = {}
    m = re.search(r"heap: (0x[0-9a-f]+) size (\d+) bytes, in use (\d+) bytes, peak (\d+) bytes\n"
                  r"\s+allocs (\d+) frees (\d+) large (\d+) grows (\d+) failures (\d+)\n"
                  r"\s+free in lists (\d+) bytes, free in fallback (\d+) bytes\n((?:\s+list .*\n)*)", text)
    if m:
        keys = ("start", "size", "in_use", "peak", "allocs", "frees", "large", "grows", "failures",
                "free_lists", "free_fallback")
        out["heap"] = {k: int(v, 0) for k, v in zip(keys, m.groups()[:11])}
        out["heap"]["lists"] = {int(s): int(c) for s, c in re.findall(r"list\s+(\d+): (\d+) free", m.group(12))}
    m = re.search(r"tasks:\n((?:\s+\d+ .*\n)*)ready queue:([ \d]*)\n", text)
    if m:
        rows = re.findall(r"^\s+(\d+) (\S+)\s+(\w+)\s+polls (\d+) wakes (\d+)$", m.group(1), re.M)
        out["tasks"] = [{"id": int(i), "name": n, "state": s, "polls": int(p), "wakes": int(w)}
                        for i, n, s, p, w in rows]
        out["ready"] = [int(x) for x in m.group(2).split()]
    m = re.search(r"frames: (\d+) free of (\d+) usable", text)
    if m:
        out["frames"] = {"free": int(m.group(1)), "usable": int(m.group(2))}
    regions = re.findall(r"^\s+(0x[0-9a-f]+)-(0x[0-9a-f]+)\s+(\d+) KiB (.+)$", text, re.M)
    if regions:
        out["regions"] = [(int(a, 16), int(b, 16), k) for a, b, _, k in regions]
    return out


class Shell:
    """The booted machine, its DWARF, and the snapshots of the script."""

    def __init__(self, machine, info) -> None:
        self.machine, self.info = machine, info
        self.cmdline = CMDLINE
        self.stops: dict[str, Snapshot] = {}

    def snapshot(self, output: str = "") -> Snapshot:
        m, info = self.machine, self.info
        return Snapshot(read_heap(m, info), read_tasks(m, info), read_frames(m, info), read_bootinfo(m, info),
                        output, parse_output(output))

    def settle(self) -> None:
        """Runs on (a little) if the stop fell inside a poll or with a lock held, so
        that the prompt stop is the quiet shell; in deterministic mode this is rare."""
        for _ in range(50):
            ex = read_tasks(self.machine, self.info)
            if ex.current == 0 and not ex.locked and not read_heap(self.machine, self.info).locked:
                return
            self.machine.run(max_instructions=20_000)
        raise AssertionError("the executor did not become idle")

    def command(self, text: str, call: str | None = None):
        m = self.machine
        start = len(m.serial_output)
        m.send_serial(text + "\n")
        at_call = None
        if call is not None:
            stop = m.run(until=call, timeout=60)
            assert stop.kind is StopKind.BREAKPOINT, stop
            at_call = self.snapshot()
        assert m.run_until_serial(PROMPT) is None
        self.settle()
        at_prompt = self.snapshot(m.serial_output[start:])
        if at_call is not None:
            at_call.output, at_call.printed = at_prompt.output, at_prompt.printed
        return at_call, at_prompt


@pytest.fixture(scope="session")
def shell(kernel_elf) -> Shell:
    machine = Machine.boot(kernel_elf, cmdline=CMDLINE)
    info = dwarf.load(machine.image)  # the machine's own parse of its ELF
    assert machine.run_until_serial(PROMPT) is None
    session = Shell(machine, info)
    session.settle()
    session.stops["boot"] = session.snapshot(machine.serial_output)
    session.stops["heap"] = session.command("heap")[1]
    session.stops["tasks@call"], session.stops["tasks"] = session.command("tasks", "rustos::shell::commands::tasks")
    session.stops["info"] = session.command("info")[1]
    session.stops["heap2@call"], session.stops["heap2"] = session.command(
        "heap --classes", "rustos::shell::commands::heap_cmd")
    return session


def poke(machine, address, data):
    """``machine.write_virtual``. Tolerates one known machine bug: with unicorn 2.1.4 the
    TLB flush after the write (``uc.ctl_flush_tlb``) does not exist, so the call raises
    AttributeError after the bytes were written; the read-back proves the write."""
    try:
        machine.write_virtual(address, data)
    except AttributeError as error:
        if "ctl_flush_tlb" not in str(error):
            raise
    assert machine.read_virtual(address, len(data)) == data


@contextmanager
def patched(machine, address, data):
    saved = machine.read_virtual(address, len(data))
    poke(machine, address, data)
    try:
        yield
    finally:
        poke(machine, address, saved)


@pytest.fixture
def patch(shell):
    """``patch(address, data)``: a context manager that writes guest memory and restores it."""
    return lambda address, data: patched(shell.machine, address, data)
