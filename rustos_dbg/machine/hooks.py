"""What Unicorn calls back during a run: exceptions, invalid opcodes, port I/O,
device stops, breakpoints and watchpoints.

Contract: :class:`EngineHooks` installs the hooks on the machine's engine.
They run inside ``emu_start``. An exception reported by Unicorn is delivered
through the IDT (``delivery``) with the error code read from the CPU context;
a hook that must end the slice requests a stop in the machine's
:class:`~.control.RunControl` and stops the engine itself only from code and
port hooks, never from a memory hook (Unicorn would replay the store): a
watchpoint instead lowers the instruction counter's limit so the engine stops
before the next instruction. After every port access the slice is shortened
to the devices' next event if that came closer.
"""

from __future__ import annotations

from unicorn import UC_HOOK_INSN, UC_HOOK_INSN_INVALID, UC_HOOK_INTR
from unicorn.x86_const import UC_X86_INS_IN, UC_X86_INS_OUT

from ..x86.vectors import PAGE_FAULT, has_error_code
from .clock import NS_PER_INSTRUCTION
from .delivery import Outcome, Source, TripleFault
from .syscalls import SYSCALL_VECTOR
from .stops import Stop, StopKind
from .watchpoints import WATCH_NAMES

_IF = 1 << 9


class EngineHooks:
    """The Unicorn hooks of one machine."""

    def __init__(self, machine) -> None:
        """Installs the hooks on ``machine.uc``; they act on the machine's parts."""
        self._m = machine
        uc = machine.uc
        uc.hook_add(UC_HOOK_INTR, self._on_intr)
        uc.hook_add(UC_HOOK_INSN_INVALID, self._on_invalid)
        uc.hook_add(UC_HOOK_INSN, self._on_in, None, 1, 0, UC_X86_INS_IN)
        uc.hook_add(UC_HOOK_INSN, self._on_out, None, 1, 0, UC_X86_INS_OUT)

    def request(self, kind: StopKind, **fields) -> None:
        """Ends the slice with a stop of ``kind`` (from a code or port hook)."""
        m = self._m
        m.control.request(Stop(kind, m.cpu.reg("rip"), m.icount, **fields))
        m.uc.emu_stop()

    def on_debug_exit(self, code: int) -> None:
        """isa-debug-exit was written."""
        self.request(StopKind.KERNEL_EXIT, exit_code=code)

    def on_reset(self) -> None:
        """The 8042 was told to reset the CPU."""
        self.request(StopKind.RESET, message="the guest asked for a reset (8042 command 0xFE)")

    def on_breakpoint(self, address: int) -> None:
        """A breakpoint is reached, before its instruction runs."""
        if self._m.control.quiet:
            return
        counter = self._m.clock.counter
        if counter is not None:
            counter.before(address)  # stopped before it runs
        self.request(StopKind.BREAKPOINT, address=address)

    def on_watch(self) -> None:
        """A watched range was accessed, or a pending watchpoint's page-table entry
        written: settle it (:meth:`take_watch`) before the next instruction."""
        m = self._m
        m.control.watch_due = True
        stopper = m.clock.counter or m.runner.stopper
        stopper.limit = stopper.count  # stop before the next instruction

    def take_watch(self) -> None:
        """Once the instruction completed: the watchpoints settle (conditions,
        pending ones mapped now), and a hit to report becomes the pending stop."""
        m = self._m
        m.control.watch_due = False
        hit = m.watchpoints.settle()
        for verdict in (m.sanitizer.settle(), m.lock_tracker.settle()):
            if verdict is not None and not m.control.quiet:
                m.control.request(verdict)
                return
        if hit is not None and not m.control.quiet:
            m.control.request(Stop(StopKind.WATCHPOINT, m.cpu.reg("rip"), m.icount, address=hit.address,
                                   access=WATCH_NAMES[hit.kind],
                                   message=f"{hit.access} of {hit.accessed:#x} by the instruction at {hit.rip:#x}",
                                   old_value=hit.old, new_value=hit.new))

    def deliver(self, vector: int, source: Source, error_code: int | None, rip: int) -> None:
        """Delivers an event through the IDT; a triple fault or a caught vector stops."""
        m = self._m
        cr2 = m.cpu.reg("cr2") if vector == PAGE_FAULT else None
        cpl = m.cpu.reg("cs") & 3 if vector == SYSCALL_VECTOR else 0
        try:
            entry = m.deliverer.deliver(vector, source, error_code, rip, cr2)
        except TripleFault as shutdown:
            self.request(StopKind.TRIPLE_FAULT, chain=tuple(shutdown.chain), message="the CPU shut down")
            return
        if entry.vector in m.catch and not m.control.quiet:
            self.request(StopKind.EXCEPTION, vector=entry.vector, chain=(entry,))
        elif cpl == 3 and entry.outcome is Outcome.DELIVERED:
            caught = m.syscalls.on_delivery(entry.vector, cpl, entry.rip)
            if caught is not None and not m.control.quiet:
                self.request_syscall(*caught)

    def request_syscall(self, phase: str, call, result: int | None = None, before: int | None = None) -> None:
        """Ends the slice at a caught system call (``phase`` "entry" after its delivery,
        "return" before the ``iretq`` at ``before``, which is then not counted)."""
        counter = self._m.clock.counter
        if before is not None and counter is not None:
            counter.before(before)
        message = str(call.detail) if call.detail is not None else f"number {call.number}"
        if result is not None:
            message += f" = {result - (1 << 64) if result >> 63 else result}"
        self.request(StopKind.SYSCALL, syscall=call.number, phase=phase, message=message)

    def _on_intr(self, uc, vector: int, _data) -> None:
        m = self._m
        if m.clock.counter is not None:
            m.clock.counter.settle()  # the block is left here: the exact count, before rip moves
        software = vector in (3, 4) or vector >= 32
        pushes = has_error_code(vector) and not software
        error = m.context_fields.read_error_code(uc) if pushes else None
        m.context_fields.clear_old_exception(uc)
        if error is None and pushes:
            error = 0
        self.deliver(vector, Source.SOFTWARE if software else Source.EXCEPTION, error, m.cpu.reg("rip"))

    def _on_invalid(self, uc, _data) -> bool:
        if self._m.clock.counter is not None:
            self._m.clock.counter.settle()
        self.deliver(6, Source.EXCEPTION, None, self._m.cpu.reg("rip"))
        return True

    def _on_in(self, uc, port: int, size: int, _data) -> int:
        value = self._m.devices.bus.read(port, size)
        self._end_slice_by_next_event()
        return value

    def _on_out(self, uc, port: int, size: int, value: int, _data) -> None:
        self._m.devices.bus.write(port, size, value)
        self._end_slice_by_next_event()

    def _end_slice_by_next_event(self) -> None:
        """A port access may bring a device event closer than the slice's end (a
        reprogrammed timer, room for a waiting serial byte): the slice then ends
        at that event exactly, so the event's time never depends on how the run
        was sliced (breakpoints, steps, gdb)."""
        m = self._m
        counter = m.clock.counter
        if counter is None:
            return
        if m.devices.pic.pending() and not counter.irq_blocked:
            # An interrupt request appeared (a line raised, unmasked, an EOI): it is
            # deliverable right after this instruction, or once IF is set again.
            if m.cpu.reg("rflags") & _IF:
                counter.limit = counter.count
                return
            counter.block_irqs()
        now = m.clock.now_ns()
        event = m.devices.bus.next_event(now)
        if event is not None:
            limit = counter.count + max(0, event - now) // NS_PER_INSTRUCTION
            if limit < counter.limit:
                counter.limit = limit
