"""Why the machine stopped: one frozen dataclass per kind of stop.

``Machine.run`` and ``Machine.step`` return a :class:`Stop`. Its ``kind``
(a :class:`StopKind`) says why; the fields that matter for that kind are set.
``describe()`` gives the line a user sees; a PANIC stop carries a
:class:`PanicReport`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class StopKind(Enum):
    """The reasons a run ends."""

    KERNEL_EXIT = "kernel-exit"          # isa-debug-exit written
    BREAKPOINT = "breakpoint"            # an execution breakpoint or `until` target
    WATCHPOINT = "watchpoint"            # a watched address was accessed
    EXCEPTION = "exception"              # a caught exception vector is being delivered
    TRIPLE_FAULT = "triple-fault"        # the CPU shut down
    HALTED = "halted"                    # HLT with interrupts off: halted for good
    RESET = "reset"                      # the guest asked for a reset (8042 0xFE)
    INSTRUCTION_LIMIT = "instruction-limit"
    TIME_LIMIT = "time-limit"
    INTERRUPTED = "interrupted"          # Machine.interrupt(), e.g. Ctrl-C
    STEP = "step"                        # a single step completed
    ERROR = "error"                      # the emulator could not go on
    HISTORY_START = "history-start"      # going back reached the beginning of the recorded history
    HANG = "hang"                        # no progress: a deadlock, an IRQ without EOI, interrupts off too long
    SANITIZER = "sanitizer"              # the heap sanitizer found a bad access or free (``detail``: a HeapError)
    IRQ_UNSAFE_LOCK = "irq-unsafe-lock"  # a lock taken with interrupts on and in an IRQ handler (``detail``)
    SYSCALL = "syscall"                  # a caught system call entered (or returns): machine.syscalls
    PANIC = "panic"                      # the kernel's panic handler was entered (``machine.catch_panic``)


@dataclass(frozen=True)
class PanicReport:
    """What a PANIC stop carries: the panic's source location (``file`` None when
    it could not be read), its message as Rust would format it, and the
    backtrace at the handler's entry as ``(pc, symbol)`` pairs, innermost first."""

    file: str | None
    line: int
    column: int
    message: str
    backtrace: tuple = ()

    def headline(self) -> str:
        """``panic at FILE:LINE: MESSAGE``."""
        where = f"{self.file}:{self.line}" if self.file is not None else "an unknown location"
        return f"panic at {where}: {self.message}"


@dataclass(frozen=True)
class Stop:
    """A stop of the machine, at instruction count ``icount`` and address ``rip``."""

    kind: StopKind
    rip: int
    icount: int
    exit_code: int | None = None         # KERNEL_EXIT: (value << 1) | 1, as QEMU's status
    address: int | None = None           # BREAKPOINT / WATCHPOINT: the address
    access: str | None = None            # WATCHPOINT: "write", "read" or "access"
    vector: int | None = None            # EXCEPTION: the vector
    chain: tuple = field(default=())     # TRIPLE_FAULT / EXCEPTION: the deliveries involved
    message: str = ""
    old_value: int | None = None         # WATCHPOINT: the watched range before the access (the value read, for a read)
    new_value: int | None = None         # WATCHPOINT: the watched range after the accessing instruction
    panic: PanicReport | None = None     # PANIC: location, message and backtrace
    syscall: int | None = None           # SYSCALL: the call's number
    phase: str | None = None             # SYSCALL: "entry" or "return"
    detail: object = field(default=None, compare=False)  # SANITIZER / IRQ_UNSAFE_LOCK: the verdict

    def describe(self) -> str:
        """One line for the user (the fast mode counts no instructions: no count then)."""
        where = f"at {self.rip:#x}" + (f" after {self.icount} instructions" if self.icount else "")
        if self.kind is StopKind.KERNEL_EXIT:
            return f"kernel exit with status {self.exit_code} {where}"
        if self.kind is StopKind.TRIPLE_FAULT:
            first = self.chain[0] if self.chain else None
            cause = f": {first.reason} while delivering {first.vector_name}" if first is not None else ""
            return f"triple fault {where}{cause} ({len(self.chain)} deliveries in the chain)"
        if self.kind is StopKind.WATCHPOINT:
            return f"watchpoint ({self.access}) on {self.address:#x} {where}"
        if self.kind is StopKind.PANIC and self.panic is not None:
            return f"{self.panic.headline()} ({where})"
        if self.kind is StopKind.SYSCALL:
            verb = "returns" if self.phase == "return" else "entered"
            return f"system call {self.message or self.syscall} {verb} {where}"
        if self.kind is StopKind.EXCEPTION:
            return f"exception {self.vector} caught {where}" + (f": {self.message}" if self.message else "")
        if self.kind in (StopKind.SANITIZER, StopKind.IRQ_UNSAFE_LOCK):
            return f"{self.message}; stopped {where}"
        text = f"{self.kind.value} {where}"
        return text + (f": {self.message}" if self.message else "")
