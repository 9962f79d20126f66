"""The hooks of a :class:`~.machine.Machine`: exceptions, invalid opcodes,
port I/O, device stops, breakpoints and watchpoints.

Contract: hooks run inside ``emu_start``. An exception reported by Unicorn is
delivered through the IDT (``delivery``) with the error code read from the
CPU context; a hook that must end the slice records a pending stop, and
stops the engine itself only from code and port hooks, never from a memory
hook (Unicorn would replay the store): a watchpoint instead lowers the
counter's limit so the engine stops before the next instruction.
"""

from __future__ import annotations

from .counter import InstructionCounter
from ..x86.vectors import has_error_code
from .delivery import Source, TripleFault
from .stops import Stop, StopKind
from .watchpoints import WATCH_NAMES, WatchHit


class Hooks:
    """Mixin of :class:`~.machine.Machine`: what Unicorn calls back."""

    def _request(self, kind: StopKind, **fields) -> None:
        if self._pending is None:
            self._pending = Stop(kind, self.reg("rip"), self.icount, **fields)
        self.uc.emu_stop()

    def _on_debug_exit(self, code: int) -> None:
        self._request(StopKind.KERNEL_EXIT, exit_code=code)

    def _on_reset(self) -> None:
        self._request(StopKind.RESET, message="the guest asked for a reset (8042 command 0xFE)")

    def _on_breakpoint(self, address: int) -> None:
        if self.counter is not None:
            self.counter.count -= 1  # counted, but stopped before it ran
        self._request(StopKind.BREAKPOINT, address=address)

    def _on_watch(self, hit: WatchHit) -> None:
        if self._watch_hit is not None:
            return
        self._watch_hit = hit
        stopper = self.counter or self._stopper
        stopper.limit = stopper.count  # stop before the next instruction

    def add_watchpoint(self, address: int, length: int, kind) -> None:
        """Watches ``length`` bytes at virtual ``address`` for writes, reads or both
        (in fast mode this installs the instruction counter while watchpoints exist)."""
        if self.counter is None and self._stopper is None:
            self._stopper = InstructionCounter(self.uc)
            self.uc.ctl_flush_tb()  # blocks translated before the hook would not count
        self.watchpoints.add(address, length, kind)

    def remove_watchpoint(self, address: int, length: int, kind) -> bool:
        """Removes a watchpoint; False if there was none."""
        removed = self.watchpoints.remove(address, length, kind)
        if self._stopper is not None and not len(self.watchpoints):
            self._stopper.remove()
            self._stopper = None
        return removed

    def _take_watch(self) -> None:
        hit, self._watch_hit = self._watch_hit, None
        if hit is not None and self._pending is None:
            self._pending = Stop(StopKind.WATCHPOINT, self.reg("rip"), self.icount, address=hit.address,
                                 access=WATCH_NAMES[hit.kind], message=f"{hit.access} of {hit.accessed:#x} by the instruction at {hit.rip:#x}")

    def interrupt(self) -> None:
        """Stops a running machine from another thread (Ctrl-C), at the next
        instruction (deterministic mode) or block (fast mode): never an
        asynchronous ``emu_stop``."""
        self._interrupt.set()
        (self.counter or self._blocks).stop_soon()

    def _deliver(self, vector: int, source: Source, error_code: int | None, rip: int) -> None:
        cr2 = self.reg("cr2") if vector == 14 else None
        try:
            entry = self._deliverer.deliver(vector, source, error_code, rip, cr2)
        except TripleFault as shutdown:
            self._request(StopKind.TRIPLE_FAULT, chain=tuple(shutdown.chain),
                          message="the CPU shut down")
            return
        if entry.vector in self.catch:
            self._request(StopKind.EXCEPTION, vector=entry.vector, chain=(entry,))

    def _on_intr(self, uc, vector: int, _data) -> None:
        software = vector in (3, 4) or vector >= 32
        pushes = has_error_code(vector) and not software
        error = self._fields.read_error_code(uc) if pushes else None
        self._fields.clear_old_exception(uc)
        if error is None and pushes:
            error = 0
        self._deliver(vector, Source.SOFTWARE if software else Source.EXCEPTION, error, self.reg("rip"))

    def _on_invalid(self, uc, _data) -> bool:
        self._deliver(6, Source.EXCEPTION, None, self.reg("rip"))
        return True

    def _on_in(self, uc, port: int, size: int, _data) -> int:
        return self.devices.bus.read(port, size)

    def _on_out(self, uc, port: int, size: int, value: int, _data) -> None:
        self.devices.bus.write(port, size, value)
