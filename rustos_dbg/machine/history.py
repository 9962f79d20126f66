"""Time travel: the recorded history of a deterministic run, and going back in it.

Contract: once :meth:`History.enable`\\ d (deterministic mode only), the history
keeps what makes the run reproducible: checkpoints (whole
:class:`~.state.MachineState`\\ s: RAM pages are shared between them, so each
costs the pages that changed) at its start and then every ``interval``
instructions at the frontier, thinned within ``budget`` bytes (the first is
always kept), and every input from the host with the virtual time it was
delivered at. ``end`` is the furthest instruction count the run reached.

* :meth:`History.goto` reaches any count from the first checkpoint to
  ``end``: it restores the nearest checkpoint at or before it (unless the
  machine is already between that checkpoint and the target) and re-executes
  with the recorded input replayed at its times and debugger settings
  (breakpoints, watchpoints, caught vectors) silent. The state "at N" is the
  one a stop after N instructions shows: every event due at N applied.
* :meth:`History.reverse_continue` finds the latest stop the debugger
  settings cause before now (breakpoint, watchpoint, caught exception) and
  stops there, or at the beginning of history (``StopKind.HISTORY_START``).
* :meth:`History.last_write` re-executes the past with a write hook on a
  range and reports the latest write before now, then comes back;
  :meth:`History.last_writes` the latest few, newest first.
* Input in the past: sending input while behind ``end`` is refused (a
  :class:`~.errors.RustosDbgError`): ``goto`` the end first. Going forward
  from the past replays the recorded input, so the same run comes again.

Debugger settings are not history: going back keeps the ones set now.
"""

from __future__ import annotations

from dataclasses import dataclass

from unicorn import UC_HOOK_MEM_WRITE

from .errors import RustosDbgError
from .kcontext import KernelContext, context_probe
from .state import MachineState
from .stops import Stop, StopKind

DEFAULT_INTERVAL = 10_000_000        #: instructions between checkpoints
DEFAULT_BUDGET = 256 << 20           #: bytes of RAM pages the checkpoints may hold
_DEBUG_STOPS = (StopKind.BREAKPOINT, StopKind.WATCHPOINT, StopKind.EXCEPTION)


class HistoryError(RustosDbgError):
    """A time-travel request that cannot be met (no history, out of its range, ...)."""


@dataclass(frozen=True)
class LastWrite:
    """The latest write to a watched range before the present."""

    icount: int              #: the writing instruction's number (the state after it is ``goto(icount)``)
    rip: int                 #: the writing instruction
    symbol: str              #: ``function+0xoff`` of ``rip``
    line: str | None         #: its source line, when the DWARF knows it
    address: int             #: the range written (virtual)
    old: bytes               #: the range before the write
    new: bytes               #: the range after it
    context: KernelContext   #: the trap handler and the task running at the write (parts None when unknown)


