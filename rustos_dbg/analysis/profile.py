"""A deterministic instruction-count profile, per call stack, in flamegraph's folded format.

Contract: :class:`Profiler` samples a deterministic machine every
``interval`` instructions (exact counts: the run stops at each multiple of
``interval`` counted from where profiling began) and charges the ``interval``
instructions before each sample to the call stack at the sample (frame
pointers, across interrupt frames; innermost function last). Stopping at
instruction counts does not change the run (the determinism contract), so the
same kernel and input give the same profile, byte for byte. :meth:`run` is
``Machine.run`` with sampling; :meth:`folded` is the text of
``stack;of;functions COUNT`` lines (what ``flamegraph.pl`` and speedscope
read), heaviest first. The instructions after the last sample are charged to
the stack where the run ended (:meth:`finish`).
"""

from __future__ import annotations

from collections import Counter

from ..inspect.hw.bt import backtrace
from ..inspect.reader import SnapshotReader
from ..machine import StopKind
from ..machine.errors import RustosDbgError

#: Default sampling interval, in instructions.
DEFAULT_INTERVAL = 50_000


class Profiler:
    """Samples one machine's call stacks at exact instruction counts."""

    def __init__(self, machine, interval: int = DEFAULT_INTERVAL) -> None:
        """Profiles ``machine`` (deterministic mode) from its current count on."""
        if machine.counter is None:
            raise RustosDbgError("--profile needs the deterministic mode (no --fast): it counts instructions")
        if interval < 1:
            raise RustosDbgError(f"bad profile interval {interval} (a positive number of instructions)")
        self.machine = machine
        self.interval = interval
        self.stacks: Counter = Counter()
        self._charged_to = machine.icount
        self._next = machine.icount + interval

    def run(self, **kwargs):
        """``machine.run(**kwargs)``, stopping at each sample point to take the sample
        (those stops are not returned; any other stop is)."""
        limit = kwargs.pop("max_instructions", None)
        end = None if limit is None else self.machine.icount + limit
        while True:
            room = self._next - self.machine.icount
            if end is not None:
                room = min(room, end - self.machine.icount)
            stop = self.machine.run(max_instructions=room, **kwargs)
            if self.machine.icount >= self._next:
                self.sample()
            if stop.kind is not StopKind.INSTRUCTION_LIMIT or (end is not None and self.machine.icount >= end):
                return stop

    def sample(self) -> None:
        """Charges the instructions since the last sample to the current stack."""
        now = self.machine.icount
        if now > self._charged_to:
            self.stacks[self.stack()] += now - self._charged_to
        self._charged_to = now
        self._next = now + self.interval

    finish = sample

    def stack(self) -> str:
        """The current call stack, outermost first, joined by ``;``."""
        m = self.machine
        names = []
        for frame in backtrace(SnapshotReader(m), symbols=m.symbols).frames:
            if frame.kind == "interrupt":
                vector = frame.interrupt.vector if frame.interrupt is not None else "?"
                names.append(f"[interrupt {vector}]")
                continue
            pc = frame.pc - 1 if frame.is_return else frame.pc  # a return address may be past the call's function
            sym = m.symbols.containing(pc)
            names.append(sym.name if sym is not None else f"{frame.pc:#x}")
        return ";".join(reversed(names)) or "[unknown]"

    @property
    def total(self) -> int:
        """Instructions charged so far."""
        return sum(self.stacks.values())

    def folded(self) -> str:
        """The profile in folded format, heaviest stack first (ties by name)."""
        rows = sorted(self.stacks.items(), key=lambda kv: (-kv[1], kv[0]))
        return "".join(f"{stack} {count}\n" for stack, count in rows)

    def share(self, function: str) -> float:
        """The fraction of all instructions charged to stacks that contain ``function``."""
        total = self.total
        inside = sum(c for s, c in self.stacks.items() if function in s.split(";"))
        return inside / total if total else 0.0
