"""The run loop of a :class:`~.machine.Machine`: slices, interrupts between
them, HLT skipping, stops.

Contract: :meth:`Runner.run` executes the guest until a :class:`~.stops.Stop`.
Between slices the devices are ticked to the virtual time and a pending PIC
interrupt is delivered when RFLAGS.IF is set (not in an STI shadow); a HLT
skips virtual time to the next device event, or is "halted for good" with IF
clear. Slices end synchronously: at an instruction budget (deterministic
mode) or a block budget (fast mode), never by an asynchronous stop. Whether
a slice ended in HLT is known exactly: the engine returned without a stop of
ours (the counters flag their own stops).
"""

from __future__ import annotations

import time

from unicorn import UcError

from .clock import NS_PER_INSTRUCTION
from .counter import InstructionCounter
from .delivery import Source
from .stops import Stop, StopKind

MAX_SLICE = 2_000_000
#: Deterministic runs of at most this many instructions (single steps) count
#: per instruction: no block is then run partially.
SHORT_RUN = 10_000
FAST_SLICE_BLOCKS = 20_000
_UNTIL = 0x8000_0000_0000_0000  # non-canonical: never reached
_IF = 1 << 9
_STI = b"\xfb"


class Runner:
    """Runs one machine's engine."""

    def __init__(self, machine) -> None:
        """Runs ``machine`` (its engine, parts, debugger settings and hooks)."""
        self._m = machine
        # Fast mode ends its slices at a budget of executed blocks: a synchronous
        # stop (Unicorn's asynchronous timeout stop was seen to corrupt state when
        # it landed next to an exception delivery).
        self._blocks = InstructionCounter(machine.uc, blocks=True) if machine.clock.counter is None else None
        #: Fast mode: the instruction counter that watchpoints need, while they exist.
        self.stopper: InstructionCounter | None = None

    def interrupt(self) -> None:
        """Stops a running machine soon, from any thread: at the next
        instruction (deterministic mode) or block (fast mode)."""
        m = self._m
        m.control.interrupted.set()
        (m.clock.counter or self._blocks).stop_soon()

    def need_stopper(self, needed: bool) -> None:
        """Fast mode: installs (or removes) the instruction counter watchpoints stop with."""
        m = self._m
        if m.clock.counter is not None:
            m.clock.counter.per_instruction(needed)  # watchpoints stop right after an access
            return
        if needed == (self.stopper is not None):
            return
        if needed:
            self.stopper = InstructionCounter(m.uc)
            m.uc.ctl_flush_tb()  # blocks translated before the hook would not count
        else:
            self.stopper.remove()
            self.stopper = None

    def run(self, until=None, max_instructions: int | None = None, timeout: float | None = None,
            stop_when=None, interrupts: bool = True) -> Stop:
        """See :meth:`~.machine.Machine.run`."""
        m = self._m
        if m.cpu.shutdown is not None:
            return m.cpu.shutdown  # a triple fault shut the CPU down for good
        target = m.resolve(until) if until is not None else None
        if target is not None:
            m.breakpoints.add_temporary(target)
        # Resuming from a breakpoint executes its instruction once; an interrupt
        # delivered first does not consume that (its handler's breakpoints hit).
        m.breakpoints.resume_at(m.cpu.reg("rip"))
        m.panics.resume_at(m.cpu.reg("rip"))
        deadline = time.monotonic() + timeout if timeout is not None else None
        deterministic = m.clock.counter is not None
        if deterministic and max_instructions != 0:
            m.clock.counter.per_instruction(max_instructions is not None and max_instructions <= SHORT_RUN, "step")
        start = m.icount
        steps = 0
        m.control.interrupted.clear()
        try:
            while True:
                m.history.on_slice()
                m.hang.on_slice()
                next_input = m.inputs.deliver_due() if m.inputs.scheduled else None
                shadow = False
                if m.control.pending is None:
                    shadow = self._service_interrupts(deliver=interrupts)
                stop = self._take_stop()
                if stop is not None:
                    if stop.kind is StopKind.TRIPLE_FAULT:
                        m.cpu.shutdown = stop
                    return stop
                rip = m.cpu.reg("rip")
                if max_instructions is not None and not deterministic and steps >= 1:
                    return Stop(StopKind.INSTRUCTION_LIMIT, rip, m.icount)
                left = None if max_instructions is None else max_instructions - (m.icount - start)
                if left is not None and left <= 0 and deterministic:
                    return Stop(StopKind.INSTRUCTION_LIMIT, rip, m.icount)
                if deadline is not None and time.monotonic() >= deadline:
                    return Stop(StopKind.TIME_LIMIT, rip, m.icount)
                if stop_when is not None and stop_when():
                    return Stop(StopKind.INTERRUPTED, rip, m.icount, message="condition met")
                if m.cpu.halted and not interrupts:
                    return Stop(StopKind.HALTED, rip, m.icount, message="HLT, waiting for an interrupt (interrupts held off)")
                if m.cpu.halted:
                    stop = self._idle(next_input)
                    if stop is not None:
                        return stop
                    continue
                budget, soft = self._slice(left)
                if shadow and deterministic:
                    budget, soft = 1, False  # then the interrupt, at that exact boundary
                if next_input is not None:
                    to_input = max(1, (next_input - m.clock.now_ns()) // NS_PER_INSTRUCTION)
                    soft = soft and to_input > budget
                    budget = min(budget, to_input)
                self._emulate(budget, exact=max_instructions if not deterministic else None, soft=soft)
                steps += 1
        finally:
            if target is not None:
                m.breakpoints.remove_temporary(target)

    def _service_interrupts(self, deliver: bool = True) -> bool:
        """Ticks the devices and delivers a pending PIC interrupt if IF allows
        (and ``deliver``: else requests stay latched in the PIC). Returns True
        when one waits for the instruction in the STI shadow; with IF clear, the
        deterministic counter stops where IF may be set again (``irq_blocked``)."""
        m = self._m
        m.devices.bus.tick(m.clock.now_ns())
        counter = m.clock.counter
        if counter is not None:
            counter.irq_blocked = False
        if not deliver or not m.devices.pic.pending():
            return False
        if not m.cpu.reg("rflags") & _IF:
            if counter is not None:
                counter.irq_blocked = True
            return False
        rip = m.cpu.reg("rip")
        if not m.cpu.halted and self._after_sti(rip):
            return True  # the STI shadow: one more instruction first
        vector = m.devices.pic.acknowledge()
        m.cpu.halted = False
        m.hooks.deliver(vector, Source.EXTERNAL, None, rip)
        return False

    def _after_sti(self, rip: int) -> bool:
        try:
            return self._m.memory.read_linear(rip - 1, 1) == _STI
        except Exception:
            return False

    def _emulate(self, budget: int, exact: int | None = None, soft: bool = False) -> None:
        """Runs up to ``budget`` instructions (deterministic; exactly that many
        unless ``soft``: the slice may then end at a block start before) or a
        block budget (fast; ``exact`` instructions when given)."""
        m = self._m
        if m.watchpoints.pending:
            m.watchpoints.refresh()  # a pending watchpoint's walk may have changed with CR3
        rip = m.cpu.reg("rip")
        # A stop at an instruction-count limit leaves QEMU's old_exception set,
        # which would turn the next fault into a bogus #DF or triple fault.
        clear = lambda: m.context_fields.clear_old_exception(m.uc)  # noqa: E731
        clear()
        temporary = False
        if m.clock.counter is not None:
            limiter = m.clock.counter
            limiter.arm(limiter.count + budget)
        else:
            limiter, temporary = self._fast_limiter(exact)
        try:
            if temporary or m.clock.counter is None:
                with m.clock.running():
                    m.uc.emu_start(rip, _UNTIL)
            else:
                limiter.run(rip, _UNTIL, soft_limit=limiter.limit if soft else None, prepare=clear)
        except UcError as e:
            self._error(e)
        finally:
            if temporary:
                limiter.remove()
                m.uc.ctl_flush_tb()
            m.code_cache.after_slice()
        if m.control.watch_due:
            m.hooks.take_watch()
            return
        if m.control.pending is None and not m.control.interrupted.is_set() and not limiter.stopped:
            m.cpu.halted = True

    def _fast_limiter(self, exact: int | None):
        """The counter that ends a fast-mode slice, and whether it is temporary:
        the block counter, or for an exact instruction count an instruction
        counter (the watchpoints' one, or one installed for this slice)."""
        if not exact:
            if self.stopper is not None:
                self.stopper.arm(2**64 - 1)
            self._blocks.arm(self._blocks.count + FAST_SLICE_BLOCKS)
            return self._blocks, False
        self._blocks.arm(2**64 - 1)
        limiter, temporary = self.stopper, False
        if limiter is None:
            limiter, temporary = InstructionCounter(self._m.uc), True
            self._m.uc.ctl_flush_tb()  # blocks translated before the hook would not count
        limiter.arm(limiter.count + exact)
        return limiter, temporary

    def _error(self, error: UcError) -> None:
        m = self._m
        rip = m.cpu.reg("rip")
        m.control.request(Stop(StopKind.ERROR, rip, m.icount, message=f"{error} at {m.symbolize(rip)}"))

    def _take_stop(self) -> Stop | None:
        m = self._m
        stop = m.control.take()
        if stop is not None:
            return stop
        if m.control.interrupted.is_set():
            m.control.interrupted.clear()
            return Stop(StopKind.INTERRUPTED, m.cpu.reg("rip"), m.icount)
        return None

    def _slice(self, left: int | None) -> tuple[int, bool]:
        """The slice's instruction budget, and whether it is soft (only the slice
        length, no device event or instruction limit: it may end earlier)."""
        m = self._m
        now = m.clock.now_ns()
        event = m.devices.bus.next_event(now)
        budget = MAX_SLICE if event is None else max(1, (event - now) // NS_PER_INSTRUCTION)
        soft = event is None or budget > MAX_SLICE
        budget = min(budget, MAX_SLICE)
        history = m.history
        if soft and history.enabled and history.checkpoints:
            # Recording: the slice ends near the next checkpoint (taken between slices).
            budget = max(1, min(budget, history.checkpoints[-1].icount + history.interval - m.icount))
        if left is not None and left <= budget:
            return left, False
        return budget, soft

    def _idle(self, next_input: int | None = None) -> Stop | None:
        """The CPU is halted: skip to the next device event (or scheduled input),
        or report halting for good (a ``HANG`` when interrupts are disabled)."""
        m = self._m
        rip = m.cpu.reg("rip")
        if not m.cpu.reg("rflags") & _IF:
            return Stop(StopKind.HANG, rip, m.icount,
                        message="HLT with interrupts disabled: nothing but an NMI or a reset can wake the CPU")
        event = m.devices.bus.next_event(m.clock.now_ns())
        if next_input is not None and (event is None or next_input < event):
            event = next_input
        if event is None:
            return Stop(StopKind.HALTED, rip, m.icount, message="HLT and no device event to come")
        m.clock.skip_to(event)
        return None