class History:
    """The history of one machine's run."""

    def __init__(self, machine) -> None:
        """Off until :meth:`enable`."""
        self._m = machine
        self.enabled = False
        self.interval = DEFAULT_INTERVAL
        self.budget = DEFAULT_BUDGET
        #: Checkpoints, earliest first (the first one is the beginning of history).
        self.checkpoints: list[MachineState] = []
        self._own: list[int] = []  # bytes of pages each checkpoint does not share with the one before it
        #: Every input of this history as (icount, kind, data, at_ns), as ``Machine.input_log``.
        self.inputs: list[tuple[int, str, bytes, int]] = []
        #: The furthest instruction count the run reached.
        self.end = 0

    # --- recording ---------------------------------------------------------------

    def enable(self, interval: int | None = None, budget: int | None = None) -> None:
        """Starts recording here (the beginning of history), checkpointing every
        ``interval`` instructions within ``budget`` bytes."""
        m = self._m
        if m.clock.counter is None:
            raise HistoryError("time travel needs the deterministic mode (not --fast)")
        if interval is not None and interval < 1_000:
            raise HistoryError("the checkpoint interval must be at least 1000 instructions")
        self.interval = interval or self.interval
        self.budget = budget or self.budget
        self.checkpoints, self._own = [], []
        self._add_checkpoint(m.snapshot())
        self.inputs = list(m.inputs.log)
        self.end = m.icount
        self.enabled = True

    @property
    def start(self) -> int:
        """The first instruction count of history."""
        self._require()
        return self.checkpoints[0].icount

    def on_slice(self) -> None:
        """Between two slices: extends the history at its frontier, and
        checkpoints every ``interval`` instructions there."""
        if not self.enabled:
            return
        m = self._m
        icount = m.icount
        if icount < self.end or m.control.pending is not None:
            return  # re-executing the past (it is recorded already), or a stop to report first
        self.end = icount
        self._take_inputs()
        if icount >= self.checkpoints[-1].icount + self.interval:
            self._add_checkpoint(m.snapshot())
            self._thin()

    def check_present(self) -> None:
        """Refuses input while the machine is behind the end of its history."""
        if self.enabled and self._m.icount < self.end:
            raise HistoryError(f"the machine is in the past (instruction {self._m.icount} of {self.end}): "
                               f"input would change history; goto {self.end} first")

    def memory(self) -> int:
        """Bytes of pages (RAM and video memory) the checkpoints hold: each page counted
        once per run of consecutive checkpoints sharing it (zero pages free)."""
        return sum(self._own)

    def _add_checkpoint(self, state: MachineState) -> None:
        before = self.checkpoints[-1] if self.checkpoints else None
        self.checkpoints.append(state)
        self._own.append(state.new_bytes(before))

    def _take_inputs(self) -> None:
        log = self._m.inputs.log
        if len(log) > len(self.inputs):
            self.inputs.extend(log[len(self.inputs):])

    def _thin(self) -> None:
        """Drops every other checkpoint of the older half while over budget (the first stays)."""
        while len(self.checkpoints) > 2 and self.memory() > self.budget:
            older = self.checkpoints[1:len(self.checkpoints) // 2 + 1]
            drop = {id(s) for s in older[::2]} or {id(self.checkpoints[1])}
            kept = [i for i, s in enumerate(self.checkpoints) if id(s) not in drop]
            states = [self.checkpoints[i] for i in kept]
            own = [self._own[i] if j == 0 or kept[j - 1] == i - 1 else states[j].new_bytes(states[j - 1])
                   for j, i in enumerate(kept)]
            self.checkpoints, self._own = states, own

    def _require(self) -> None:
        if not self.enabled:
            raise HistoryError("no history recorded: Machine.boot(..., history=True) or machine.history.enable()")

    # --- going back ----------------------------------------------------------------

    def goto(self, icount: int) -> Stop:
        """Takes the machine to instruction count ``icount`` of its history."""
        self._require()
        m = self._m
        self.before_restore()
        if not self.start <= icount <= self.end:
            raise HistoryError(f"instruction {icount} is outside the history ({self.start}-{self.end})")
        nearest = self._checkpoint_before(icount)
        if icount < m.icount or nearest.icount > m.icount:
            m.restore(nearest)  # going forward too: re-execute at most one interval
        self._replay_to(icount)
        return Stop(StopKind.STEP, m.cpu.reg("rip"), m.icount, message=f"at instruction {icount} of {self.end}")

    def reverse_step(self, n: int = 1) -> Stop:
        """Goes back ``n`` instructions (to the beginning of history at most)."""
        self._require()
        if n < 1:
            raise HistoryError("reverse-step needs a count of at least 1")
        target = self._m.icount - n
        if target <= self.start:
            self.goto(self.start)
            return self._at_start()
        return self.goto(target)

    def reverse_continue(self) -> Stop:
        """Goes back to the latest stop the debugger settings cause before now, or to
        the beginning of history."""
        self._require()
        m = self._m
        now = m.icount
        self.before_restore()
        earlier = [s for s in self.checkpoints if s.icount < now]
        for i in range(len(earlier) - 1, -1, -1):
            limit = min(now, earlier[i + 1].icount + 1) if i + 1 < len(earlier) else now
            hits = self._hits(earlier[i], limit, now)
            if hits:
                return self._rerun_to_hit(earlier[i], len(hits), hits[-1].icount)
        self.goto(self.start)
        return self._at_start()

    def last_write(self, address: int, size: int = 1) -> LastWrite | None:
        """The latest write to ``size`` bytes at virtual ``address`` before now
        (None: none in the recorded history); the machine comes back to now."""
        writes = self.last_writes(address, size, limit=1)
        return writes[0] if writes else None

    def last_writes(self, address: int, size: int = 1, limit: int = 10) -> list[LastWrite]:
        """The latest ``limit`` writes to ``size`` bytes at virtual ``address``
        before now, newest first (fewer when the history holds fewer); the
        machine comes back to now."""
        self._require()
        m = self._m
        if size < 1:
            raise HistoryError("the size must be at least 1 byte")
        if limit < 1:
            raise HistoryError("the number of writes must be at least 1")
        paddr = m.memory.translate(address)  # a GuestMemoryError when not mapped now
        if (paddr & 0xFFF) + size > 0x1000:
            raise HistoryError("the range must lie within one page")
        now = m.icount
        self.before_restore()
        found: list[LastWrite] = []
        earlier = [s for s in self.checkpoints if s.icount < now]
        context = context_probe(m)
        try:
            for i in range(len(earlier) - 1, -1, -1):
                end = min(now, earlier[i + 1].icount) if i + 1 < len(earlier) else now
                found.extend(reversed(self._writes(earlier[i], end, address, paddr, size, context)))
                if len(found) >= limit:
                    break
        finally:
            self.goto(now)
        return found[:limit]

    # --- mechanics -------------------------------------------------------------------

    def _checkpoint_before(self, icount: int) -> MachineState:
        return [s for s in self.checkpoints if s.icount <= icount][-1]

    def before_restore(self) -> None:
        """``Machine.restore`` is about to go elsewhere: record the frontier first."""
        if self.enabled and self._m.icount >= self.end:
            self.on_slice()

    def on_restore(self, state: MachineState) -> None:
        """``Machine.restore(state)`` happened: the recorded input after ``state``
        is scheduled again, so going forward replays the same run. A state from
        another history (its input is not a prefix of this one's) starts a new
        history there."""
        if not self.enabled:
            return
        m = self._m
        log = list(state.inputs.log)
        if self.inputs[:len(log)] != log or state.icount < self.start:
            self.enable(self.interval, self.budget)
            return
        future = self.inputs[len(log):]
        replays = [(at_ns, kind, data) for _, kind, data, at_ns in future]
        pending = [e for e in state.inputs.scheduled if e not in replays]
        m.inputs.scheduled = sorted(replays + pending, key=lambda e: e[0])

    def _replay_to(self, icount: int) -> None:
        """Runs forward to ``icount`` with the debugger settings silent."""
        m = self._m
        m.control.quiet = True
        try:
            while m.icount < icount:
                stop = m.run(max_instructions=icount - m.icount)
                if stop.kind is not StopKind.INSTRUCTION_LIMIT:
                    break
            if m.icount == icount:
                m.run(max_instructions=0)  # the events due at icount
        finally:
            m.control.quiet = False

    def _hits(self, state: MachineState, limit: int, now: int) -> list[Stop]:
        """The stops the debugger settings cause from ``state`` up to ``limit``, before ``now``."""
        m = self._m
        m.restore(state)
        hits = []
        while m.icount < limit:
            stop = m.run(max_instructions=limit - m.icount)
            if stop.kind in _DEBUG_STOPS and stop.icount < now:
                hits.append(stop)
            elif stop.kind not in _DEBUG_STOPS and stop.kind is not StopKind.INSTRUCTION_LIMIT:
                break
        return hits

    def _rerun_to_hit(self, state: MachineState, n: int, icount: int) -> Stop:
        """Restores ``state`` and runs to the ``n``-th stop the debugger settings cause
        (found at ``icount`` before)."""
        m = self._m
        m.restore(state)
        seen = 0
        while True:
            stop = m.run(max_instructions=icount + 1 - m.icount)
            if stop.kind in _DEBUG_STOPS:
                seen += 1
                if seen == n:
                    return stop
            elif stop.kind is not StopKind.INSTRUCTION_LIMIT:
                raise HistoryError(f"the replay did not come back to the same stop ({stop.describe()})")

    def _writes(self, state: MachineState, limit: int, address: int, paddr: int, size: int,
                context) -> list[LastWrite]:
        """The writes to the range from ``state`` up to instruction ``limit``; ``context()``
        gives the kernel context at each (:func:`~.kcontext.context_probe`)."""
        m = self._m
        m.restore(state)
        writes: list[LastWrite] = []
        counter = m.clock.counter

        def hook(uc, _access, where, length, value, _data):
            if where + length <= paddr or where >= paddr + size or counter.count > limit:
                return
            old = bytes(uc.mem_read(paddr, size))
            new = bytearray(old)
            raw = (value & ((1 << (8 * length)) - 1)).to_bytes(length, "little")
            for k in range(length):
                if paddr <= where + k < paddr + size:
                    new[where + k - paddr] = raw[k]
            rip = m.cpu.reg("rip")
            writes.append(LastWrite(counter.count, rip, m.symbolize(rip), m.source_line(rip), address, old, bytes(new),
                                    context()))

        handle = m.uc.hook_add(UC_HOOK_MEM_WRITE, hook, None, paddr, paddr + size - 1)
        m.flush_caches()
        try:
            self._replay_to(limit)
        finally:
            m.uc.hook_del(handle)
        return writes

    def _at_start(self) -> Stop:
        m = self._m
        return Stop(StopKind.HISTORY_START, m.cpu.reg("rip"), m.icount, message="the beginning of the recorded history")
