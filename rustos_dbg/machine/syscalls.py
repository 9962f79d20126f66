"""System calls as the CPU sees them: each ``int 0x80`` from ring 3, and its return to ring 3.

Contract: :class:`SyscallTrace` (``machine.syscalls``) records, while
:attr:`~SyscallTrace.enabled` (the default), into a bounded log (an
:class:`~.exlog.ExceptionLog`: recent entries in full, older calls counted
per number):

* a :class:`SyscallCall` when the kernel's system-call vector
  (:data:`SYSCALL_VECTOR`, 0x80: docs/kernel-structures.md §14) is delivered
  from CPL 3: its instruction count, number (rax), arguments (rdi, rsi, rdx),
  address space (CR3), return address (the RIP the frame saves) and
  ``detail``: what :attr:`~SyscallTrace.describe` returned for it (set by a
  higher layer, which knows the kernel: the process, the call's name, its
  decoded arguments; ``str(detail)`` is one line). Without a describer
  ``detail`` is None.
* a :class:`SyscallReturn` when an ``iretq`` in the kernel's code (a code hook
  on every ``48 cf`` of its executable segments; it fires only where an
  instruction starts) is about to return to CPL 3 in the address space of a
  pending call, at its return address: the result is rax then, the entry
  names the call by its log position. A return to that address space
  elsewhere means the call never returned (exit, kill, a fault); it is then
  dropped from the pending calls, with no return entry.

Recording only reads the CPU and memory: a run is the same, instruction for
instruction, with the trace on or off. The trace's log is machine history,
captured by :meth:`snapshot` (part of ``Machine.snapshot``) and put back by
:meth:`restore`.

Catching: :attr:`catch` (numbers) or :attr:`catch_all` stop the run at the
call's entry (a ``StopKind.SYSCALL`` stop, phase "entry", after the
delivery: the handler has not run yet); with :attr:`catch_returns` also at
its return (phase "return", before the ``iretq``). Catching works only while
the trace is enabled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from operator import attrgetter
from typing import Any, Callable, Optional

from unicorn import UC_HOOK_CODE

from .exlog import ExceptionLog

#: The kernel's system-call gate (docs/kernel-structures.md §14).
SYSCALL_VECTOR = 0x80
#: Entries kept in full.
DEFAULT_KEEP = 2048
_IRETQ = re.compile(rb"\x48\xcf")
_EXECUTABLE = 0x1
_MASK = (1 << 64) - 1


@dataclass(frozen=True)
class SyscallCall:
    """A system call entered from ring 3."""

    icount: int
    number: int
    args: tuple[int, int, int]    #: rdi, rsi, rdx
    cr3: int
    rip: int                      #: where it returns (after the ``int 0x80``)
    detail: Any = None            #: the describer's model (None without one)

    @property
    def vector(self) -> int:
        """The key the bounded log counts folded calls by: the number."""
        return self.number


@dataclass(frozen=True)
class SyscallReturn:
    """The return to ring 3 of the call at log position ``call``."""

    icount: int
    call: int
    result: int                   #: rax as returned (unsigned; negative values are errors)

    @property
    def vector(self) -> None:
        """Returns are not counted when folded."""
        return None


@dataclass(frozen=True)
class SyscallTraceState:
    """The trace at one moment (part of a machine snapshot)."""

    log: Any
    pending: tuple


def iretq_sites(segments) -> list[int]:
    """Addresses where an ``iretq`` (``48 cf``) may start in executable ``segments``."""
    return [seg.vaddr + m.start() for seg in segments if seg.flags & _EXECUTABLE
            for m in _IRETQ.finditer(seg.data)]


class SyscallTrace:
    """The system calls of one machine (see the module contract)."""

    def __init__(self, machine, keep: int = DEFAULT_KEEP) -> None:
        """A trace of ``machine``'s system calls, enabled."""
        self._m = machine
        #: Calls and returns, in order (bounded).
        self.log = ExceptionLog(keep, fold_key=attrgetter("vector"))
        #: ``describe(call) -> detail`` at each call (see the module contract).
        self.describe: Optional[Callable[[SyscallCall], Any]] = None
        #: Numbers whose calls stop the run; :attr:`catch_all` stops at every call.
        self.catch: set[int] = set()
        self.catch_all = False
        #: Also stop at the returns of caught calls.
        self.catch_returns = False
        self._pending: dict[int, tuple[int, int]] = {}   # cr3 -> (log position, return rip)
        self._hooks: list[int] = []
        self.enable()

    # --- switching ---------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        """Whether calls are recorded (and can be caught)."""
        return bool(self._hooks)

    def enable(self) -> None:
        """Starts recording (hooks the kernel's ``iretq`` sites)."""
        if not self._hooks:
            uc = self._m.uc
            self._hooks = [uc.hook_add(UC_HOOK_CODE, self._on_iretq, None, a, a)
                           for a in iretq_sites(self._m.image.segments)]

    def disable(self) -> None:
        """Stops recording; pending calls are forgotten."""
        for hook in self._hooks:
            self._m.uc.hook_del(hook)
        self._hooks = []
        self._pending.clear()

    def catches(self, number: int) -> bool:
        """Whether a call ``number`` stops the run."""
        return self.catch_all or number in self.catch

    # --- recording ---------------------------------------------------------------------

    def on_delivery(self, vector: int, cpl: int, rip: int):
        """A delivery of ``vector`` from ``cpl`` succeeded, the frame saving ``rip``:
        records a call; returns the stop to request (a caught call) or None."""
        if vector != SYSCALL_VECTOR or cpl != 3 or not self._hooks:
            return None
        m = self._m
        reg = m.cpu.reg
        call = SyscallCall(m.icount, reg("rax"), (reg("rdi"), reg("rsi"), reg("rdx")), reg("cr3"), rip)
        if self.describe is not None:
            try:
                call = replace(call, detail=self.describe(call))
            except Exception as e:  # a describer bug must not break the run
                call = replace(call, detail=f"? ({type(e).__name__}: {e})")
        position = len(self.log)
        self.log.append(call)
        self._pending[call.cr3] = (position, rip)
        return ("entry", call) if self.catches(call.number) else None

    def _on_iretq(self, uc, address: int, _size, _data) -> None:
        if not self._pending:
            return
        m = self._m
        cr3 = m.cpu.reg("cr3")
        pending = self._pending.get(cr3)
        if pending is None:
            return
        frame = m.memory.read_virtual(m.cpu.reg("rsp"), 16)
        rip, cs = int.from_bytes(frame[:8], "little"), int.from_bytes(frame[8:], "little")
        if cs & 3 != 3:
            return
        del self._pending[cr3]
        position, expected = pending
        if rip != expected:
            return                       # that call never returned (see the contract)
        result = m.cpu.reg("rax") & _MASK
        self.log.append(SyscallReturn(m.icount, position, result))
        if self.catch_returns and not m.control.quiet:
            try:
                call = self.log[position]
            except IndexError:
                return
            if self.catches(call.number):
                self._m.hooks.request_syscall("return", call, result, before=address)

    # --- reading -------------------------------------------------------------------------

    def calls(self, last: Optional[int] = None) -> list[tuple[int, SyscallCall, Optional[SyscallReturn]]]:
        """The kept calls, oldest first (the ``last`` ones only), each as
        ``(position, call, its return or None)``."""
        calls, returns = [], {}
        start = self.log.first
        for offset, entry in enumerate(self.log):
            if isinstance(entry, SyscallReturn):
                returns[entry.call] = entry
            else:
                calls.append((start + offset, entry))
        if last is not None:
            calls = calls[-last:] if last > 0 else []
        return [(pos, call, returns.get(pos)) for pos, call in calls]

    def pending(self, cr3: int) -> bool:
        """Whether the address space ``cr3`` has a call in progress."""
        return cr3 in self._pending

    # --- state ---------------------------------------------------------------------------

    def snapshot(self) -> SyscallTraceState:
        """The log and the pending calls now."""
        return SyscallTraceState(self.log.snapshot(), tuple(sorted(self._pending.items())))

    def restore(self, state: SyscallTraceState) -> None:
        """Puts the log and the pending calls back to ``state``."""
        self.log.restore(state.log)
        self._pending = dict(state.pending)
