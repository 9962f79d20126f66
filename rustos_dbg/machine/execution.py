"""The run loop of a :class:`~.machine.Machine`: slices, interrupts between
them, HLT skipping, stops.

Contract: ``run`` executes the guest until a :class:`~.stops.Stop`. Between
slices the devices are ticked to the virtual time and a pending PIC interrupt
is delivered when RFLAGS.IF is set (not in an STI shadow); a HLT skips virtual
time to the next device event, or is "halted for good" with IF clear. Slices
end synchronously: at an instruction budget (deterministic mode) or a block
budget (fast mode), never by an asynchronous stop.
"""

from __future__ import annotations

import time

from unicorn import UcError

from .counter import InstructionCounter
from .delivery import Source
from .stops import Stop, StopKind

NS_PER_INSTRUCTION = 1
MAX_SLICE = 200_000
FAST_SLICE_BLOCKS = 20_000
_UNTIL = 0x8000_0000_0000_0000  # non-canonical: never reached
_IF = 1 << 9


class Execution:
    """Mixin of :class:`~.machine.Machine`: running the guest."""

    @property
    def halted(self) -> bool:
        """True while the CPU waits in HLT for an interrupt (known exactly: the
        engine returned from a HLT, not guessed from the code before rip)."""
        return self._halted

    @property
    def shutdown(self) -> Stop | None:
        """The TRIPLE_FAULT stop once a triple fault shut the CPU down (for good:
        every later run returns it without executing), else None."""
        return self._shutdown

    def _service_interrupts(self, deliver: bool = True) -> None:
        """Ticks the devices and delivers a pending PIC interrupt if IF allows
        (and ``deliver``: else requests stay latched in the PIC)."""
        self.devices.bus.tick(self.now_ns())
        if not deliver or not self.reg("rflags") & _IF or not self.devices.pic.pending():
            return
        rip = self.reg("rip")
        if not self._halted and self._after_sti(rip):
            return  # the STI shadow: one more instruction first
        vector = self.devices.pic.acknowledge()
        self._halted = False
        self._deliver(vector, Source.EXTERNAL, None, rip)

    def _after_sti(self, rip: int) -> bool:
        try:
            return self.memory.read_linear(rip - 1, 1) == b"\xfb"
        except Exception:
            return False

    def _emulate(self, budget: int, exact: int | None = None) -> None:
        """Runs up to ``budget`` instructions (deterministic) or a block budget
        (fast; ``exact`` instructions when given). Whether the slice ended in
        HLT is known exactly: the engine returned without a stop of ours."""
        rip = self.reg("rip")
        # A stop at an instruction-count limit leaves QEMU's old_exception set,
        # which would turn the next fault into a bogus #DF or triple fault.
        self._fields.clear_old_exception(self.uc)
        if self.counter is not None:
            limiter = self.counter
            limiter.arm(limiter.count + budget)
            self._start(rip)
        else:
            limiter, temporary = self._fast_limiter(exact)
            self._fast_started = time.monotonic_ns()
            try:
                self._start(rip)
            finally:
                self._fast_ns += time.monotonic_ns() - self._fast_started
                self._fast_started = None
                if temporary:
                    limiter.remove()
                    self.uc.ctl_flush_tb()
        if self._watch_hit is not None:
            self._take_watch()
            return
        if self._pending is None and not self._interrupt.is_set() and not limiter.stopped:
            self._halted = True

    def _start(self, rip: int) -> None:
        try:
            self.uc.emu_start(rip, _UNTIL)
        except UcError as e:
            self._error(e)

    def _fast_limiter(self, exact: int | None):
        """The counter that ends a fast-mode slice, and whether it is temporary:
        the block counter, or for an exact instruction count an instruction
        counter (the watchpoints' one, or one installed for this slice)."""
        if not exact:
            if self._stopper is not None:
                self._stopper.arm(2**64 - 1)
            self._blocks.arm(self._blocks.count + FAST_SLICE_BLOCKS)
            return self._blocks, False
        self._blocks.arm(2**64 - 1)
        limiter, temporary = self._stopper, False
        if limiter is None:
            limiter, temporary = InstructionCounter(self.uc), True
            self.uc.ctl_flush_tb()  # blocks translated before the hook would not count
        limiter.arm(limiter.count + exact)
        return limiter, temporary

    def _error(self, error: UcError) -> None:
        if self._pending is None:
            rip = self.reg("rip")
            self._pending = Stop(StopKind.ERROR, rip, self.icount,
                                 message=f"{error} at {self.symbolize(rip)}")

    def run(self, until=None, max_instructions: int | None = None, timeout: float | None = None,
            stop_when=None, interrupts: bool = True) -> Stop:
        """Runs until a stop: ``until`` (address or symbol) is reached, the
        kernel exits, a breakpoint, watchpoint or caught exception, a triple
        fault, halting for good, ``max_instructions`` executed, ``timeout``
        host seconds passed, :meth:`interrupt`, or ``stop_when()`` returning
        true (checked between slices; the stop kind is then INTERRUPTED).

        ``interrupts=False`` holds hardware interrupts off for this run (they
        stay latched in the PIC for a later run), as a debugger's single step
        does; a CPU halted in HLT then cannot go on and the run stops HALTED."""
        if self._shutdown is not None:
            return self._shutdown  # a triple fault shut the CPU down for good
        target = self.resolve(until) if until is not None else None
        if target is not None:
            self.breakpoints.add_temporary(target)
        # Resuming from a breakpoint executes its instruction once; an interrupt
        # delivered first does not consume that (its handler's breakpoints hit).
        self.breakpoints.resume_at(self.reg("rip"))
        deadline = time.monotonic() + timeout if timeout is not None else None
        start = self.icount
        steps = 0
        self._interrupt.clear()
        try:
            while True:
                next_input = self._deliver_scheduled() if self._scheduled else None
                if self._pending is None:
                    self._service_interrupts(deliver=interrupts)
                stop = self._take_stop()
                if stop is not None:
                    if stop.kind is StopKind.TRIPLE_FAULT:
                        self._shutdown = stop
                    return stop
                if max_instructions is not None and self.counter is None and steps >= 1:
                    return Stop(StopKind.INSTRUCTION_LIMIT, self.reg("rip"), self.icount)
                left = None if max_instructions is None else max_instructions - (self.icount - start)
                if left is not None and left <= 0 and self.counter is not None:
                    return Stop(StopKind.INSTRUCTION_LIMIT, self.reg("rip"), self.icount)
                if deadline is not None and time.monotonic() >= deadline:
                    return Stop(StopKind.TIME_LIMIT, self.reg("rip"), self.icount)
                if stop_when is not None and stop_when():
                    return Stop(StopKind.INTERRUPTED, self.reg("rip"), self.icount, message="condition met")
                if self._halted and not interrupts:
                    return Stop(StopKind.HALTED, self.reg("rip"), self.icount,
                                message="HLT, waiting for an interrupt (interrupts held off)")
                if self._halted:
                    stop = self._idle(next_input)
                    if stop is not None:
                        return stop
                    continue
                budget = self._slice(left)
                if next_input is not None:
                    budget = max(1, min(budget, (next_input - self.now_ns()) // NS_PER_INSTRUCTION))
                self._emulate(budget, exact=max_instructions if self.counter is None else None)
                steps += 1
        finally:
            if target is not None:
                self.breakpoints.remove_temporary(target)

    def _take_stop(self) -> Stop | None:
        if self._pending is not None:
            stop, self._pending = self._pending, None
            return stop
        if self._interrupt.is_set():
            self._interrupt.clear()
            return Stop(StopKind.INTERRUPTED, self.reg("rip"), self.icount)
        return None

    def _slice(self, left: int | None) -> int:
        now = self.now_ns()
        event = self.devices.bus.next_event(now)
        budget = MAX_SLICE if event is None else max(1, (event - now) // NS_PER_INSTRUCTION)
        budget = min(budget, MAX_SLICE)
        if self.counter is None:
            return budget * NS_PER_INSTRUCTION
        return budget if left is None else min(budget, left)

    def _idle(self, next_input: int | None = None) -> Stop | None:
        """The CPU is halted: skip to the next device event (or scheduled input),
        or report halting for good."""
        if not self.reg("rflags") & _IF:
            return Stop(StopKind.HALTED, self.reg("rip"), self.icount, message="HLT with interrupts disabled")
        now = self.now_ns()
        event = self.devices.bus.next_event(now)
        if next_input is not None and (event is None or next_input < event):
            event = next_input
        if event is None:
            return Stop(StopKind.HALTED, self.reg("rip"), self.icount, message="HLT and no device event to come")
        if self.counter is None:
            time.sleep(min(max(event - now, 0), 1_000_000) / 1e9)
            if self.now_ns() < event:
                self._idle_ns += event - self.now_ns()
        elif event > now:
            self._idle_ns += event - now
        return None

    def step(self, interrupts: bool = True) -> Stop:
        """Executes one instruction (delivering a pending interrupt first, unless
        ``interrupts`` is False: see :meth:`run`)."""
        stop = self.run(max_instructions=1, interrupts=interrupts)
        if stop.kind is StopKind.INSTRUCTION_LIMIT:
            return Stop(StopKind.STEP, stop.rip, stop.icount)
        return stop

    def run_until_serial(self, text: str, timeout: float = 60.0, max_instructions: int | None = None) -> Stop | None:
        """Runs until COM1 output gains ``text`` (after what it held before); returns
        None on success, else the stop that came first."""
        start = len(self._serial)
        needle = text.encode()
        found = lambda: needle in self._serial[start:]
        stop = self.run(max_instructions=max_instructions, timeout=timeout, stop_when=found)
        return None if found() else stop
